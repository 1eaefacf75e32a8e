"""Maintenance sweeps, run by every process (each is idempotent):

- the lease sweep: claimed past its lease → pending; sending past its lease → unknown;
- the missed-post sweep: scheduled items whose time came (e.g. during downtime) are marked
  approved, deliveries of withdrawn items still waiting are cancelled, and overdue work is
  logged, so nothing waits silently.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Delivery, NewsItem
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox import ledger, queries
from network_hub.outbox.routing_people import moderators_of_village
from network_hub.states import DeliveryState, ItemStatus

log = logging.getLogger(__name__)
OVERDUE = timedelta(minutes=5)
# Send-ledger rows older than any window or lease (lease_seconds ≤ 3600) count for nothing.
LEDGER_KEEP = timedelta(hours=1, minutes=5)


def sweep_leases(session: Session, now: datetime) -> tuple[int, int]:
    released, unknown = queries.expire_leases(session, now)
    ledger.prune(session, now, keep=LEDGER_KEEP)
    if released or unknown:
        log.warning("lease sweep: %d claim(s) released, %d in-flight send(s) marked unknown",
                    len(released), len(unknown))
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
    return len(released), len(unknown)


def sweep_missed_posts(session: Session, now: datetime) -> int:
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
                     reason=f"scheduled time reached ({int(late.total_seconds())} s late)" if late > OVERDUE
                     else None)
    # A send that failed while its item was being withdrawn waits in retry_wait; nothing will ever
    # claim it (the item is not postable), so settle it visibly instead of leaving it waiting.
    session.execute(
        update(Delivery)
        .where(Delivery.state.in_((DeliveryState.PENDING, DeliveryState.RETRY_WAIT)),
               Delivery.item_id.in_(select(NewsItem.id).where(NewsItem.status == ItemStatus.WITHDRAWN)))
        .values(state=DeliveryState.CANCELLED, last_error="not sent: the item was withdrawn", updated_at=now)
    )
    overdue = session.scalar(
        select(func.count()).select_from(Delivery).where(
            Delivery.state.in_((DeliveryState.PENDING, DeliveryState.RETRY_WAIT)), Delivery.due_at < now - OVERDUE)
    )
    if overdue:
        log.info("missed-post sweep: %d deliveries are more than %s past due (blocked, paused or paced outlets)",
                 overdue, OVERDUE)
    return len(due_items)
