"""Request metrics in the Prometheus text format, without a client library: counts and latency by route.

Routes are labelled by their template (`/v1/reports/{report_id}`), never the raw path, so label
cardinality stays bounded whatever clients request.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency_buckets: dict[tuple[str, str], list[int]] = {}
        self.latency_sum: dict[tuple[str, str], float] = defaultdict(float)
        self.latency_count: dict[tuple[str, str], int] = defaultdict(int)
        self.rate_limited: dict[str, int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            key = (method, route)
            buckets = self.latency_buckets.setdefault(key, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self.latency_sum[key] += seconds
            self.latency_count[key] += 1

    def render(self, gauges: dict[str, tuple[str, list[tuple[dict[str, str], float]]]]) -> str:
        """The exposition text; `gauges` maps a metric name to (help, [(labels, value)])."""
        lines = [
            "# HELP alignbot_http_requests_total HTTP requests by method, route template and status.",
            "# TYPE alignbot_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                labels = _labels([("method", method), ("route", route), ("status", status)])
                lines.append(f"alignbot_http_requests_total{labels} {n}")
            lines += [
                "# HELP alignbot_http_request_duration_seconds Time to the end of the response.",
                "# TYPE alignbot_http_request_duration_seconds histogram",
            ]
            for (method, route), buckets in sorted(self.latency_buckets.items()):
                base = [("method", method), ("route", route)]
                for bound, n in zip(BUCKETS, buckets, strict=True):
                    labels = _labels([*base, ("le", f"{bound:g}")])
                    lines.append(f"alignbot_http_request_duration_seconds_bucket{labels} {n}")
                count = self.latency_count[(method, route)]
                lines.append(f"alignbot_http_request_duration_seconds_bucket{_labels([*base, ('le', '+Inf')])} {count}")
                total = self.latency_sum[(method, route)]
                lines.append(f"alignbot_http_request_duration_seconds_sum{_labels(base)} {total:.6f}")
                lines.append(f"alignbot_http_request_duration_seconds_count{_labels(base)} {count}")
            lines += [
                "# HELP alignbot_http_rate_limited_total Requests refused with 429, by kind of client.",
                "# TYPE alignbot_http_rate_limited_total counter",
            ]
            for kind, n in sorted(self.rate_limited.items()):
                lines.append(f"alignbot_http_rate_limited_total{_labels([('client', kind)])} {n}")
        for name, (help_text, samples) in gauges.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            for labels, value in samples:
                lines.append(f"{name}{_labels(labels.items()) if labels else ''} {value:g}")
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Times every HTTP request and counts it under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - start)
