"""LINE deliveries through the real dispatcher (in process), the LINE fake and the real SDK, on
SQLite and PostgreSQL: exactly once with a stored retry key, and quota holds that wait visibly."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from network_hub.db.models import Delivery, DeliveryAttempt, KeyValue, NewsItem, Notification, Outlet
from network_hub.hub import Hub
from platform_fakes.line import FakeLine
from publishers.line import QUOTA_HELD, LinePublisher, next_quota_month
from publishers.registry import Publishers
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network
from tests.line.conftest import PUBLIC_BASE


@pytest.fixture
def net(hub: Hub):
    with hub.transaction() as s:
        return seed_network(s, hub.clock.now())


@pytest.fixture
async def line_pubs(hub: Hub, fake: FakeLine) -> AsyncIterator[Publishers]:
    settings = hub.settings.model_copy(update={
        "line_api_base_url": fake.api_base_url, "line_data_api_base_url": fake.data_base_url,
        "public_base_url": PUBLIC_BASE, "http_timeout_s": 3.0})
    pubs = Publishers(settings)
    pubs.put("line", LinePublisher(settings, clock=hub.clock))
    yield pubs
    await pubs.aclose()


def dispatcher(hub: Hub, pubs: Publishers) -> Dispatcher:
    return Dispatcher(hub, pubs, owner="line-test", rng=random.Random(3))


def the_delivery(hub: Hub) -> Delivery:
    with hub.transaction() as s:
        return s.scalars(select(Delivery)).one()


async def test_commit_then_drop_retried_with_the_same_key_ends_sent_with_one_message(
        hub: Hub, net, fake: FakeLine, line_pubs: Publishers, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = fake.add_channel(quota=1000)
    group = fake.add_group(channel, members=40)
    monkeypatch.setenv("LINE_TOKEN_TEST_OA", channel.token)
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now(), platform="line", address=group.id)
        outlet.token_env = "LINE_TOKEN_TEST_OA"
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    fake.drop_next("push", commit=True)  # LINE sends, the answer never arrives
    await dispatcher(hub, line_pubs).run_once()
    first = the_delivery(hub)
    assert first.state == "retry_wait" and first.line_retry_key is not None
    assert len(fake.messages_to(group.id)) == 1
    hub.clock.set(first.not_before)
    await dispatcher(hub, line_pubs).run_once()
    done = the_delivery(hub)
    assert done.state == "sent" and done.line_retry_key == first.line_retry_key
    pushes = fake.requests("push")
    assert [p.status for p in pushes] == [200, 409]
    assert {p.headers["x-line-retry-key"] for p in pushes} == {first.line_retry_key}
    assert len(fake.messages_to(group.id)) == 1 and fake.usage(channel) == 40
    assert done.external_ids == fake.messages_to(group.id)[0].message_ids
    with hub.transaction() as s:
        assert s.get(NewsItem, item.id).status == "published"
        outcomes = s.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)).all()
    assert outcomes == ["retryable", "sent"]
    # and nothing more goes out on later passes
    assert (await dispatcher(hub, line_pubs).run_once()).claimed == 0
    assert len(fake.messages_to(group.id)) == 1


async def test_an_approved_item_reaches_a_line_group_once_with_the_hubs_own_oa(
        hub: Hub, net, fake: FakeLine, line_pubs: Publishers) -> None:
    channel = fake.add_channel(quota=None)
    group = fake.add_group(channel, members=25)
    line_pubs.settings.line_channel_access_token = channel.token  # the hub's own OA (no --token-env)
    line_pubs.get("line").settings.line_channel_access_token = channel.token  # type: ignore[attr-defined]
    with hub.transaction() as s:
        outlets = [add_outlet(s, hub.clock.now(), platform="line", address=group.id),
                   add_outlet(s, hub.clock.now(), platform="sandbox", address="village-board")]
        add_approved_item(s, hub.clock.now(), net.reporter.id, outlets, body="ประชุมประจำเดือน\nวันจันทร์นี้")
    report = await dispatcher(hub, line_pubs).run_once()
    assert report.sent == 2
    await dispatcher(hub, line_pubs).run_once()
    [sent] = fake.messages_to(group.id)
    assert "ประชุมประจำเดือน" in sent.texts[0] and "รหัสข่าว T-" in sent.texts[0]


async def test_quota_exhaustion_holds_visibly_tells_admins_once_and_resumes_next_month(
        hub: Hub, net, fake: FakeLine, line_pubs: Publishers, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = fake.add_channel(quota=300)
    group = fake.add_group(channel, members=150)
    fake.set_usage(channel, 200)  # 240 usable with 20 % kept: 40 left, a push costs 150
    monkeypatch.setenv("LINE_TOKEN_TEST_OA", channel.token)
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now(), platform="line", address=group.id)
        outlet.token_env = "LINE_TOKEN_TEST_OA"
        first = add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet], body="ข่าวแรก")
        outlet_id = outlet.id
    await dispatcher(hub, line_pubs).run_once()
    held = the_delivery(hub)
    assert held.state == "pending" and held.attempts == 0  # not an attempt, never dropped
    assert QUOTA_HELD in (held.last_error or "")
    assert held.not_before is not None and held.not_before >= next_quota_month(hub.clock.now())
    with hub.transaction() as s:
        blocked = s.get(Outlet, outlet_id)
        assert QUOTA_HELD in (blocked.blocked_reason or "")
        add_approved_item(s, hub.clock.now(), net.reporter.id, [blocked], body="ข่าวที่สอง")
    assert fake.requests("push") == []
    await dispatcher(hub, line_pubs).run_once()  # the outlet is blocked: the second item waits too
    with hub.transaction() as s:
        notices = s.scalars(select(Notification).where(Notification.kind == "outlet_needs_human")).all()
        told = s.scalars(select(KeyValue).where(KeyValue.namespace == "line_quota_notice")).all()
        states = s.scalars(select(Delivery.state)).all()
    assert len(told) == 1 and len(notices) == len({n.member_id for n in notices}) >= 1
    assert all(QUOTA_HELD in n.payload["reason"] for n in notices)
    assert states == ["pending", "pending"]
    # next month LINE's count starts again: 240 usable, so one post (150) fits and the other waits
    # again — whole, never partly; the reserve holds although both were due in the same pass
    hub.clock.set(next_quota_month(hub.clock.now()) + timedelta(minutes=2))
    await dispatcher(hub, line_pubs).run_once()
    with hub.transaction() as s:
        assert sorted(s.scalars(select(Delivery.state)).all()) == ["pending", "sent"]
        assert s.get(NewsItem, first.id).status == "published"
        told = s.scalars(select(KeyValue).where(KeyValue.namespace == "line_quota_notice")).all()
    assert len(fake.messages_to(group.id)) == 1 and fake.usage(channel) == 150
    assert len(told) == 2  # one notice for each month the outlet was held
    hub.clock.set(next_quota_month(hub.clock.now()) + timedelta(minutes=2))
    await dispatcher(hub, line_pubs).run_once()
    with hub.transaction() as s:
        assert set(s.scalars(select(Delivery.state)).all()) == {"sent"}
    assert len(fake.messages_to(group.id)) == 2 and fake.usage(channel) == 150


async def test_an_outlet_budget_holds_posts_beyond_it_until_next_month(
        hub: Hub, net, fake: FakeLine, line_pubs: Publishers, monkeypatch: pytest.MonkeyPatch) -> None:
    from network_hub.db.models import LineGroup
    from network_hub.line.quota import month_use, set_budget

    channel = fake.add_channel(quota=None)  # no OA limit: only the outlet's budget holds posts back
    group = fake.add_group(channel, members=40)
    monkeypatch.setenv("LINE_TOKEN_TEST_OA", channel.token)
    now = hub.clock.now()
    with hub.transaction() as s:
        s.add(LineGroup(bot_user_id=channel.bot_user_id, group_id=group.id, name="g", member_count=40,
                        joined_at=now, updated_at=now))
        # LINE outlets are paced 1 s apart (outlets.MIN_INTERVAL_S), so each post's start sees the last one's use
        outlet = add_outlet(s, now, platform="line", address=group.id, min_interval_s=1.0)
        outlet.token_env = "LINE_TOKEN_TEST_OA"
        set_budget(s, outlet, 100, now)  # two posts of 40 fit, the third would make 120
        for n in range(3):
            add_approved_item(s, now, net.reporter.id, [outlet], body=f"ข่าวลำดับ {n}")
        outlet_id = outlet.id
    for _ in range(4):
        await dispatcher(hub, line_pubs).run_once()
        hub.clock.advance(seconds=2)  # the outlet's pacing
    with hub.transaction() as s:
        states = sorted(s.scalars(select(Delivery.state)).all())
        held = s.scalars(select(Delivery).where(Delivery.state == "pending")).one()
        assert month_use(s, s.get(Outlet, outlet_id), hub.clock.now()) == (2, 80)
    assert states == ["pending", "sent", "sent"] and QUOTA_HELD in (held.last_error or "")
    assert "budget" in (held.last_error or "") and len(fake.messages_to(group.id)) == 2
    hub.clock.set(next_quota_month(hub.clock.now()) + timedelta(minutes=2))
    await dispatcher(hub, line_pubs).run_once()
    assert len(fake.messages_to(group.id)) == 3
