"""Prometheus metrics (`GET /metrics`), one registry per app (several apps may run in
one process: tests, the desktop app's restarts), fed by the usage recorder as records
are committed, so `/metrics` counts what `/usage` counts (since this process started).

Labels: endpoint, provider, model, surface, client, key, status, kind. Label values a
caller chooses (model, client, key, endpoint) are capped: past `_CAP` distinct values
a new one is counted as `other`, so a client inventing names cannot grow the series
without bound.
"""

from __future__ import annotations

from typing import NamedTuple

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from connector.services.monitor import MonitorHub
from connector.services.recorder import UsageEntry

__all__ = ["CONTENT_TYPE_LATEST", "PrometheusMetrics"]

LABELS = ("endpoint", "provider", "model", "surface", "client", "key", "status", "kind")
OTHER = "other"
_CAP = {"endpoint": 32, "model": 64, "client": 64, "key": 128}
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# The connector's own time is in milliseconds (measured here: about 2 ms at p50).
_OVERHEAD_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


class _Bounded:
    """Caps the distinct values of each label."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {name: set() for name in _CAP}

    def __call__(self, label: str, value: str) -> str:
        seen = self._seen.get(label)
        if seen is None or value in seen:
            return value
        if len(seen) >= _CAP[label]:
            return OTHER
        seen.add(value)
        return value


class _Children(NamedTuple):
    requests: Counter
    prompt_tokens: Counter
    completion_tokens: Counter
    cost: Counter
    saved: Counter
    latency: Histogram
    ttft: Histogram
    overhead: Histogram


class PrometheusMetrics:
    def __init__(self, hub: MonitorHub) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self._bound = _Bounded()
        self.requests = Counter("connector_requests", "Requests finished.", LABELS, registry=r)
        self.prompt_tokens = Counter(
            "connector_prompt_tokens", "Input (prompt) tokens.", LABELS, registry=r
        )
        self.completion_tokens = Counter(
            "connector_completion_tokens", "Output (completion) tokens.", LABELS, registry=r
        )
        self.cost = Counter("connector_cost_usd", "Cloud cost in USD.", LABELS, registry=r)
        self.saved = Counter(
            "connector_saved_usd",
            "What local requests would have cost on the reference cloud model, in USD.",
            LABELS,
            registry=r,
        )
        self.latency = Histogram(
            "connector_request_duration_seconds",
            "Request latency, start to end.",
            LABELS,
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "connector_time_to_first_token_seconds",
            "Time to the first token.",
            LABELS,
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "connector_overhead_seconds",
            "The connector's own time per request (not spent waiting for the upstream).",
            LABELS,
            buckets=_OVERHEAD_BUCKETS,
            registry=r,
        )
        in_flight = Gauge("connector_requests_in_flight", "Requests running now.", registry=r)
        in_flight.set_function(lambda: hub.in_flight)
        # Each label set's children, looked up once: `labels()` costs about 10 us a call
        # and a record touches eight metrics. As bounded as the series themselves.
        self._children: dict[tuple[str, ...], _Children] = {}

    def _of(self, labels: tuple[str, ...]) -> _Children:
        children = self._children.get(labels)
        if children is None:
            children = self._children[labels] = _Children(
                requests=self.requests.labels(*labels),
                prompt_tokens=self.prompt_tokens.labels(*labels),
                completion_tokens=self.completion_tokens.labels(*labels),
                cost=self.cost.labels(*labels),
                saved=self.saved.labels(*labels),
                latency=self.latency.labels(*labels),
                ttft=self.ttft.labels(*labels),
                overhead=self.overhead.labels(*labels),
            )
        return children

    def observe(self, entry: UsageEntry, _record_id: int = 0) -> None:
        """One committed usage record (a recorder `on_committed` listener)."""
        b = self._bound
        endpoint = getattr(entry, "endpoint", None) or entry.provider
        labels = (
            b("endpoint", str(endpoint)),
            entry.provider,
            b("model", entry.model),
            entry.surface,
            b("client", entry.client),
            b("key", entry.key_id or "none"),
            entry.status,
            entry.kind,
        )
        c = self._of(labels)
        c.requests.inc()
        if entry.prompt_tokens:
            c.prompt_tokens.inc(entry.prompt_tokens)
        if entry.completion_tokens:
            c.completion_tokens.inc(entry.completion_tokens)
        if entry.cost_usd:
            c.cost.inc(entry.cost_usd)
        saved = _saved(entry)
        if saved:
            c.saved.inc(saved)
        c.latency.observe(entry.latency_ms / 1000)
        if entry.ttft_ms is not None:
            c.ttft.observe(entry.ttft_ms / 1000)
        if entry.overhead_ms is not None:
            c.overhead.observe(entry.overhead_ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _saved(entry: UsageEntry) -> float:
    """What `/usage` counts as saved: the record's own figure, priced when it was
    written by its endpoint's pricing (connector/services/pricing.py)."""
    return entry.saved_usd
