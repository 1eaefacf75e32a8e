"""PostgreSQL's one-statement group commit (``outbox/sent_batch_pg.py``) writes what the
transactional path writes (``record_sent_batch`` then ``roll_up_items``): the same deliveries,
attempt rows, item statuses, audit rows and notifications, on twin sets of items covering every
roll-up case — and the roll-up sweep finishes items whose roll-up was lost."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from jobs.sweeps import sweep_missed_posts
from network_hub.db.models import AuditEvent, Delivery, DeliveryAttempt, Member, NewsItem, Notification
from network_hub.outbox import rollup, sent_batch_pg, transitions
from publishers.base import PublishResult
from tests.engine.builders import add_approved_item, add_outlet
from tests.engine.test_hot_path import LEASE, claim, prepare

CASES = ("all_in_batch", "one_sent_before", "one_failed_before", "one_still_pending", "lease_lost", "author_suspended")


def _twin(hub, net) -> dict[str, int]:
    """One item per case, each with two outlets; returns case → item id."""
    now = hub.clock.now()
    items = {}
    with hub.transaction() as s:
        suspended = Member(name="ผู้ส่งข่าวที่ถูกพักสิทธิ์", status="suspended", created_at=now, updated_at=now)
        s.add(suspended)
        s.flush()
        for case in CASES:
            outlets = [add_outlet(s, now, address=f"{case}-tg", name="ช่องข่าวตำบล"),
                       add_outlet(s, now, address=f"{case}-fb", name="เพจ อบต.")]
            author = suspended.id if case == "author_suspended" else net.reporter.id
            items[case] = add_approved_item(s, now, author, outlets, body=f"ข่าว {case}\nรายละเอียด").id
    return items


def _send_all(hub, items: dict[str, int]) -> list[tuple[transitions.SendJob, PublishResult]]:
    """Claim and start every delivery, then shape each case; returns the batch of outcomes to write."""
    jobs = prepare(hub, claim(hub, 100))
    with hub.transaction() as s:
        started = transitions.start_prepared(s, jobs, worker="w", now=hub.clock.now(), lease=LEASE)
    by_item: dict[int, list[transitions.SendJob]] = {}
    for job in sorted(started, key=lambda j: j.delivery_id):
        by_item.setdefault(job.item_id, []).append(job)
    batch = []
    with hub.transaction() as s:
        for case, item_id in items.items():
            first, second = by_item[item_id]
            if case == "one_sent_before":
                s.execute(update(Delivery).where(Delivery.id == first.delivery_id).values(
                    state="sent", permalink=f"https://t.me/earlier/{first.delivery_id}", external_ids=["9"]))
                batch.append(second)
            elif case == "one_failed_before":
                s.execute(update(Delivery).where(Delivery.id == first.delivery_id).values(state="failed"))
                batch.append(second)
            elif case == "one_still_pending":  # (waiting to retry, so no later claim takes it)
                s.execute(update(Delivery).where(Delivery.id == first.delivery_id).values(
                    state="retry_wait", not_before=hub.clock.now() + timedelta(hours=1)))
                batch.append(second)
            elif case == "lease_lost":
                s.execute(update(Delivery).where(Delivery.id == first.delivery_id).values(fence=Delivery.fence + 1))
                batch += [first, second]
            else:
                batch += [first, second]
    return [(job, PublishResult(external_ids=[f"msg-{job.delivery_id}", "ส่วนที่ 2"],
                                permalink=None if job.delivery_id % 2 else f"https://t.me/news/{job.delivery_id}"))
            for job in batch]


def _written(hub, items: dict[str, int]) -> dict[str, tuple]:
    """What each case's item looks like now, without ids and receipts (which differ between twins)."""
    out = {}
    with hub.transaction() as s:
        for case, item_id in items.items():
            item = s.get(NewsItem, item_id)
            deliveries = s.scalars(select(Delivery).where(Delivery.item_id == item_id).order_by(Delivery.id)).all()
            ids = [d.id for d in deliveries]
            attempts = s.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))
                                 .order_by(DeliveryAttempt.delivery_id)).all()
            audits = s.scalars(select(AuditEvent).where(AuditEvent.object_type == "news_item",
                                                        AuditEvent.object_id == str(item_id))).all()
            notes = s.scalars(select(Notification).where(Notification.item_id == item_id)
                              .order_by(Notification.member_id)).all()

            def plain(value, ids=ids):  # delivery ids inside ids and links, made relative to the item's
                text = str(value)
                for n, delivery_id in enumerate(ids):
                    text = re.sub(rf"(msg-|/){delivery_id}\b", rf"\g<1>D{n}", text)
                return text

            out[case] = (
                (item.status, item.version, item.published_at is not None),
                [(d.state, plain(d.external_ids), plain(d.permalink), d.sent_at is not None, d.lease_owner)
                 for d in deliveries],
                [(a.outcome, plain(a.external_ids), a.finished_at is not None) for a in attempts],
                sorted((a.actor_label, a.action, a.before, a.after) for a in audits),
                [(n.member_id, n.kind, n.state, plain({k: v for k, v in n.payload.items() if k != "receipt_no"}),
                  n.payload.get("receipt_no") == item.receipt_no) for n in notes],
            )
    return out


