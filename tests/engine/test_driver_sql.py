"""DriverStatement: the same rows, types and errors as SQLAlchemy's Core execution, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, event, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from network_hub.db.models import Delivery, DeliveryAttempt, NewsItem
from network_hub.db.types import UTCDateTime
from network_hub.outbox.driver_sql import DriverStatement, MultiRowInsert
from tests.engine.builders import add_approved_item, add_outlet

D, T, I = Delivery.__table__, DeliveryAttempt.__table__, NewsItem.__table__  # noqa: E741
_UTC = UTCDateTime()


@pytest.fixture
def deliveries(hub, net):
    now = hub.clock.now()
    with hub.transaction() as s:
        outlets = [add_outlet(s, now), add_outlet(s, now, area="52")]
        item = add_approved_item(s, now, net.reporter.id, outlets)
        ids = s.execute(select(D.c.id).where(D.c.item_id == item.id).order_by(D.c.id)).scalars().all()
        return list(ids), item.id


def test_rows_match_core_with_expanding_tuples_and_datetimes(hub, deliveries):
    ids, _ = deliveries
    stmt = (select(D.c.id, D.c.fence, D.c.due_at, D.c.external_ids)
            .where(tuple_(D.c.id, D.c.fence).in_(bindparam("pairs", expanding=True)),
                   D.c.state.in_(("pending", "retry_wait")), D.c.due_at <= bindparam("now", type_=_UTC))
            .order_by(D.c.id))
    fast = DriverStatement(stmt)
    now = hub.clock.now() + timedelta(days=1)
    with hub.transaction() as s:
        for pairs in ([(ids[0], 0)], [(i, 0) for i in ids], [(ids[-1], 0), (10**6, 0)]):
            core = [tuple(r) for r in s.execute(stmt, {"pairs": pairs, "now": now}).all()]
            driver = fast.rows(s, {"pairs": pairs, "now": now})
            assert [tuple(r) for r in driver] == core and core
            assert all(r.due_at.tzinfo is UTC for r in driver)  # UTCDateTime's result processing
            assert driver[0].id == core[0][0]


def test_update_executemany_and_counting_listeners(hub, deliveries):
    ids, _ = deliveries
    stmt = update(D).where(D.c.id == bindparam("d_id")).values(
        updated_at=bindparam("d_at", type_=_UTC), external_ids=bindparam("d_ids"))
    fast = DriverStatement(stmt)
    at = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)  # microsecond 0: stored the way SQLAlchemy stores it
    seen = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(hub.engine, "before_cursor_execute", listener)
    try:
        with hub.transaction() as s:
            changed = fast.executemany(s, [{"d_id": i, "d_at": at, "d_ids": ["m-1", f"x{i}"]} for i in ids])
    finally:
        event.remove(hub.engine, "before_cursor_execute", listener)
    assert changed == len(ids)
    assert sum(1 for sql in seen if sql.startswith("UPDATE deliveries")) == 1
    with hub.transaction() as s:
        rows = s.execute(select(D.c.id, D.c.updated_at, D.c.external_ids).where(D.c.id.in_(ids))).all()
        # compared through Core, so the stored text of SQLite's datetimes matches what Core writes
        assert {r.id: (r.updated_at, r.external_ids) for r in rows} == {i: (at, ["m-1", f"x{i}"]) for i in ids}
        assert s.execute(select(D.c.id).where(D.c.updated_at == at)).scalars().all() == sorted(ids)


def test_multi_row_insert_returns_ids(hub, deliveries):
    ids, _ = deliveries
    fast = MultiRowInsert(T, ("delivery_id", "attempt_no", "fence", "worker", "started_at", "external_ids"),
                          returning=(T.c.delivery_id, T.c.id))
    now = hub.clock.now()
    with hub.transaction() as s:
        made = fast.rows(s, [{"delivery_id": i, "attempt_no": 1, "fence": 1, "worker": "w", "started_at": now,
                              "external_ids": []} for i in ids])
        assert sorted(r.delivery_id for r in made) == sorted(ids)
        stored = s.execute(select(T.c.id, T.c.delivery_id, T.c.started_at).where(T.c.worker == "w")).all()
    assert {r.id: r.delivery_id for r in stored} == {r.id: r.delivery_id for r in made}
    assert all(r.started_at == now for r in stored)


def test_errors_are_sqlalchemys_and_roll_back(hub, deliveries):
    ids, _ = deliveries
    fast = DriverStatement(insert(T).values(delivery_id=bindparam("d"), attempt_no=1, fence=1, worker="w",
                                             started_at=bindparam("at", type_=_UTC), external_ids=[]))
    with pytest.raises(IntegrityError), hub.transaction() as s:
        fast.execute(s, {"d": ids[0], "at": hub.clock.now()})
        fast.execute(s, {"d": None, "at": hub.clock.now()})  # delivery_id is NOT NULL
    with hub.transaction() as s:
        assert s.execute(select(T.c.id).where(T.c.worker == "w")).all() == []  # the first insert rolled back


def test_python_side_defaults_are_refused(hub):
    # news_items has Python-side defaults (created_at …) that only SQLAlchemy's execution evaluates
    with hub.transaction() as s, pytest.raises(ValueError, match="Python-side defaults"):
        DriverStatement(insert(I), column_keys=["title"]).execute(s, {"title": "x"})
