"""Prometheus metrics of one hall process (prometheus_client), served by the web app at ``/metrics``.

Counted as they happen: ``masterhall_http_requests_total{method, area, status}`` (``area``:
``api``, ``v1``, ``page``, ``static``, ``health``), ``masterhall_turns_total{backend, server,
finish_reason}``, ``masterhall_completion_tokens_total{backend, server}``, and the histograms
``masterhall_ttft_seconds{backend, server}`` (time to first token) and
``masterhall_tokens_per_second{backend, server}`` (decoding speed of each turn). Read at each
scrape: ``masterhall_backend_queue_depth{backend, server}`` (requests in flight on a pool's
server, from this process), ``masterhall_backend_server_up{backend, server}`` (its health check),
``masterhall_active_turns`` (answers this process is generating) and ``masterhall_redis_up``
(1 ok, 0 down; absent without Redis). ``server`` is the base URL of the pool server that answered,
else the backend's name.

Each process has its own numbers (a scraper asks every process; with ``serve --workers N`` on one
port, a scrape reaches one worker at a time — run one process per port to see them all).
"""

from __future__ import annotations

from typing import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
TPS_BUCKETS = (1, 2, 5, 10, 20, 40, 80, 160, 320, 640)


def area(path: str) -> str:
    """The part of the app a request path belongs to (a label of few values)."""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/v1/"):
        return "v1"
    if path.startswith("/static/"):
        return "static"
    if path in ("/healthz", "/readyz", "/metrics"):
        return "health"
    return "page"


class _Live:
    """What is read at scrape time: pool servers, active turns, Redis."""

    def __init__(self, backends: Callable[[], Iterable], active: Callable[[], int], redis_state: Callable[[], str]):
        self.backends, self.active, self.redis_state = backends, active, redis_state

    def collect(self):
        depth = GaugeMetricFamily("masterhall_backend_queue_depth", "Requests in flight on a backend server (this process)",
                                  labels=["backend", "server"])
        up = GaugeMetricFamily("masterhall_backend_server_up", "Whether a pool server passed its last health check",
                               labels=["backend", "server"])
        for backend in self.backends():
            servers = getattr(backend, "servers", None)
            if servers is None:
                continue
            for server in servers():
                depth.add_metric([backend.name, server["url"]], server["in_flight"])
                up.add_metric([backend.name, server["url"]], 1 if server["up"] else 0)
        yield depth
        yield up
        yield GaugeMetricFamily("masterhall_active_turns", "Answers this process is generating", value=self.active())
        state = self.redis_state()
        if state != "off":
            yield GaugeMetricFamily("masterhall_redis_up", "Whether Redis answered the last call", value=0 if state == "down" else 1)


class Metrics:
    """The metrics of one hall (own registry: several halls in one process, as tests make, do not
    mix). ``backends()``: the backend objects made so far; ``active()``: answers generating;
    ``redis_state()``: the bus's state (``off``, ``ok``, ``down``, ``starting``)."""

    def __init__(self, backends: Callable[[], Iterable] = list, active: Callable[[], int] = lambda: 0,
                 redis_state: Callable[[], str] = lambda: "off"):
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter("masterhall_http_requests", "HTTP requests answered", ["method", "area", "status"],
                                registry=self.registry)
        self.turns = Counter("masterhall_turns", "Turns ended", ["backend", "server", "finish_reason"], registry=self.registry)
        self.tokens = Counter("masterhall_completion_tokens", "Tokens generated", ["backend", "server"], registry=self.registry)
        self.ttft = Histogram("masterhall_ttft_seconds", "Time to first token", ["backend", "server"], buckets=TTFT_BUCKETS,
                              registry=self.registry)
        self.tps = Histogram("masterhall_tokens_per_second", "Decoding speed of a turn", ["backend", "server"],
                             buckets=TPS_BUCKETS, registry=self.registry)
        self.registry.register(_Live(backends, active, redis_state))

    def observe_turn(self, backend: str, usage) -> None:
        """Count a finished turn of ``backend`` (its :class:`~masterhall.backends.base.Usage`)."""
        server = str(usage.extra.get("server") or backend)
        self.turns.labels(backend, server, usage.finish_reason).inc()
        if usage.completion_tokens:
            self.tokens.labels(backend, server).inc(usage.completion_tokens)
        if usage.ttft_s is not None:
            self.ttft.labels(backend, server).observe(usage.ttft_s)
        if usage.tokens_per_s:
            self.tps.labels(backend, server).observe(usage.tokens_per_s)

    def observe_request(self, method: str, path: str, status: int) -> None:
        """Count an HTTP request answered with ``status``."""
        self.requests.labels(method, area(path), str(status)).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text format of every metric, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