async def test_one_statement_batch_writes_what_the_transactional_path_writes(hub, net) -> None:
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("the one-statement group commit is PostgreSQL's")
    transactional = _twin(hub, net)
    batch_t = _send_all(hub, transactional)
    autocommitted = _twin(hub, net)
    batch_a = _send_all(hub, autocommitted)
    now = hub.clock.now() + timedelta(seconds=1)
    with hub.transaction() as s:
        done_t = transitions.record_sent_batch(s, batch_t, now=now)
        rollup.roll_up_items(s, {job.item_id for job, _ in batch_t if job.delivery_id in done_t}, now)
    with hub.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        written = sent_batch_pg.record_sent_and_roll_up(conn, sent_batch_pg.SentBatch(batch_a, now))
    done_a, unsettled = written.done, written.unsettled
    assert len(done_a) == len(done_t) == len(batch_a) - 1  # the lost lease is left to its new owner
    assert unsettled == {autocommitted["one_failed_before"]}
    with hub.transaction() as s:
        rollup.roll_up_items(s, unsettled, now)  # what the outcome writer does next
    expected, got = _written(hub, transactional), _written(hub, autocommitted)
    for case in CASES:
        assert got[case] == expected[case], case
    assert got["all_in_batch"][0][0] == "published" and got["one_sent_before"][0][0] == "published"
    assert got["one_failed_before"][0][0] == "partially_published"
    assert got["one_still_pending"][0][0] == "publishing" and got["lease_lost"][0][0] == "publishing"
    assert got["author_suspended"][0][0] == "published" and got["author_suspended"][4] == []
    links = got["one_sent_before"][4][0][3]
    assert "https://t.me/earlier/D0" in links  # a link sent before, read from the table


async def test_the_roll_up_sweep_finishes_an_item_whose_roll_up_was_lost(hub, net) -> None:
    """A crash between the autocommitted batch and the partial roll-up (or two processes each
    recording one of an item's last deliveries): every delivery is done, the item still says
    ``publishing``. The sweep rolls it up, once."""
    items = _twin(hub, net)
    batch = _send_all(hub, items)
    now = hub.clock.now()
    with hub.transaction() as s:
        transitions.record_sent_batch(s, batch, now=now)  # recorded, but never rolled up
        s.execute(update(Delivery).where(Delivery.item_id == items["one_still_pending"],
                                         Delivery.state == "retry_wait")
                  .values(state="cancelled"))
    with hub.transaction() as s:
        sweep_missed_posts(s, now)
    with hub.transaction() as s:
        status = dict(s.execute(select(NewsItem.id, NewsItem.status)).all())
        assert status[items["all_in_batch"]] == "published"
        assert status[items["one_failed_before"]] == "partially_published"
        assert status[items["one_still_pending"]] == "published"  # its other delivery was cancelled
        assert status[items["lease_lost"]] == "publishing"  # a delivery is still in flight
        audits = s.execute(select(AuditEvent.object_id).where(AuditEvent.action.like("item.%"))).scalars().all()
    with hub.transaction() as s:
        sweep_missed_posts(s, now)  # nothing twice
        again = s.execute(select(AuditEvent.object_id).where(AuditEvent.action.like("item.%"))).scalars().all()
    assert sorted(again) == sorted(audits)
