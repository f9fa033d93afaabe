"""Render the CLI reference (docs/reference/cli.md) from the commands themselves.

    python -m ciyuan.cli.docgen > docs/reference/cli.md

A test regenerates it and fails when the committed file is stale.
"""

from __future__ import annotations

import click

from ciyuan.cli.main import cli

__all__ = ["render"]


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def render() -> str:
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands by `python -m ciyuan.cli.docgen`; do not edit by hand.",
        "",
    ]
    for path, command in _walk(cli, ["ciyuan"]):
        info_name = " ".join(path)
        ctx = click.Context(command, info_name=info_name, terminal_width=100,
                            max_content_width=100, help_option_names=["-h", "--help"])
        lines += [f"## `{info_name}`", "", "```", command.get_help(ctx), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
