"""The root ``ciyuan`` command; each group lives in its own module and registers here."""

from __future__ import annotations

import click

from ciyuan import __version__
from ciyuan.cli.budgets import budgets_group
from ciyuan.cli.context import App
from ciyuan.cli.count import count_command
from ciyuan.cli.demo import demo_command
from ciyuan.cli.evaluate import eval_group, quality_command
from ciyuan.cli.identity import keys_group, tenants_group
from ciyuan.cli.invoice import invoice_command
from ciyuan.cli.ledger import ledger_group
from ciyuan.cli.models import models_command
from ciyuan.cli.outcomes import outcomes_command
from ciyuan.cli.price import price_command
from ciyuan.cli.receipt import receipt_group
from ciyuan.cli.reconcile import reconcile_command
from ciyuan.cli.report import report_command
from ciyuan.cli.serve import serve_command
from ciyuan.cli.sim import sim_provider_command
from ciyuan.cli.tokenizers import calibrate_command, tokenizers_command
from ciyuan.cli.usage import usage_command

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ciyuan")
@click.option("--db", "db_url", metavar="URL", help="Database URL (env CIYUAN_DB; default "
              "sqlite:///./ciyuan.db).")
@click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="ciyuan.toml to read (env CIYUAN_CONFIG; default ./ciyuan.toml if present).")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, config_path: str | None) -> None:
    """词元 ciyuan: measure, price, meter, settle and report LLM tokens.

    Run `ciyuan COMMAND --help` for the options of a command.
    """
    ctx.obj = App(flags={"db_url": db_url, "config_path": config_path})


cli.add_command(count_command)
cli.add_command(tokenizers_command)
cli.add_command(calibrate_command)
cli.add_command(demo_command)
cli.add_command(models_command)
cli.add_command(price_command)
cli.add_command(tenants_group)
cli.add_command(keys_group)
cli.add_command(receipt_group)
cli.add_command(sim_provider_command)
cli.add_command(serve_command)
cli.add_command(usage_command)
cli.add_command(outcomes_command)
cli.add_command(invoice_command)
cli.add_command(reconcile_command)
cli.add_command(report_command)
cli.add_command(eval_group)
cli.add_command(quality_command)
cli.add_command(budgets_group)
cli.add_command(ledger_group)


def main() -> None:
    cli(prog_name="ciyuan")
