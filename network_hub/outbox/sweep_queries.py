"""The SQL of the engine's maintenance sweeps (run by ``jobs.sweeps``, the rescuer and the sweeper).

- ``rescue_expired_leases``: claimed past its lease → pending (nothing was sent); sending past its
  lease → unknown (it may have been), the area's moderators told; send-ledger rows no window can
  count any more are pruned;
- ``promote_reached_schedules``: scheduled items whose time came (e.g. during downtime) → approved;
- ``cancel_withdrawn_waiting``: waiting deliveries of withdrawn items → cancelled (nothing would
  ever claim them);
- ``count_overdue``: deliveries waiting well past their due time (blocked, paused or paced outlets).

Every statement is idempotent, so every process may run the sweeps. Delivery moves are checked
against the state machine (``lifecycle``) like every other writer of delivery state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Delivery, NewsItem
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox import ledger, lifecycle, queries, rollup
from network_hub.outbox.routing_people import moderators_of_village
from network_hub.states import DeliveryState, ItemStatus

# Send-ledger rows older than any window or lease (lease_seconds ≤ 3600) count for nothing.
LEDGER_KEEP = timedelta(hours=1, minutes=5)
WAITING = (DeliveryState.PENDING, DeliveryState.RETRY_WAIT)


@dataclass(frozen=True)
class Rescued:
    released: list[int]  # claimed → pending
    unknown: list[int]  # sending → unknown
    pruned: int  # send-ledger rows dropped


def rescue_expired_leases(session: Session, now: datetime, *, ledger_keep: timedelta = LEDGER_KEEP) -> Rescued:
    """Expire the deliveries' leases, tell the moderators about each new unknown, prune the ledger."""
    released, unknown = queries.expire_leases(session, now)
    pruned = ledger.prune(session, now, keep=ledger_keep)
    # One query for the items and one per village for its moderators: after a crash there can be
    # hundreds of unknowns, and this transaction must stay short enough to commit on a flaky link.
    rows = session.execute(
        select(Delivery.id, NewsItem.id, NewsItem.village_code, NewsItem.receipt_no)
        .join(NewsItem, NewsItem.id == Delivery.item_id)
        .where(Delivery.id.in_(unknown))
    ).all() if unknown else []
    moderators: dict[str, list[int]] = {}
    for delivery_id, item_id, village_code, receipt_no in rows:
        if village_code not in moderators:
            moderators[village_code] = moderators_of_village(session, village_code)
        for member_id in moderators[village_code]:
            enqueue(session, member_id=member_id, kind=NotificationKind.DELIVERY_NEEDS_PERSON, now=now,
                    item_id=item_id, payload={"state": "unknown", "delivery_id": delivery_id,
                                              "receipt_no": receipt_no,
                                              "error": "the hub stopped while sending"})
    return Rescued(released, unknown, pruned)


def promote_reached_schedules(session: Session, now: datetime, *, late_after: timedelta) -> list[int]:
    """Scheduled items whose time came → approved (audited, with how late when over ``late_after``)."""
    due_items = session.execute(
        update(NewsItem)
        .where(NewsItem.status == ItemStatus.SCHEDULED, NewsItem.scheduled_at <= now)
        .values(status=ItemStatus.APPROVED, updated_at=now, version=NewsItem.version + 1)
        .returning(NewsItem.id, NewsItem.scheduled_at)
    ).all()
    for item_id, scheduled_at in due_items:
        late = now - scheduled_at
        audit.record(session, at=now, action="item.schedule_reached", object_type="news_item", object_id=item_id,
                     before={"status": "scheduled"}, after={"status": "approved"},
                     reason=f"scheduled time reached ({int(late.total_seconds())} s late)" if late > late_after
                     else None)
    return [item_id for item_id, _ in due_items]


def cancel_withdrawn_waiting(session: Session, now: datetime) -> int:
    """A send that failed while its item was being withdrawn waits in retry_wait; nothing will ever
    claim it (the item is not postable), so settle it visibly instead of leaving it waiting."""
    for source in WAITING:
        lifecycle.check(source, DeliveryState.CANCELLED)
    return session.execute(
        update(Delivery)
        .where(Delivery.state.in_(WAITING),
               Delivery.item_id.in_(select(NewsItem.id).where(NewsItem.status == ItemStatus.WITHDRAWN)))
        .values(state=DeliveryState.CANCELLED, last_error="not sent: the item was withdrawn", updated_at=now)
    ).rowcount


def count_overdue(session: Session, now: datetime, *, overdue: timedelta) -> int:
    """Deliveries still waiting more than ``overdue`` after their due time."""
    return int(session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.state.in_(WAITING),
                                                         Delivery.due_at < now - overdue)
    ) or 0)


# Items the roll-up sweep looks at per pass (the oldest first); the next pass takes the rest.
ROLL_UP_SWEEP_LIMIT = 200


def roll_up_finished_items(session: Session, now: datetime, *, limit: int = ROLL_UP_SWEEP_LIMIT) -> dict[int, str]:
    """Items still ``approved``/``scheduled``/``publishing`` whose deliveries are all done (none in
    flight, at least one sent or failed): rolled up (``rollup.roll_up_items``). The outcome writer
    rolls items up as it records sends; this catches the few it cannot — PostgreSQL's partial
    roll-up after an autocommitted batch lost to a crash, or two processes each recording one of an
    item's last deliveries at the same moment (neither sees the other's uncommitted row)."""
    done_states = (DeliveryState.SENT, DeliveryState.FAILED)
    ids = session.execute(
        select(NewsItem.id)
        .where(NewsItem.status.in_((ItemStatus.APPROVED, ItemStatus.SCHEDULED, ItemStatus.PUBLISHING)),
               select(Delivery.id).where(Delivery.item_id == NewsItem.id, Delivery.state.in_(done_states)).exists(),
               ~select(Delivery.id).where(Delivery.item_id == NewsItem.id,
                                          Delivery.state.in_(rollup.IN_FLIGHT)).exists())
        .order_by(NewsItem.id).limit(limit)
    ).scalars().all()
    return rollup.roll_up_items(session, set(ids), now) if ids else {}
