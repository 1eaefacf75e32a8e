"""The dispatcher's hot path (issue 11 step 6): claim ahead, ``sending`` only for what starts,
Core statements, group-committed outcomes — and the checks that keep claims held ahead safe
(a lost lease, an item edited or withdrawn, an outlet blocked since the claim), on SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from jobs.dispatch import Dispatcher
from network_hub.db.models import AuditEvent, Delivery, DeliveryAttempt, Member, NewsItem, Notification, Outlet
from network_hub.outbox import ledger, queries, rollup, transitions
from publishers.base import ErrorClass
from tests.engine.builders import add_approved_item, add_outlet
from tests.engine.memory_publisher import err

LEASE = timedelta(seconds=60)


def states(hub) -> dict[int, str]:
    with hub.transaction() as s:
        return dict(s.execute(select(Delivery.id, Delivery.state)).all())


def claim(hub, limit: int, owner: str = "w") -> list[queries.Claim]:
    with hub.transaction() as s:
        return list(queries.claim_due(s, owner=owner, now=hub.clock.now(), lease=LEASE, limit=limit))


def prepare(hub, claims: list[queries.Claim]) -> list[transitions.SendJob]:
    with hub.transaction() as s:
        return transitions.prepare_jobs(s, claims, now=hub.clock.now(), media_dir=hub.settings.resolved_media_dir)


def start(hub, jobs: list[transitions.SendJob]) -> list[transitions.SendJob]:
    with hub.transaction() as s:
        return transitions.start_prepared(s, jobs, worker="w", now=hub.clock.now(), lease=LEASE)


class StatementLog:
    """Counts the SQL statements the engine sends, by verb and table (no timing)."""

    def __init__(self, engine) -> None:
        self.engine, self.seen = engine, Counter()

    def __enter__(self) -> StatementLog:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, params, context, executemany) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            self.seen[verb] += 1

    @property
    def total(self) -> int:
        return sum(self.seen.values())


async def test_a_pass_claims_ahead_and_sends_each_delivery_once(hub, net, pubs) -> None:
    with hub.transaction() as s:
        outlets = [add_outlet(s, hub.clock.now(), address=a) for a in ("a", "b")]
        for _ in range(12):
            add_approved_item(s, hub.clock.now(), net.reporter.id, outlets)
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=3, batch=10, rng=random.Random(1))
    claims: list[int] = []
    original = queries.claim_due

    def counting(*args, **kwargs):
        found = original(*args, **kwargs)
        claims.append(len(found))
        return found

    queries.claim_due = counting  # type: ignore[assignment]
    try:
        report = await dispatcher.run_once()
    finally:
        queries.claim_due = original  # type: ignore[assignment]
    assert report.sent == 24 and set(states(hub).values()) == {"sent"}
    receipts = Counter(p.receipt_no for _, p in pubs.get("sandbox").all_posts())
    assert len(receipts) == 12 and set(receipts.values()) == {2}  # each item once per outlet
    # 24 deliveries at 3 at a time: the claims ran ahead (several starts served by one claim),
    # and a claim splits its rows between the two outlets.
    assert sum(claims) == 24 and len([n for n in claims if n]) <= 3
    with hub.transaction() as s:
        assert s.scalar(select(Delivery.attempts).distinct()) == 1
        assert len(s.scalars(select(DeliveryAttempt.outcome)).all()) == 24
        assert set(s.scalars(select(NewsItem.status)).all()) == {"published"}


async def test_claims_share_the_rows_between_outlets(hub, net) -> None:
    with hub.transaction() as s:
        outlets = [add_outlet(s, hub.clock.now(), address=a) for a in ("a", "b")]
        for _ in range(6):
            add_approved_item(s, hub.clock.now(), net.reporter.id, outlets)
    claims = claim(hub, 6)
    assert Counter(c.outlet_id for c in claims) == {outlets[0].id: 3, outlets[1].id: 3}


async def test_claims_not_started_go_back_to_pending_at_the_end_of_a_pass(hub, net, pubs) -> None:
    """A 429 with claims held ahead: the block is durable, the claims held for that outlet are handed
    back unsent (never sent into the block), and nothing stays `claimed` after the pass."""
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now(), platform="telegram", address="-100")
        for _ in range(6):
            add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    pubs.get("telegram").fail_next(err(ErrorClass.RATE_LIMITED, "flood", retry_after=30))
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=1, batch=6, rng=random.Random(1))
    await dispatcher.run_once()
    assert sorted(states(hub).values()) == ["pending"] * 6
    assert pubs.get("telegram").all_posts() == []
    with hub.transaction() as s:
        assert s.get(Outlet, outlet.id).blocked_until > hub.clock.now()
        assert s.scalars(select(Delivery.lease_owner).distinct()).all() == [None]
    hub.clock.advance(seconds=31)
    await dispatcher.run_once()
    assert set(states(hub).values()) == {"sent"} and len(pubs.get("telegram").all_posts()) == 6


async def test_starting_a_batch_is_a_fixed_number_of_statements_whatever_its_size(hub, net) -> None:
    """SQLite: three statements (deliveries, attempt rows, items); PostgreSQL: one, the same three
    as data-modifying CTEs (one round trip)."""
    with hub.transaction() as s:
        outlets = [add_outlet(s, hub.clock.now(), address=a) for a in ("a", "b")]
        for _ in range(6):  # 12 deliveries: a batch of 2, then one of 10
            add_approved_item(s, hub.clock.now(), net.reporter.id, outlets)
    for size in (2, 10):
        jobs = prepare(hub, claim(hub, size))
        with StatementLog(hub.engine) as log:
            started = start(hub, jobs)
        assert len(started) == size
        if hub.engine.dialect.name == "postgresql":
            assert log.seen == {"WITH": 1}
        else:
            assert log.seen == {"UPDATE": 2, "INSERT": 1}  # deliveries, items; the attempt rows
    with hub.transaction() as s:
        rows = s.execute(select(Delivery.id, Delivery.state, Delivery.attempts)).all()
        attempts = s.execute(select(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt_no,
                                    DeliveryAttempt.fence)).all()
    assert {r.state for r in rows} == {"sending"} and {r.attempts for r in rows} == {1}
    assert sorted(a.delivery_id for a in attempts) == sorted(r.id for r in rows)
    assert {a.attempt_no for a in attempts} == {1} and {a.fence for a in attempts} == {1}


async def test_a_lost_lease_is_not_started(hub, net) -> None:
    with hub.transaction() as s:
        add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    jobs = prepare(hub, claim(hub, 1, owner="slow"))
    hub.clock.advance(seconds=61)
    with hub.transaction() as s:
        queries.expire_leases(s, hub.clock.now())
    newer = claim(hub, 1, owner="fast")
    assert start(hub, jobs) == []
    with hub.transaction() as s:
        row = s.scalar(select(Delivery))
        assert (row.state, row.lease_owner, row.fence) == ("claimed", "fast", newer[0].fence)
        assert s.scalars(select(DeliveryAttempt)).all() == []


async def test_an_item_edited_after_the_claim_goes_back_to_pending(hub, net) -> None:
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    jobs = prepare(hub, claim(hub, 1))
    with hub.transaction() as s:
        edited = s.get(NewsItem, item.id)
        edited.body, edited.version = "ข่าวที่แก้ไขแล้ว", edited.version + 1
    assert start(hub, jobs) == []
    assert list(states(hub).values()) == ["pending"]
    # claimed again, it is read again: the edited text is what is sent
    again = start(hub, prepare(hub, claim(hub, 1)))
    assert [j.body for j in again] == ["ข่าวที่แก้ไขแล้ว"]


async def test_an_item_withdrawn_after_the_claim_is_cancelled(hub, net) -> None:
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [add_outlet(s, hub.clock.now())])
    jobs = prepare(hub, claim(hub, 1))
    with hub.transaction() as s:
        s.get(NewsItem, item.id).status = "withdrawn"
    assert start(hub, jobs) == []
    with hub.transaction() as s:
        row = s.scalar(select(Delivery))
        assert row.state == "cancelled" and "withdrawn" in row.last_error


@pytest.mark.parametrize("change", ["blocked", "paused"])
async def test_an_outlet_blocked_or_paused_after_the_claim_gets_nothing(hub, net, change) -> None:
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now())
        add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    jobs = prepare(hub, claim(hub, 1))
    with hub.transaction() as s:
        row = s.get(Outlet, outlet.id)
        if change == "blocked":
            row.blocked_until = hub.clock.now() + timedelta(seconds=30)
        else:
            row.status = "paused"
    assert start(hub, jobs) == []
    with hub.transaction() as s:
        row = s.scalar(select(Delivery))
        assert (row.state, row.lease_owner, row.attempts) == ("pending", None, 0)


async def test_released_claims_drop_their_ledger_charge_and_skip_lost_leases(hub, net) -> None:
    with hub.transaction() as s:
        outlets = [add_outlet(s, hub.clock.now(), platform="telegram", address=a) for a in ("-1", "-2")]
        for outlet in outlets:
            add_approved_item(s, hub.clock.now(), net.reporter.id, [outlet])
    limits = ledger.RateLimits(telegram_chat_per_window=20, telegram_bot_per_second=0)
    with hub.transaction() as s:
        claims = list(queries.claim_due(s, owner="w", now=hub.clock.now(), lease=LEASE, limit=2, limits=limits))
    assert len(claims) == 2 and all(c.charged for c in claims)
    kept, lost = claims
    with hub.transaction() as s:  # someone else's fence now: this worker lost that row
        s.get(Delivery, lost.delivery_id).fence += 1
    with hub.transaction() as s:
        assert queries.release_claims(s, claims, hub.clock.now()) == 1
    with hub.transaction() as s:
        rows = {d.id: d for d in s.scalars(select(Delivery))}
        charged = s.execute(select(ledger.L.c.delivery_id)).scalars().all()
    assert rows[kept.delivery_id].state == "pending" and rows[lost.delivery_id].state == "claimed"
    assert charged == [lost.delivery_id]


async def test_the_batch_roll_up_writes_what_roll_up_item_writes(hub, net) -> None:
    """Published items: status, version, audit row and the author's notification (an author who is
    no longer active gets none), written by the Core batch path."""
    now = hub.clock.now()
    with hub.transaction() as s:
        outlet = add_outlet(s, now, address="a")
        mine = add_approved_item(s, now, net.reporter.id, [outlet])
        other = seed_network_member(s, now)
        theirs = add_approved_item(s, now, other, [outlet])
        waiting = add_approved_item(s, now, net.reporter.id, [outlet, add_outlet(s, now, address="b")])
        for d in s.scalars(select(Delivery)):
            if d.item_id != waiting.id or d.outlet_id == outlet.id:
                d.state, d.permalink = "sent", f"https://example.test/{d.id}"
    with hub.transaction() as s:
        changed = rollup.roll_up_items(s, {mine.id, theirs.id, waiting.id}, now)
    assert changed == {mine.id: "published", theirs.id: "published"}
    with hub.transaction() as s:
        items = {i.id: i for i in s.scalars(select(NewsItem))}
        assert items[mine.id].status == "published" and items[mine.id].version == 2
        assert items[mine.id].published_at is not None
        assert items[waiting.id].status == "approved"
        audits = s.scalars(select(AuditEvent).where(AuditEvent.action == "item.published")).all()
        assert sorted(a.object_id for a in audits) == sorted([str(mine.id), str(theirs.id)])
        assert all(a.before == {"status": "approved"} and a.after == {"status": "published"} for a in audits)
        notes = s.scalars(select(Notification).where(Notification.kind == "item_published")).all()
        assert [(n.member_id, n.item_id) for n in notes] == [(net.reporter.id, mine.id)]
        assert notes[0].payload["links"] == [{"outlet": "sandbox:a", "platform": "sandbox",
                                              "permalink": notes[0].payload["links"][0]["permalink"]}]
        assert notes[0].state == "pending"
    with hub.transaction() as s:  # nothing changes twice
        assert rollup.roll_up_items(s, {mine.id, theirs.id}, now) == {}



async def test_the_batch_roll_up_and_roll_up_item_write_the_same_rows(hub, net) -> None:
    """Two items alike, each sent to two outlets: one rolled up by ``roll_up_item`` (ORM), the other
    by the batch path (Core on SQLite; one statement on PostgreSQL, the payload built by the
    database) — the same audit row and the same notification, links in delivery order."""
    now = hub.clock.now()
    with hub.transaction() as s:
        outlets = [add_outlet(s, now, address="a", name="ช่องข่าวตำบล"), add_outlet(s, now, address="b", name="เพจ อบต.")]
        by_orm = add_approved_item(s, now, net.reporter.id, outlets, body="ประชาคมหมู่บ้าน\nวันเสาร์นี้")
        by_batch = add_approved_item(s, now, net.reporter.id, outlets, body="ประชาคมหมู่บ้าน\nวันเสาร์นี้")
        for d in s.scalars(select(Delivery)):
            d.state, d.permalink = "sent", None if d.outlet_id == outlets[1].id else f"https://t.me/news/{d.id}"
    with hub.transaction() as s:
        assert rollup.roll_up_item(s, by_orm.id, now) == "published"
    with hub.transaction() as s:
        assert rollup.roll_up_items(s, {by_batch.id}, now) == {by_batch.id: "published"}

    def written(item_id: int) -> tuple:
        with hub.transaction() as s:
            item = s.get(NewsItem, item_id)
            audit = s.scalars(select(AuditEvent).where(AuditEvent.object_id == str(item_id))).one()
            note = s.scalars(select(Notification).where(Notification.item_id == item_id)).one()
            permalinks = s.scalars(select(Delivery.permalink).where(Delivery.item_id == item_id)
                                   .order_by(Delivery.id)).all()
            payload = dict(note.payload)
            assert payload.pop("receipt_no") == item.receipt_no
            assert [link.pop("permalink") for link in payload["links"]] == permalinks
            return ((item.status, item.version, item.published_at, item.updated_at),
                    (audit.at, audit.actor_id, audit.actor_label, audit.action, audit.object_type, audit.before,
                     audit.after, audit.reason),
                    (note.member_id, note.kind, note.state, note.due_at, note.attempts, note.created_at, payload))

    assert written(by_batch.id) == written(by_orm.id)
    assert written(by_batch.id)[2][6] == {"title": "ประชาคมหมู่บ้าน", "failed": 0, "links": [
        {"outlet": "ช่องข่าวตำบล", "platform": "sandbox"}, {"outlet": "เพจ อบต.", "platform": "sandbox"}]}

def seed_network_member(session, now) -> int:
    """A reporter who has been suspended since (their item was approved before)."""
    member = Member(name="ผู้ส่งข่าวที่ถูกพักสิทธิ์", status="suspended", created_at=now, updated_at=now)
    session.add(member)
    session.flush()
    return member.id
