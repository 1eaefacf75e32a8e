"""LINE's monthly quota reaches ``/metrics`` and the outlets page through the outlet check (daily
job, «ตรวจ» button, ``network-hub outlet check``), never by a scrape calling LINE. Fake LINE in a
thread, the real SDK, both databases."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from network_hub import outlets as outlet_service
from network_hub.db.models import Outlet
from network_hub.line.quota import quota_label
from network_hub.metrics import snapshot
from network_hub.outlet_checks import check_all_outlets
from network_hub.web.app import create_app
from platform_fakes.line import Channel, FakeLine
from publishers.line import LineCheckResult, LinePublisher
from publishers.registry import Publishers, target_for
from tests.web.conftest import WebWorld, client, password_hash, signed_in, world  # noqa: F401 (fixtures)
from tests.web.test_metrics import LOOPBACK, scrape, value

GAUGE = "hub_line_quota_remaining_messages"


@pytest.fixture
def line(world: WebWorld) -> Iterator[tuple[FakeLine, Channel, int]]:  # noqa: F811
    hub = world.hub
    fake = FakeLine(clock=hub.clock.now).start_in_thread()
    channel = fake.add_channel(quota=300)
    group = fake.add_group(channel, members=40)
    hub.settings.line_channel_access_token = channel.token
    hub.settings.line_api_base_url = fake.api_base_url
    hub.settings.line_data_api_base_url = fake.data_base_url
    web_base, hub.settings.public_base_url = hub.settings.public_base_url, "https://hub.example.test"
    now = hub.clock.now()
    with hub.transaction() as s:
        outlet = Outlet(platform="line", name="LINE กลุ่มหมู่ 1", area_code="520101", address=group.id,
                        status="active", min_interval_s=1.0, created_at=now, updated_at=now)
        s.add(outlet)
        s.flush()
        outlet_id = outlet.id
    yield fake, channel, outlet_id
    hub.settings.public_base_url = web_base
    fake.stop_thread()


def run_daily_check(world: WebWorld) -> None:  # noqa: F811
    async def check() -> None:
        publishers = Publishers(world.hub.settings)
        try:
            await check_all_outlets(world.hub, publishers)
        finally:
            await publishers.aclose()

    asyncio.run(check())


def test_the_outlet_check_feeds_the_quota_gauge_and_the_outlets_page(world: WebWorld, signed_in,  # noqa: F811
                                                                     line) -> None:  # signed_in first: HTTP cookies
    fake, channel, _outlet_id = line
    hub = world.hub
    fake.set_usage(channel, 120)
    with TestClient(create_app(hub), client=LOOPBACK) as scraper:
        assert math.isnan(value(scrape(scraper), GAUGE))  # never checked: unknown, and the scrape asked LINE nothing
        assert fake.requests("quota") == []

        run_daily_check(world)
        assert len(fake.requests("quota")) == 1 and len(fake.requests("consumption")) == 1
        samples = scrape(scraper)
        assert value(samples, GAUGE) == 180
        assert value(samples, "hub_line_quota_checked_timestamp_seconds") == hub.clock.now().timestamp()

        # Sends spend quota; the gauge says what LINE said at the last check (no LINE call per scrape).
        fake.set_usage(channel, 250)
        assert value(scrape(scraper), GAUGE) == 180 and len(fake.requests("quota")) == 1
        run_daily_check(world)
        assert value(scrape(scraper), GAUGE) == 50

    page = signed_in("coordinator").get("/outlets").text
    assert "โควตา LINE เหลือ 50 จาก 300 ข้อความ (ตรวจ 3 ธ.ค. 69 เวลา 10.00 น.)" in page


def test_the_cli_check_records_it_too_and_a_new_month_starts_full(world: WebWorld, line) -> None:  # noqa: F811
    fake, channel, outlet_id = line
    hub = world.hub
    fake.set_usage(channel, 299)

    async def cli_check() -> LineCheckResult:
        publisher = LinePublisher(hub.settings, clock=hub.clock)
        try:
            with hub.transaction() as s:
                target = target_for(s.get(Outlet, outlet_id))
            result = await publisher.check(target)
        finally:
            await publisher.aclose()
        assert isinstance(result, LineCheckResult)
        return result

    result = asyncio.run(cli_check())
    assert result.ok and result.quota is not None and result.account == channel.bot_user_id
    with hub.transaction() as s:
        outlet_service.record_check(s, outlet_id, result, hub.clock.now())  # what `network-hub outlet check` calls
    with hub.transaction() as s:
        assert snapshot(s, hub.clock.now())["line_quota"] == 1
        assert quota_label(s, s.get(Outlet, outlet_id), hub.clock.now()).startswith("โควตา LINE เหลือ 1 จาก 300")
        # January in Bangkok: LINE counts from zero again, so the December reading says nothing used.
        january = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
        assert snapshot(s, january)["line_quota"] == 300


def test_a_failed_check_records_no_quota(world: WebWorld, line) -> None:  # noqa: F811
    fake, _channel, _outlet_id = line
    fake.fail_next("info", status=401, message="Authentication failed")
    run_daily_check(world)
    with world.hub.transaction() as s:
        assert math.isnan(snapshot(s, world.hub.clock.now())["line_quota"])
