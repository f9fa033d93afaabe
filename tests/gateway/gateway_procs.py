"""Real processes for end-to-end tests: the gateway on loopback, and CLI helpers (shared with
the other test packages in ``tests/sim_gateway.py``)."""

from __future__ import annotations

from ciyuan.gateway.process import GatewayProcess
from sim_gateway import run_cli, run_cli_any, tenant_and_key

__all__ = ["GatewayProcess", "run_cli", "run_cli_any", "tenant_and_key"]
