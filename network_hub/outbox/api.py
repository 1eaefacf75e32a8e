"""What the newsroom asks of the delivery engine. ``network_hub/outbox/`` is the only writer of
delivery and follow-up state: moderation decides *what* happens to an item and calls these
functions in its own transaction; they check every move against the state machine
(``lifecycle.check``), bump fences where a worker may hold a lease, and announce new work to every
hub process (``signals.announce``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.db.models import Delivery
from network_hub.errors import Conflict
from network_hub.outbox import lifecycle, signals
from network_hub.states import DeliveryState, FollowupAction, FollowupState

S = DeliveryState
# Not (or not yet) on the platform: withdrawing cancels these.
UNSENT = frozenset({S.PENDING, S.RETRY_WAIT, S.FAILED, S.CLAIMED})
# On the platform, or maybe: withdrawing or correcting needs a follow-up on these.
MAY_BE_POSTED = frozenset({S.SENT, S.SENDING, S.UNKNOWN})


def deliveries_of(session: Session, item_id: int) -> list[Delivery]:
    """The item's deliveries, locked for the caller's transaction (PostgreSQL row locks)."""
    return list(session.scalars(
        select(Delivery).where(Delivery.item_id == item_id).order_by(Delivery.id).with_for_update()))


def _move(delivery: Delivery, target: DeliveryState, now: datetime) -> None:
    lifecycle.check(delivery.state, target)
    delivery.state = target.value
    delivery.updated_at = now


def schedule(session: Session, item_id: int, outlet_ids: Sequence[int], *, due_at: datetime, now: datetime,
             receipt_no: str = "") -> list[Delivery]:
    """One pending delivery per outlet, due at ``due_at`` (an approval, now or for later). A row
    cancelled earlier (an unscheduled item) starts over; anything else in flight is refused."""
    existing = {d.outlet_id: d for d in deliveries_of(session, item_id)}
    out: list[Delivery] = []
    for outlet_id in outlet_ids:
        delivery = existing.get(outlet_id)
        if delivery is None:
            delivery = Delivery(item_id=item_id, outlet_id=outlet_id, state=S.PENDING.value, due_at=due_at,
                                attempts=0, fence=0, external_ids=[], parts_done=0, created_at=now,
                                updated_at=now)
            session.add(delivery)
        elif delivery.state in (S.CANCELLED, S.PENDING):
            _move(delivery, S.PENDING, now)
            delivery.due_at = due_at
            delivery.not_before = None
            delivery.attempts = 0
            delivery.parts_done = 0
            delivery.lease_owner = None
            delivery.lease_until = None
            delivery.last_error = None
            delivery.last_error_class = None
            delivery.sending_started_at = None
            delivery.followup_action = None
            delivery.followup_state = None
            delivery.followup_error = None
        else:  # cannot happen through moderation: a submitted item has nothing in flight
            raise Conflict(
                f"delivery {delivery.id} of item {receipt_no or item_id} is {delivery.state}; resolve it first",
                f"ข่าว {receipt_no} มีรายการเผยแพร่ที่ยังค้างอยู่ กรุณาตรวจสอบก่อน",
            )
        out.append(delivery)
    signals.announce(session)
    return out


def started(deliveries: Iterable[Delivery]) -> list[Delivery]:
    """Deliveries whose publishing has begun (the schedule can no longer change)."""
    return [d for d in deliveries if d.state not in (S.PENDING, S.CANCELLED)]


def reschedule_pending(session: Session, deliveries: Iterable[Delivery], *, due_at: datetime, now: datetime) -> None:
    for delivery in deliveries:
        if delivery.state == S.PENDING:
            delivery.due_at = due_at
            delivery.updated_at = now
    signals.announce(session)


def cancel_pending(deliveries: Iterable[Delivery], *, now: datetime) -> list[int]:
    """Unschedule: pending deliveries are cancelled."""
    cancelled = []
    for delivery in deliveries:
        if delivery.state == S.PENDING:
            _move(delivery, S.CANCELLED, now)
            cancelled.append(delivery.id)
    return cancelled


def cancel_unsent(deliveries: Iterable[Delivery], *, now: datetime) -> list[int]:
    """Withdraw: every delivery not (yet) on the platform is cancelled; a claimed one also loses
    its lease (the fence is bumped, so the worker holding it cannot write back)."""
    cancelled = []
    for delivery in deliveries:
        if delivery.state not in UNSENT:
            continue
        if delivery.state == S.CLAIMED:
            delivery.fence += 1
            delivery.lease_owner = None
            delivery.lease_until = None
        _move(delivery, S.CANCELLED, now)
        cancelled.append(delivery.id)
    return cancelled


def request_followup(session: Session, deliveries: Iterable[Delivery], action: FollowupAction, *,
                     now: datetime) -> list[int]:
    """A correction (edit) or withdrawal (delete) of every delivery that is or may be posted."""
    asked = []
    for delivery in deliveries:
        if delivery.state in MAY_BE_POSTED:
            delivery.followup_action = FollowupAction(action).value
            delivery.followup_state = FollowupState.PENDING.value
            delivery.followup_error = None
            delivery.updated_at = now
            asked.append(delivery.id)
    if asked:
        signals.announce(session)
    return asked
