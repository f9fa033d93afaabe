"""Tokens per kWh and utilization of the deployments an operator declares.

ciyuan measures tokens, not watts: the power and throughput of a deployment are what its
operator declares in ``ciyuan.toml``, together with the boundary the power is measured at::

    [[deployments]]
    name = "h100-node-1"
    models = ["qwen-plus"]
    power_kw = "10.2"          # measured at the boundary below
    tokens_per_second = "12000" # sustained throughput at that power
    boundary = "facility"      # accelerator | node | facility
    pue = "1.3"                # facility only: facility power = IT power x PUE

Tokens per kWh = tokens per second × 3,600 / kW at the boundary (for ``facility`` the declared
IT power is multiplied by the PUE first). Utilization = the native tokens the deployment's
models served in the month ÷ what it could serve running flat out for the whole month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ciyuan.core.errors import ConfigError
from ciyuan.stats.cube import Cube
from ciyuan.stats.partitions import month_bounds

__all__ = ["BOUNDARIES", "Deployment", "energy_rows", "load_deployments"]

BOUNDARIES = ("accelerator", "node", "facility")


@dataclass(frozen=True)
class Deployment:
    name: str
    models: tuple[str, ...]
    power_kw: Decimal
    tokens_per_second: Decimal
    boundary: str
    pue: Decimal = Decimal(1)

    @property
    def tokens_per_kwh(self) -> Decimal:
        power = self.power_kw * (self.pue if self.boundary == "facility" else 1)
        return self.tokens_per_second * 3600 / power


def _positive(raw: Mapping[str, Any], key: str, where: str) -> Decimal:
    try:
        value = Decimal(str(raw[key]))
    except KeyError:
        raise ConfigError(f"{where}: {key} is required", field=key) from None
    except InvalidOperation:
        raise ConfigError(f"{where}: {key} must be a number, e.g. \"10.5\"", field=key) from None
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"{where}: {key} must be positive", field=key)
    return value


def load_deployments(config: Mapping[str, Any]) -> list[Deployment]:
    """The ``[[deployments]]`` tables of ciyuan.toml, checked."""
    raw_list = config.get("deployments", [])
    if not isinstance(raw_list, list):
        raise ConfigError("ciyuan.toml: deployments must be an array of tables "
                          "([[deployments]])", field="deployments")
    out = []
    for i, raw in enumerate(raw_list):
        where = f"ciyuan.toml [[deployments]] #{i + 1}"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            raise ConfigError(f"{where}: needs name = \"...\"", field="name")
        models = raw.get("models", [])
        if not isinstance(models, list) or not models or not all(
                isinstance(m, str) for m in models):
            raise ConfigError(f"{where}: models must be a non-empty list of model ids",
                              field="models")
        boundary = raw.get("boundary")
        if boundary not in BOUNDARIES:
            raise ConfigError(f"{where}: boundary must be one of {', '.join(BOUNDARIES)}",
                              field="boundary")
        pue = _positive(raw, "pue", where) if boundary == "facility" else Decimal(1)
        if pue < 1:
            raise ConfigError(f"{where}: pue is at least 1", field="pue")
        out.append(Deployment(raw["name"], tuple(models), _positive(raw, "power_kw", where),
                              _positive(raw, "tokens_per_second", where), str(boundary), pue))
    return out


def energy_rows(deployments: Sequence[Deployment], cube: Cube, month: str,
                flag: str) -> list[list[object]]:
    start, end = month_bounds(month)
    seconds = Decimal((end - start).total_seconds())
    rows: list[list[object]] = []
    for d in deployments:
        placeholders = ", ".join("?" * len(d.models))
        ((served,),) = cube.query(
            f"SELECT coalesce(sum(native_tokens), 0) FROM cube WHERE month = ? "
            f"AND model IN ({placeholders})", [month, *d.models])
        capacity = d.tokens_per_second * seconds
        utilization = Decimal(str(served)) / capacity
        rows.append([d.name, d.boundary, ", ".join(d.models),
                     round(float(d.tokens_per_kwh), 1), round(float(utilization), 6), flag])
    return rows
