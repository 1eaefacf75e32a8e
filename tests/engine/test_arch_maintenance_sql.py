"""The maintenance services' SQL now in network_hub/outbox (sweep_queries, reconcile_queries):
two reconcilers settle an unknown once, a delivery that is no longer unknown is never settled,
the rescuer's and the sweeper's statements do what the services count — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, Delivery, NewsItem, Notification
from network_hub.outbox import reconcile_queries, sweep_queries
from network_hub.states import DeliveryState, ItemStatus, Platform
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network


def _unknown_delivery(hub, *, platform: str = "facebook") -> tuple[int, int]:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        outlet = add_outlet(s, now, platform=platform, address="1234567890")
        item = add_approved_item(s, now, people.reporter.id, [outlet])
        d = s.scalar(select(Delivery).where(Delivery.item_id == item.id))
        d.state, d.sending_started_at, d.updated_at = DeliveryState.UNKNOWN, now, now
        return d.id, d.fence


def test_two_reconcilers_settle_an_unknown_once(hub) -> None:
    delivery_id, fence = _unknown_delivery(hub)
    hub.clock.advance(minutes=3)
    with hub.transaction() as s:
        [u] = reconcile_queries.unknown_deliveries(s, Platform.FACEBOOK, hub.clock.now(), grace=timedelta(minutes=2))
        assert (u.delivery_id, u.fence) == (delivery_id, fence)
        assert reconcile_queries.unknown_deliveries(s, Platform.TELEGRAM, hub.clock.now(), grace=timedelta(0)) == []
    with hub.transaction() as s:
        assert reconcile_queries.settle(s, delivery_id, fence, found_ids=["p_1"], permalink=None, now=hub.clock.now())
    with hub.transaction() as s:  # the second reconciler read the same row before the first wrote
        assert not reconcile_queries.settle(s, delivery_id, fence, found_ids=None, permalink=None,
                                            now=hub.clock.now())
    with hub.transaction() as s:
        d = s.get(Delivery, delivery_id)
        assert (d.state, d.external_ids, d.fence) == ("sent", ["p_1"], fence + 1)
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "delivery")).all()
        assert list(actions).count("delivery.reconciled_found") == 1
        assert "delivery.reconciled_absent" not in actions


def test_an_unknown_within_its_grace_is_not_looked_at(hub) -> None:
    _unknown_delivery(hub)
    hub.clock.advance(seconds=30)
    with hub.transaction() as s:
        assert reconcile_queries.unknown_deliveries(s, Platform.FACEBOOK, hub.clock.now(),
                                                    grace=timedelta(minutes=2)) == []


def test_absent_sends_again_and_a_settled_delivery_is_left_alone(hub) -> None:
    delivery_id, fence = _unknown_delivery(hub)
    with hub.transaction() as s:
        assert reconcile_queries.settle(s, delivery_id, fence, found_ids=None, permalink=None, now=hub.clock.now())
        d = s.get(Delivery, delivery_id)
        assert d.state == "pending" and d.due_at == hub.clock.now() and "sending again" in d.last_error
    with hub.transaction() as s:  # pending now, with its new fence: not an unknown any more
        assert not reconcile_queries.settle(s, delivery_id, fence + 1, found_ids=["x"], permalink=None,
                                            now=hub.clock.now())
        assert s.get(Delivery, delivery_id).state == "pending"


def test_the_rescuer_marks_a_dead_send_unknown_and_tells_the_moderators(hub) -> None:
    delivery_id, _ = _unknown_delivery(hub)
    with hub.transaction() as s:
        d = s.get(Delivery, delivery_id)
        d.state, d.lease_owner, d.lease_until = DeliveryState.SENDING, "dead", hub.clock.now() + timedelta(seconds=5)
    hub.clock.advance(seconds=6)
    with hub.transaction() as s:
        rescued = sweep_queries.rescue_expired_leases(s, hub.clock.now())
    assert rescued.unknown == [delivery_id] and rescued.released == []
    with hub.transaction() as s:
        assert s.get(Delivery, delivery_id).state == "unknown"
        told = s.scalar(select(func.count()).select_from(Notification)
                        .where(Notification.kind == "delivery_needs_person"))
        assert told and told >= 1


def test_the_sweeper_promotes_reached_schedules_and_counts_overdue(hub) -> None:
    delivery_id, _ = _unknown_delivery(hub)
    now = hub.clock.now()
    with hub.transaction() as s:
        d = s.get(Delivery, delivery_id)
        d.state, d.due_at = DeliveryState.PENDING, now - timedelta(minutes=10)
        item = s.get(NewsItem, d.item_id)
        item.status, item.scheduled_at = ItemStatus.SCHEDULED, now - timedelta(minutes=1)
    with hub.transaction() as s:
        assert sweep_queries.promote_reached_schedules(s, now, late_after=timedelta(minutes=5)) == [item.id]
        assert sweep_queries.promote_reached_schedules(s, now, late_after=timedelta(minutes=5)) == []
        assert sweep_queries.count_overdue(s, now, overdue=timedelta(minutes=5)) == 1
        assert sweep_queries.cancel_withdrawn_waiting(s, now) == 0  # the item is not withdrawn
        assert s.get(NewsItem, item.id).status == "approved"
