"""Which upstream serves a public model name, and the fallbacks to try after it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ciyuan.catalog.models import Catalog
from ciyuan.core.errors import UnknownModelError, closest
from ciyuan.gateway.upstream import Route, Upstream

__all__ = ["Router"]


class Router:
    def __init__(self, catalog: Catalog, fallbacks: Mapping[str, Sequence[str]] | None = None):
        self.catalog = catalog
        self._routes: dict[str, list[Route]] = {}
        self._fallbacks = {k: list(v) for k, v in (fallbacks or {}).items()}

    def add(self, upstream: Upstream, served: Mapping[str, str],
            price_as: Mapping[str, str]) -> None:
        """Serve ``served`` (public name → upstream's name) through ``upstream``."""
        for public, upstream_model in served.items():
            basis = price_as.get(public, public)
            catalog_model = self.catalog.get(basis).id if basis in self.catalog else basis
            self._routes.setdefault(public, []).append(
                Route(upstream, upstream_model, catalog_model))

    def models(self) -> list[str]:
        return sorted(self._routes)

    def routes(self, model: str) -> list[Route]:
        """Routes for ``model`` in order: its own upstreams, then its fallbacks' routes."""
        if model not in self._routes:
            alias = self.catalog.get(model).id if model in self.catalog else None
            if alias is None or alias not in self._routes:
                suggestions = closest(model, self._routes)
                hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
                raise UnknownModelError(
                    f"model {model!r} is not served by this gateway.{hint} GET /v1/models "
                    f"lists the served models.", model=model, suggestions=suggestions)
            model = alias
        found = list(self._routes[model])
        for fallback in self._fallbacks.get(model, ()):
            found.extend(self._routes.get(fallback, ()))
        return found

    def upstreams(self) -> Iterable[Upstream]:
        seen: dict[str, Upstream] = {}
        for routes in self._routes.values():
            for route in routes:
                seen.setdefault(route.upstream.name, route.upstream)
        return seen.values()
