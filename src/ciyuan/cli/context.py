"""What every command gets: settings built once, and lazily built services."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import click
from rich.console import Console

from ciyuan.catalog.models import Catalog, load_catalog
from ciyuan.core.errors import CiyuanError, InputError, NotFoundError
from ciyuan.measure.measurer import Measurer
from ciyuan.measure.registry import TokenizerRegistry, user_vocabularies
from ciyuan.settings import Settings, load_settings

__all__ = ["App", "emit_json", "handle_errors", "pass_app"]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class App:
    """Per-invocation state: the flags of the root command and the services built from them."""

    flags: dict[str, object | None] = field(default_factory=dict)
    console: Console = field(default_factory=lambda: Console(stderr=False))
    err: Console = field(default_factory=lambda: Console(stderr=True))

    @functools.cached_property
    def settings(self) -> Settings:
        return load_settings(self.flags, os.environ)

    @functools.cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.settings.config)

    @functools.cached_property
    def registry(self) -> TokenizerRegistry:
        registry = TokenizerRegistry()
        for spec in user_vocabularies(self.settings.section("tokenizers")):
            registry.register(spec)
        return registry

    @functools.cached_property
    def measurer(self) -> Measurer:
        return Measurer(self.catalog, self.registry, threads=self.settings.threads)


pass_app = click.make_pass_decorator(App, ensure=True)


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (non-ASCII kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn CiyuanError into one clear line and an exit status; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CiyuanError as exc:
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            sys.exit(2 if isinstance(exc, (InputError, NotFoundError)) else 1)

    return wrapper
