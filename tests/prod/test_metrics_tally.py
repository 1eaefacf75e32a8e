"""The metrics collector counts send attempts incrementally (``AttemptTally``): across scrapes it
agrees with a full count, an outcome written after a scrape is seen, and settled history is not
read again. Both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, update

from network_hub.db.models import Delivery, DeliveryAttempt
from network_hub.hub import Hub
from network_hub.metrics import SETTLED_AFTER, AttemptTally, snapshot
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network


def add_attempts(hub: Hub, delivery_ids: list[int], started: datetime, outcome: str | None) -> list[int]:
    with hub.transaction() as s:
        return list(s.scalars(insert(DeliveryAttempt).returning(DeliveryAttempt.id), [
            dict(delivery_id=d, attempt_no=1, fence=1, worker="t", started_at=started, outcome=outcome,
                 external_ids=[]) for d in delivery_ids]))


def attempts(hub: Hub, tally: AttemptTally | None = None) -> dict[tuple[str, str], int]:
    with hub.transaction() as s:
        return snapshot(s, hub.clock.now(), tally)["attempts"]


def test_the_tally_agrees_with_a_full_count_and_sees_late_outcomes(hub: Hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        outlets = [add_outlet(s, now, platform="telegram", address="-1001"),
                   add_outlet(s, now, platform="facebook", address="page-1")]
        add_approved_item(s, now, people.reporter.id, outlets)
    with hub.transaction() as s:
        tg_delivery, fb_delivery = s.scalars(select(Delivery.id).order_by(Delivery.outlet_id)).all()
    old = now - SETTLED_AFTER - timedelta(days=3)
    add_attempts(hub, [tg_delivery, fb_delivery] * 50, old, "sent")
    add_attempts(hub, [tg_delivery], old, "rate_limited")
    tally = AttemptTally()

    first = attempts(hub, tally)
    assert first == attempts(hub) == {("telegram", "sent"): 50, ("facebook", "sent"): 50,
                                      ("telegram", "rate_limited"): 1}

    # A send in flight now, finished after a scrape: the next scrape sees its outcome.
    [in_flight] = add_attempts(hub, [tg_delivery], now, None)
    assert attempts(hub, tally)[("telegram", "in_flight")] == 1
    with hub.transaction() as s:
        s.execute(update(DeliveryAttempt).where(DeliveryAttempt.id == in_flight).values(outcome="sent"))
    second = attempts(hub, tally)
    assert second == attempts(hub) and second[("telegram", "sent")] == 51 and ("telegram", "in_flight") not in second

    # An hour later everything is settled: scrapes read only attempts after the watermark.
    hub.clock.set(now + SETTLED_AFTER + timedelta(minutes=1))
    assert attempts(hub, tally) == second
    grouped: list[Any] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "delivery_attempts" in statement and "GROUP BY" in statement.upper():
            grouped.append(parameters)

    event.listen(hub.engine, "before_cursor_execute", seen)
    try:
        assert attempts(hub, tally) == second
    finally:
        event.remove(hub.engine, "before_cursor_execute", seen)
    # One grouped read, of the attempts after the newest settled one (none): no history re-read.
    assert len(grouped) == 1 and in_flight in (grouped[0].values() if isinstance(grouped[0], dict) else grouped[0])


def test_a_long_history_is_folded_by_a_join_with_the_same_counts(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from network_hub import metrics

    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        outlets = [add_outlet(s, now, platform="line", address="C1"), add_outlet(s, now, platform="sandbox")]
        add_approved_item(s, now, people.reporter.id, outlets)
    with hub.transaction() as s:
        line_delivery, sandbox_delivery = s.scalars(select(Delivery.id).order_by(Delivery.outlet_id)).all()
    old = now - SETTLED_AFTER - timedelta(days=1)
    add_attempts(hub, [line_delivery] * 7 + [sandbox_delivery] * 3, old, "sent")
    add_attempts(hub, [line_delivery], old, "ambiguous")
    add_attempts(hub, [sandbox_delivery], now, "retryable")
    lookups = attempts(hub, AttemptTally())
    monkeypatch.setattr(metrics, "JOIN_ABOVE", 0)  # the first scrape of a long-running hub's process
    joined = attempts(hub, AttemptTally())
    assert joined == lookups == {("line", "sent"): 7, ("sandbox", "sent"): 3, ("line", "ambiguous"): 1,
                                 ("sandbox", "retryable"): 1}
