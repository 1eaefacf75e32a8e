"""``/metrics`` (issue 15 item 4): every series present, values follow the database, scraping is private."""

from __future__ import annotations

import asyncio
import math

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from network_hub.db.models import DeliveryAttempt, Notification
from network_hub.metrics import record_line_quota
from network_hub.newsroom.moderation import approve_item
from network_hub.permissions import load_actor
from network_hub.web.app import create_app
from publishers.registry import Publishers
from tests.web.conftest import WebWorld

SERIES = (
    "hub_deliveries", "hub_oldest_due_delivery_age_seconds", "hub_send_attempts", "hub_rate_limited",
    "hub_unknown_deliveries_waiting", "hub_items_waiting_for_approval", "hub_line_quota_remaining_messages",
    "hub_reminder_occurrences", "hub_notifications", "hub_dm_failures", "hub_http_request_duration_seconds",
)
LOOPBACK = ("127.0.0.1", 40000)


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def names(samples: dict) -> set[str]:
    found = set()
    for name, _labels in samples:
        for series in SERIES:
            if name == series or name.startswith(series + "_"):
                found.add(series)
    return found


def test_every_series_is_present_and_follows_a_delivery(world: WebWorld) -> None:
    hub = world.hub
    item_id = world.submit()
    with TestClient(create_app(hub), client=LOOPBACK) as client:
        client.get("/login")  # one request for the latency histogram
        first = scrape(client)
        assert names(first) == set(SERIES)
        assert value(first, "hub_items_waiting_for_approval") == 1
        assert value(first, "hub_deliveries", state="pending", platform="sandbox") == 0
        assert math.isnan(value(first, "hub_line_quota_remaining_messages"))  # LINE not configured
        assert value(first, "hub_http_request_duration_seconds_count", method="GET", route="/login",
                     status="2xx") == 1

        with hub.transaction() as session:
            approve_item(session, item_id, actor=load_actor(session, world.people.moderator.id),
                         confirm_pdpa=True, now=hub.clock.now(), via="web")
        approved = scrape(client)
        assert value(approved, "hub_deliveries", state="pending", platform="sandbox") == 1
        assert value(approved, "hub_items_waiting_for_approval") == 0

        async def one_pass() -> None:
            publishers = Publishers(hub.settings)
            try:
                await Dispatcher(hub, publishers).run_once()
            finally:
                await publishers.aclose()

        asyncio.run(one_pass())
        sent = scrape(client)
        assert value(sent, "hub_deliveries", state="pending", platform="sandbox") == 0
        assert value(sent, "hub_deliveries", state="sent", platform="sandbox") == 1
        assert value(sent, "hub_send_attempts_total", platform="sandbox", outcome="sent") == 1
        assert value(sent, "hub_oldest_due_delivery_age_seconds") == 0

        with hub.transaction() as session:  # a 429, a failed DM and LINE's quota, as other processes write them
            delivery_id = session.scalar(select(DeliveryAttempt.delivery_id))
            session.add(DeliveryAttempt(delivery_id=delivery_id, attempt_no=2, fence=9, worker="w",
                                        started_at=hub.clock.now(), finished_at=hub.clock.now(),
                                        outcome="rate_limited", error_code="429"))
            session.add(Notification(member_id=world.people.reporter.id, kind="item_published", state="unreachable",
                                     due_at=hub.clock.now(), created_at=hub.clock.now()))
            record_line_quota(session, "oa-lampang", 500, 120, hub.clock.now())
        later = scrape(client)
        assert value(later, "hub_rate_limited_total", platform="sandbox") == 1
        assert value(later, "hub_send_attempts_total", platform="sandbox", outcome="rate_limited") == 1
        assert value(later, "hub_dm_failures") == 1
        assert value(later, "hub_notifications", state="unreachable") == 1
        assert value(later, "hub_line_quota_remaining_messages") == 380


def test_metrics_are_private_by_default(world: WebWorld) -> None:
    app = create_app(world.hub)
    with TestClient(app) as remote:  # TestClient's peer is "testclient", not loopback
        assert remote.get("/metrics").status_code == 404
    with TestClient(app, client=LOOPBACK) as local:
        # Through the reverse proxy a request also arrives from 127.0.0.1: the proxy header gives it away.
        assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
        assert local.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 404
        assert local.get("/metrics").status_code == 200


def test_a_metrics_token_lets_a_remote_scraper_in(world: WebWorld) -> None:
    world.hub.settings.metrics_token = "scrape-me-7f3a9c"
    with TestClient(create_app(world.hub)) as remote:
        assert remote.get("/metrics", headers={"Authorization": "Bearer scrape-me-7f3a9c"}).status_code == 200
        assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
        assert remote.get("/metrics", headers={"Authorization": "Basic scrape-me-7f3a9c"}).status_code == 404
        assert remote.get("/metrics").status_code == 404
