"""Prometheus metrics of one gateway process (its own registry: no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["GatewayMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                    60, 120)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ciyuan_requests", "Requests by endpoint, model and status",
                                ["endpoint", "model", "status"], registry=self.registry)
        self.tokens = Counter("ciyuan_tokens", "Native tokens by model and category",
                              ["model", "category"], registry=self.registry)
        self.standard_tokens = Counter("ciyuan_standard_tokens",
                                       "Standard tokens by model and direction",
                                       ["model", "direction"], registry=self.registry)
        self.cost = Counter("ciyuan_cost", "Charged amount by model and currency",
                            ["model", "currency"], registry=self.registry)
        self.latency = Histogram("ciyuan_request_seconds", "End-to-end request latency",
                                 ["endpoint", "stream"], buckets=_LATENCY_BUCKETS,
                                 registry=self.registry)
        self.overhead = Histogram("ciyuan_overhead_seconds",
                                  "Time spent in the gateway outside the upstream call",
                                  ["endpoint"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.upstream_errors = Counter("ciyuan_upstream_errors", "Upstream failures",
                                       ["upstream", "kind"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
