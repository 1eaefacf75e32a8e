"""The dispatcher's state table, driven deterministically (frozen clock, in-memory publisher),
on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from network_hub.db.models import Delivery, DeliveryAttempt, NewsItem, Notification, Outlet
from network_hub.outbox import queries, resolution, transitions
from network_hub.permissions import load_actor
from publishers.base import ErrorClass
from tests.engine.builders import add_approved_item, add_outlet
from tests.engine.memory_publisher import err


def make_dispatcher(hub, pubs, **kw) -> Dispatcher:
    return Dispatcher(hub, pubs, owner=kw.pop("owner", "test-worker"), rng=random.Random(7), **kw)


def deliveries(hub) -> list[Delivery]:
    with hub.transaction() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def item_status(hub, item_id: int) -> str:
    with hub.transaction() as s:
        return s.get(NewsItem, item_id).status


async def test_approved_item_is_sent_once_and_rolls_up_to_published(hub, net, pubs) -> None:
    with hub.transaction() as s:
        outlets = [add_outlet(s, hub.clock.now(), address="a"), add_outlet(s, hub.clock.now(), address="b")]
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, outlets)
    report = await make_dispatcher(hub, pubs).run_once()
    assert report.sent == 2
    again = await make_dispatcher(hub, pubs).run_once()
    assert again.claimed == 0
    assert len(pubs.get("sandbox").all_posts()) == 2
    assert {d.state for d in deliveries(hub)} == {"sent"}
    assert item_status(hub, item.id) == "published"
    with hub.transaction() as s:
        kinds = s.scalars(select(Notification.kind).where(Notification.member_id == net.reporter.id)).all()
        assert "item_published" in kinds
        attempts = s.scalars(select(DeliveryAttempt)).all()
        assert [a.outcome for a in attempts] == ["sent", "sent"]


async def test_retryable_backs_off_with_jitter_then_sends(hub, net, pubs) -> None:
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    pubs.get("sandbox").fail_next(err(ErrorClass.RETRYABLE, "connection refused"))
    await make_dispatcher(hub, pubs).run_once()
    [d] = deliveries(hub)
    assert d.state == "retry_wait" and d.attempts == 1 and d.not_before > hub.clock.now()
    assert (await make_dispatcher(hub, pubs).run_once()).claimed == 0  # not before its time
    hub.clock.set(d.not_before)
    await make_dispatcher(hub, pubs).run_once()
    [d] = deliveries(hub)
    assert d.state == "sent" and d.attempts == 2
    assert item_status(hub, item.id) == "published"


async def test_retries_stop_at_the_limit_and_fail_with_the_reason(hub, net, pubs) -> None:
    hub.settings.max_attempts = 3
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    pubs.get("sandbox").fail_next(*[err(ErrorClass.RETRYABLE, "HTTP 502") for _ in range(3)])
    for _ in range(3):
        await make_dispatcher(hub, pubs).run_once()
        hub.clock.advance(hours=2)
    [d] = deliveries(hub)
    assert d.state == "failed" and d.attempts == 3
    assert "gave up after 3 attempts" in d.last_error
    assert item_status(hub, item.id) == "failed"
    with hub.transaction() as s:
        notified = s.scalars(select(Notification.member_id).where(Notification.kind == "delivery_needs_person"))
        assert net.moderator.id in set(notified)


async def test_rate_limit_blocks_the_outlet_and_is_not_an_attempt(hub, net, pubs) -> None:
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now())
        add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
        add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    pubs.get("sandbox").fail_next(err(ErrorClass.RATE_LIMITED, "Too Many Requests", retry_after=42))
    await make_dispatcher(hub, pubs, concurrency=1).run_once()
    ds = deliveries(hub)
    assert [d.state for d in ds] == ["pending", "pending"]
    assert ds[0].attempts == 0
    with hub.transaction() as s:
        blocked = s.get(Outlet, outlet.id).blocked_until
    assert blocked == hub.clock.now() + timedelta(seconds=42)
    assert (await make_dispatcher(hub, pubs, owner="other-process").run_once()).claimed == 0
    hub.clock.advance(seconds=42)
    await make_dispatcher(hub, pubs).run_once()
    assert [d.state for d in deliveries(hub)] == ["sent", "sent"]


async def test_needs_human_pauses_outlet_tells_admin_and_keeps_delivery_waiting(hub, net, pubs) -> None:
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now())
        add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    pubs.get("sandbox").fail_next(err(ErrorClass.NEEDS_HUMAN, "token expired (190)", code=190))
    await make_dispatcher(hub, pubs).run_once()
    [d] = deliveries(hub)
    assert d.state == "pending" and d.attempts == 0
    with hub.transaction() as s:
        o = s.get(Outlet, outlet.id)
        assert o.status == "paused" and "token expired" in o.paused_reason
        admin_msgs = s.scalars(select(Notification).where(Notification.member_id == net.admin.id)).all()
        assert [n.kind for n in admin_msgs] == ["outlet_needs_human"]
        o.status = "active"  # the admin fixed the token and resumed the outlet
    await make_dispatcher(hub, pubs).run_once()
    assert deliveries(hub)[0].state == "sent"


async def test_ambiguous_goes_unknown_never_retried_and_a_person_resolves_it(hub, net, pubs) -> None:
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    pubs.get("sandbox").post_then_fail.append(err(ErrorClass.AMBIGUOUS, "read timeout after send"))
    await make_dispatcher(hub, pubs).run_once()
    hub.clock.advance(days=1)
    assert (await make_dispatcher(hub, pubs).run_once()).claimed == 0
    [d] = deliveries(hub)
    assert d.state == "unknown"
    assert item_status(hub, item.id) == "publishing"
    with hub.transaction() as s:
        actor = load_actor(s, net.moderator.id)
        resolution.resolve_unknown(s, d.id, posted=True, actor=actor, now=hub.clock.now())
    assert item_status(hub, item.id) == "published"
    assert len(pubs.get("sandbox").all_posts()) == 1


async def test_resolve_not_posted_sends_again_and_double_resolve_is_refused(hub, net, pubs) -> None:
    from network_hub.errors import Conflict, PermissionDenied

    with hub.transaction() as s:
        add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    pubs.get("sandbox").fail_next(err(ErrorClass.AMBIGUOUS, "connection dropped"))
    await make_dispatcher(hub, pubs).run_once()
    [d] = deliveries(hub)
    with hub.transaction() as s, pytest.raises(PermissionDenied):
        resolution.resolve_unknown(s, d.id, posted=False, actor=load_actor(s, net.outsider.id), now=hub.clock.now())
    with hub.transaction() as s:
        resolution.resolve_unknown(s, d.id, posted=False, actor=load_actor(s, net.moderator.id), now=hub.clock.now())
    with hub.transaction() as s, pytest.raises(Conflict):
        resolution.resolve_unknown(s, d.id, posted=False, actor=load_actor(s, net.moderator.id), now=hub.clock.now())
    await make_dispatcher(hub, pubs).run_once()
    assert deliveries(hub)[0].state == "sent"


async def test_pacing_spaces_posts_to_one_channel_across_processes(hub, net, pubs) -> None:
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now(), platform="telegram", address="-100123", min_interval_s=3.0)
        for _ in range(3):
            add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    assert (await make_dispatcher(hub, pubs, owner="p1").run_once()).sent == 1
    assert (await make_dispatcher(hub, pubs, owner="p2").run_once()).sent == 0
    hub.clock.advance(seconds=3)
    assert (await make_dispatcher(hub, pubs, owner="p2").run_once()).sent == 1
    hub.clock.advance(seconds=3)
    assert (await make_dispatcher(hub, pubs, owner="p1").run_once()).sent == 1


async def test_lease_sweep_releases_claimed_and_marks_sending_unknown(hub, net) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        outlet_a, outlet_b = add_outlet(s, now, address="a"), add_outlet(s, now, address="b")
        add_approved_item(s, now, net.reporter.id, [outlet_a, outlet_b])
    with hub.transaction() as s:
        claims = queries.claim_due(s, owner="dead-worker", now=now, lease=timedelta(seconds=60), limit=10)
    assert len(claims) == 2
    with hub.transaction() as s:
        assert transitions.start_sending(s, claims[0], worker="dead-worker", now=now,
                                         lease=timedelta(seconds=60), media_dir=hub.settings.resolved_media_dir)
    hub.clock.advance(seconds=61)
    with hub.transaction() as s:
        released, unknown = queries.expire_leases(s, hub.clock.now())
    assert released == [claims[1].delivery_id] and unknown == [claims[0].delivery_id]


async def test_a_worker_that_lost_its_lease_cannot_overwrite_newer_state(hub, net) -> None:
    now = hub.clock.now()
    lease = timedelta(seconds=60)
    media = hub.settings.resolved_media_dir
    with hub.transaction() as s:
        add_approved_item(s, now, net.reporter.id, [add_outlet(s, now)])
    with hub.transaction() as s:
        [old] = queries.claim_due(s, owner="slow", now=now, lease=lease, limit=1)
    hub.clock.advance(seconds=61)
    with hub.transaction() as s:
        queries.expire_leases(s, hub.clock.now())
        [new] = queries.claim_due(s, owner="fast", now=hub.clock.now(), lease=lease, limit=1)
    assert new.fence == old.fence + 1
    with hub.transaction() as s:
        assert transitions.start_sending(s, old, worker="slow", now=hub.clock.now(), lease=lease,
                                         media_dir=media) is None
        job = transitions.start_sending(s, new, worker="fast", now=hub.clock.now(), lease=lease, media_dir=media)
    stale = transitions.SendJob(**{**job.__dict__, "fence": old.fence})
    with hub.transaction() as s:
        assert not transitions.record_sent(s, stale, external_ids=["x"], permalink=None, photo_file_ids={},
                                           now=hub.clock.now())
        assert transitions.record_sent(s, job, external_ids=["y"], permalink=None, photo_file_ids={},
                                       now=hub.clock.now())
    assert deliveries(hub)[0].external_ids == ["y"]


async def test_chat_migration_moves_the_outlet_and_sends_to_the_new_chat(hub, net, pubs) -> None:
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now(), platform="telegram", address="-4001")
        add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    pubs.get("telegram").fail_next(err(ErrorClass.RETRYABLE, "group migrated", new_chat_id=-1004001))
    await make_dispatcher(hub, pubs).run_once()
    await make_dispatcher(hub, pubs).run_once()
    assert deliveries(hub)[0].state == "sent"
    assert list(pubs.get("telegram").posts) == ["-1004001"]
    with hub.transaction() as s:
        assert s.get(Outlet, outlet.id).address == "-1004001"


async def test_item_withdrawn_after_claim_is_not_sent(hub, net, pubs) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        item = add_approved_item(s, now, net.reporter.id, [add_outlet(s, now)])
    with hub.transaction() as s:
        [claim] = queries.claim_due(s, owner="w", now=now, lease=timedelta(seconds=60), limit=1)
        s.get(NewsItem, item.id).status = "withdrawn"
    with hub.transaction() as s:
        assert transitions.start_sending(s, claim, worker="w", now=now, lease=timedelta(seconds=60),
                                         media_dir=hub.settings.resolved_media_dir) is None
    assert deliveries(hub)[0].state == "cancelled"
    assert pubs.get("sandbox").all_posts() == []


async def test_corrections_and_withdrawals_reach_the_platform(hub, net, pubs) -> None:
    with hub.transaction() as s:
        add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    await make_dispatcher(hub, pubs).run_once()
    with hub.transaction() as s:
        d = s.scalar(select(Delivery))
        d.followup_action, d.followup_state = "edit", "pending"
        s.get(NewsItem, d.item_id).body = "ข้อความที่แก้ไขแล้ว"
    await make_dispatcher(hub, pubs).run_once()
    assert pubs.get("sandbox").edits == [(deliveries(hub)[0].external_ids, "ข้อความที่แก้ไขแล้ว")]
    with hub.transaction() as s:
        d = s.scalar(select(Delivery))
        d.followup_action, d.followup_state = "delete", "pending"
    pubs.get("sandbox").fail_next(err(ErrorClass.RETRYABLE, "HTTP 500"))
    await make_dispatcher(hub, pubs).run_once()
    assert deliveries(hub)[0].followup_state == "pending"
    hub.clock.advance(minutes=2)
    await make_dispatcher(hub, pubs).run_once()
    assert deliveries(hub)[0].followup_state == "done"
    assert pubs.get("sandbox").deletes == [deliveries(hub)[0].external_ids]


async def test_scheduled_delivery_waits_for_its_time(hub, net, pubs) -> None:
    later = hub.clock.now() + timedelta(hours=5)
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())],
                                 due_at=later, status="scheduled")
    assert (await make_dispatcher(hub, pubs).run_once()).claimed == 0
    hub.clock.set(later)
    assert (await make_dispatcher(hub, pubs).run_once()).sent == 1
    assert item_status(hub, item.id) == "published"


async def test_a_retry_of_a_withdrawn_item_is_cancelled_by_the_sweep(hub, net, pubs) -> None:
    from jobs.sweeps import sweep_missed_posts

    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    pubs.get("sandbox").fail_next(err(ErrorClass.RETRYABLE, "HTTP 503"))
    await make_dispatcher(hub, pubs).run_once()
    with hub.transaction() as s:
        s.get(NewsItem, item.id).status = "withdrawn"
    hub.clock.advance(hours=2)
    with hub.transaction() as s:
        sweep_missed_posts(s, hub.clock.now())
    [d] = deliveries(hub)
    assert d.state == "cancelled" and "withdrawn" in d.last_error
    assert pubs.get("sandbox").all_posts() == []
