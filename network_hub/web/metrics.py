"""``GET /metrics``: Prometheus text format, kept off the public internet.

Who may scrape: a client connecting from loopback directly (no ``Forwarded``/``X-Forwarded-For``
header: a request that came through the reverse proxy also arrives from 127.0.0.1 and must not
count as local), or any client that sends ``Authorization: Bearer <HUB_METRICS_TOKEN>`` when that
setting is set. Everyone else gets a plain 404, as if there were nothing here.

The database series come from :class:`network_hub.metrics.HubCollector` at scrape time; the
request-latency histogram is this process's own (one per app, so tests can build many apps).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from starlette.responses import PlainTextResponse, Response

from network_hub.hub import Hub
from network_hub.metrics import HubCollector

PATH = "/metrics"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _from_loopback(request: Request) -> bool:
    if request.client is None or any(h in request.headers for h in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:  # e.g. "testclient" or a unix socket peer
        return False


def may_scrape(request: Request, token: str) -> bool:
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return True
    return _from_loopback(request)


def install(app: FastAPI, hub: Hub) -> None:
    """Add ``/metrics`` and the request-latency middleware to the dashboard app."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(hub))
    latency = Histogram("hub_http_request_duration_seconds", "Web request latency by route and status class",
                        labelnames=["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=registry)
    app.state.metrics_registry = registry

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", None) or "unmatched"  # templates, not raw paths
        latency.labels(request.method, route, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started)
        return response

    @app.get(PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not may_scrape(request, hub.settings.metrics_token):
            return PlainTextResponse("Not Found", status_code=404)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})
