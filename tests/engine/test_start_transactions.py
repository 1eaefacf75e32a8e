"""How a start meets the database (issue 11 step 6, second pass): on SQLite the successes waiting
for the group commit ride in the next start's transaction, and go back to the group commit when
that transaction fails; on PostgreSQL a start is one autocommitted statement on connections the
dispatcher keeps, rows it did not start are settled in a transaction of their own, and the kept
connections are closed when the dispatcher stops. Nothing lost, nothing sent twice, on both."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select, update

from jobs.dispatch import Dispatcher
from network_hub.db.models import AuditEvent, Delivery, DeliveryAttempt, NewsItem, Notification
from network_hub.outbox import queries, transitions
from network_hub.outbox.sent_batch_pg import SentBatch
from tests.engine.builders import add_approved_item, add_outlet
from tests.engine.test_hot_path import LEASE, claim, prepare, states


def _items(hub, net, count: int, addresses: tuple[str, ...] = ("a", "b")) -> None:
    with hub.transaction() as s:
        outlets = [add_outlet(s, hub.clock.now(), address=a) for a in addresses]
        for _ in range(count):
            add_approved_item(s, hub.clock.now(), net.reporter.id, outlets)


async def test_successes_ride_in_the_next_start(hub, net, pubs, monkeypatch) -> None:
    """SQLite: in the start's transaction; PostgreSQL: in the start's one statement. Every item is
    published with its audit row and notification, each delivery sent and recorded once."""
    _items(hub, net, 20)
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=4, batch=8, rng=random.Random(1))
    taken: list[int] = []
    if hub.engine.dialect.name == "sqlite":
        original = dispatcher.outcomes.write_taken

        def counting(connection, batch):
            taken.append(len(batch))
            return original(connection, batch)

        dispatcher.outcomes.write_taken = counting  # type: ignore[method-assign]
    else:
        original_start = transitions.start_prepared

        def counting_start(*args, riding=None, **kwargs):
            taken.append(len(riding.sent) if riding is not None else 0)
            return original_start(*args, riding=riding, **kwargs)

        monkeypatch.setattr(transitions, "start_prepared", counting_start)
    report = await dispatcher.run_once()
    assert report.sent == 40 and set(states(hub).values()) == {"sent"}
    assert sum(taken) > 0  # some outcomes were written by starts, not by their own transaction
    assert len(pubs.get("sandbox").all_posts()) == 40  # each once
    with hub.transaction() as s:
        assert set(s.execute(select(NewsItem.status)).scalars()) == {"published"}
        assert sorted(s.execute(select(DeliveryAttempt.outcome)).scalars()) == ["sent"] * 40
        published = s.execute(select(AuditEvent.object_id).where(AuditEvent.action == "item.published")).scalars()
        assert len(set(published)) == 20
        notes = s.execute(select(Notification.item_id).where(Notification.kind == "item_published")).scalars().all()
        assert len(notes) == len(set(notes)) == 20


async def test_postgresql_a_start_riding_with_a_failed_item_rolls_it_up(hub, net, pubs) -> None:
    """A success riding in a start finishes an item whose other delivery failed: the start rolls
    it up (partially published, moderators told) right after its statement."""
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("successes ride in the start's statement on PostgreSQL")
    from publishers.base import PublishResult

    _items(hub, net, 1)
    _items(hub, net, 1, addresses=("c",))
    jobs = prepare(hub, claim(hub, 3))
    with hub.transaction() as s:
        started = transitions.start_prepared(s, jobs, worker="w", now=hub.clock.now(), lease=LEASE)
        by_item: dict[int, list] = {}
        for job in started:
            by_item.setdefault(job.item_id, []).append(job)
        (first, second), (other,) = sorted(by_item.values(), key=len, reverse=True)
        s.execute(update(Delivery).where(Delivery.id == first.delivery_id).values(state="failed"))
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=2, batch=2, rng=random.Random(1))
    _items(hub, net, 1, addresses=("d",))
    to_start = prepare(hub, claim(hub, 1))
    riding = SentBatch([(second, PublishResult(external_ids=["1"])), (other, PublishResult(external_ids=["2"]))],
                       hub.clock.now())
    started = dispatcher._start_autocommit(to_start, riding)
    assert len(started) == 1 and riding.done == {second.delivery_id, other.delivery_id}
    assert riding.unsettled == {first.item_id}
    with hub.transaction() as s:
        status = dict(s.execute(select(NewsItem.id, NewsItem.status)).all())
    assert status[first.item_id] == "partially_published" and status[other.item_id] == "published"
    assert status[to_start[0].item_id] == "publishing"
    await dispatcher.stop()


async def test_outcomes_taken_by_a_failed_start_go_back_to_the_group_commit(hub, net, pubs, monkeypatch) -> None:
    _items(hub, net, 6)
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=2, batch=12, rng=random.Random(1))
    original = transitions.start_prepared
    calls = {"n": 0}

    def failing_second_start(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first sends ended: their successes are in this transaction
            raise RuntimeError("the database went away mid-start")
        return original(*args, **kwargs)

    monkeypatch.setattr(transitions, "start_prepared", failing_second_start)
    report = await dispatcher.run_once()
    sent_first = report.sent
    assert sent_first >= 1  # the successes of the first start were recorded although the second failed
    rows = states(hub)
    assert list(rows.values()).count("sent") == sent_first
    assert "sending" not in rows.values()  # nothing left half-recorded
    monkeypatch.setattr(transitions, "start_prepared", original)
    hub.clock.advance(seconds=hub.settings.lease_seconds + 1)  # the failed start's claims: lease over,
    with hub.transaction() as s:  # and the lease sweep hands them back (never sent)
        assert queries.expire_leases(s, hub.clock.now())[1] == []  # none was `sending`
    await dispatcher.run_once()
    assert set(states(hub).values()) == {"sent"}
    by_outlet = {address: [post.receipt_no for _, post in posts]
                 for address, posts in pubs.get("sandbox").posts.items()}
    assert sorted(by_outlet) == ["a", "b"]
    assert all(len(r) == 6 and len(set(r)) == 6 for r in by_outlet.values())  # each item once per outlet


async def test_postgresql_autocommit_start_settles_what_it_did_not_start(hub, net, pubs) -> None:
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("the autocommitted start is PostgreSQL's")
    _items(hub, net, 3, addresses=("a",))
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=3, batch=3, rng=random.Random(1))
    jobs = prepare(hub, claim(hub, 3))
    edited, withdrawn = jobs[0].item_id, jobs[1].item_id
    with hub.transaction() as s:  # after the claim: one item edited, one withdrawn
        s.execute(update(NewsItem).where(NewsItem.id == edited).values(version=NewsItem.version + 1))
        s.execute(update(NewsItem).where(NewsItem.id == withdrawn).values(status="withdrawn"))
    started = dispatcher._start_autocommit(jobs)
    assert [j.item_id for j in started] == [jobs[2].item_id]
    with hub.transaction() as s:
        by_item = dict(s.execute(select(Delivery.item_id, Delivery.state)).all())
    assert by_item == {edited: "pending", withdrawn: "cancelled", jobs[2].item_id: "sending"}
    assert dispatcher._autocommit_connections.qsize() == 1  # kept for the next start
    await dispatcher.stop()
    assert dispatcher._autocommit_connections.qsize() == 0
    with hub.engine.connect() as c:  # the kept connection went back to the pool, closed
        assert c.exec_driver_sql("SELECT 1").scalar() == 1
    assert hub.engine.pool.checkedout() == 0


async def test_a_sent_batch_with_one_lost_lease_records_exactly_the_others(hub, net) -> None:
    """The executemany of `sent` writes the rows it can; a row whose lease was lost meanwhile is
    left to its new owner, and the rows written are found by reading back (not by writing again)."""
    from publishers.base import PublishResult

    _items(hub, net, 2, addresses=("a",))
    jobs = prepare(hub, claim(hub, 2))
    with hub.transaction() as s:
        started = transitions.start_prepared(s, jobs, worker="w", now=hub.clock.now(), lease=LEASE)
    lost, kept = started
    with hub.transaction() as s:  # another worker took `lost` over (its fence moved)
        s.execute(update(Delivery).where(Delivery.id == lost.delivery_id).values(fence=Delivery.fence + 1))
    now = hub.clock.now()
    with hub.transaction() as s:
        done = transitions.record_sent_batch(s, [
            (j, PublishResult(external_ids=[f"m{j.delivery_id}", "ข่าว-2"], permalink=f"https://t.me/c/{j.delivery_id}"))
            for j in (lost, kept)], now=now)
    assert done == {kept.delivery_id}
    with hub.transaction() as s:
        rows = {r.id: r for r in s.execute(select(Delivery.id, Delivery.state, Delivery.external_ids,
                                                  Delivery.permalink, Delivery.sent_at, Delivery.lease_owner)).all()}
        attempts = {a.delivery_id: a for a in s.scalars(select(DeliveryAttempt))}
    sent = rows[kept.delivery_id]
    assert (sent.state, sent.external_ids, sent.permalink, sent.sent_at, sent.lease_owner) == (
        "sent", [f"m{kept.delivery_id}", "ข่าว-2"], f"https://t.me/c/{kept.delivery_id}", now, None)
    assert rows[lost.delivery_id].state == "sending"  # its new owner decides
    assert rows[lost.delivery_id].external_ids == [] and rows[lost.delivery_id].permalink is None
    assert (attempts[kept.delivery_id].outcome, attempts[kept.delivery_id].external_ids,
            attempts[kept.delivery_id].finished_at) == ("sent", [f"m{kept.delivery_id}", "ข่าว-2"], now)
    assert (attempts[lost.delivery_id].outcome, attempts[lost.delivery_id].finished_at) == (None, None)


async def test_postgresql_a_dropped_kept_connection_is_replaced(hub, net, pubs) -> None:
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("the kept start connections are PostgreSQL's")
    _items(hub, net, 2, addresses=("a",))
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=1, batch=1, rng=random.Random(1))
    first = dispatcher._start_autocommit(prepare(hub, claim(hub, 1)))
    assert len(first) == 1
    kept = dispatcher._autocommit_connections.get_nowait()
    pid = kept.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    dispatcher._autocommit_connections.put(kept)
    with hub.engine.connect() as admin:  # the database drops it (a restart, an idle timeout)
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    second = dispatcher._start_autocommit(prepare(hub, claim(hub, 1)))
    assert len(second) == 1  # started on a new connection, once
    with hub.transaction() as s:
        assert sorted(s.execute(select(Delivery.state)).scalars()) == ["sending", "sending"]
        assert len(s.execute(select(DeliveryAttempt.id)).scalars().all()) == 2  # one attempt each
    await dispatcher.stop()


async def test_postgresql_group_commits_reuse_a_kept_connection_and_survive_its_loss(hub, net, pubs, caplog) -> None:
    """Starts and group commits run on autocommit connections the dispatcher keeps; when the
    database drops them, the start and the writer each retry on a new one and every outcome is
    recorded once; ``stop`` closes them all."""
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("the kept autocommit connections are PostgreSQL's")
    _items(hub, net, 2, addresses=("a",))
    dispatcher = Dispatcher(hub, pubs, owner="w", concurrency=2, batch=2, rng=random.Random(1))
    assert (await dispatcher.run_once()).sent == 2
    kept = []
    while not dispatcher._autocommit_connections.empty():
        kept.append(dispatcher._autocommit_connections.get_nowait())
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in kept]
    for conn in kept:
        dispatcher._autocommit_connections.put(conn)
    with hub.engine.connect() as admin:  # the database drops them (a restart, an idle timeout)
        for pid in pids:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    _items(hub, net, 4, addresses=("a",))
    report = await dispatcher.run_once()
    assert report.sent == 4 and report.outcomes == {"sent": 4}
    with hub.transaction() as s:
        assert sorted(s.execute(select(Delivery.state)).scalars()) == ["sent"] * 6
        assert sorted(s.execute(select(DeliveryAttempt.outcome)).scalars()) == ["sent"] * 6
        assert sorted(s.execute(select(NewsItem.status)).scalars()) == ["published"] * 6
    assert dispatcher._autocommit_connections.qsize() >= 1
    await dispatcher.stop()
    assert dispatcher._autocommit_connections.qsize() == 0
    assert hub.engine.pool.checkedout() == 0
