"""The DM outbox: messages to members (item status, reminders, digests, alerts).

Domain code enqueues; a notifier (the Telegram bot when configured) sends. Until a notifier
exists the rows stay listed, so nothing a person should hear about is lost. Quiet hours move
``due_at`` later; they never drop a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from network_hub.db.models import Member, Notification
from network_hub.states import MemberStatus, NotificationState


class NotificationKind:
    ITEM_RECEIVED = "item_received"
    ITEM_APPROVED = "item_approved"
    ITEM_SCHEDULED = "item_scheduled"
    ITEM_PUBLISHED = "item_published"
    ITEM_PARTIALLY_PUBLISHED = "item_partially_published"
    ITEM_FAILED = "item_failed"
    ITEM_RETURNED = "item_returned"
    ITEM_REJECTED = "item_rejected"
    ITEM_EDITED = "item_edited"
    ITEM_WITHDRAWN = "item_withdrawn"
    ITEM_UNSCHEDULED = "item_unscheduled"  # a scheduled item went back to the queue
    REMINDER = "reminder"
    DIGEST = "digest"
    DELIVERY_NEEDS_PERSON = "delivery_needs_person"
    OUTLET_NEEDS_HUMAN = "outlet_needs_human"


def enqueue(
    session: Session,
    *,
    member_id: int,
    kind: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    item_id: int | None = None,
    due_at: datetime | None = None,
) -> Notification | None:
    """Queue a message for a member; members who are not active get nothing."""
    member = session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        return None
    row = Notification(
        member_id=member_id,
        kind=kind,
        item_id=item_id,
        payload=payload or {},
        state=NotificationState.PENDING,
        due_at=due_at or now,
        created_at=now,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class SendOutcome:
    """What a notifier reports: ``sent``, ``unreachable`` (never started/blocked the bot),
    ``failed`` (permanent), or ``pending`` with ``retry_after`` seconds (a transient failure)."""

    state: str
    error: str | None = None
    retry_after: float | None = None


class Notifier(Protocol):
    """What sends notifications (implemented by the bot). Raises nothing."""

    async def send(self, notification: Notification, member: Member) -> SendOutcome: ...


def claim_due(session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Lease pending notifications that are due (several processes never send one twice)."""
    from network_hub.outbox import leasing  # the hub's one claim primitive

    t = Notification.__table__
    return leasing.lease(
        session, t,
        eligible=and_(t.c.state == NotificationState.PENDING, t.c.due_at <= now,
                      or_(t.c.lease_until.is_(None), t.c.lease_until < now)),
        order_by=[t.c.due_at, t.c.id], limit=limit, owner=owner, now=now, ttl=lease,
        values={"attempts": t.c.attempts + 1},
    )


def finish(session: Session, notification_id: int, *, owner: str, state: str, now: datetime,
           error: str | None = None, retry_at: datetime | None = None) -> bool:
    """Record a send's result; ``retry_at`` puts a transient failure back in the queue."""
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "last_error": error}
    if retry_at is not None:
        values.update(state=NotificationState.PENDING, due_at=retry_at)
    else:
        values.update(state=state, sent_at=now if state == NotificationState.SENT else None)
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.lease_owner == owner,
               Notification.state == NotificationState.PENDING)
        .values(**values)
    )
    return result.rowcount == 1


def list_notifications(session: Session, *, state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    q = select(Notification, Member.name).join(Member, Member.id == Notification.member_id)
    if state:
        q = q.where(Notification.state == state)
    rows = session.execute(q.order_by(Notification.id.desc()).limit(limit)).all()
    return [
        {"id": n.id, "member_id": n.member_id, "member": name, "kind": n.kind, "item_id": n.item_id,
         "state": n.state, "due_at": n.due_at, "sent_at": n.sent_at, "attempts": n.attempts,
         "last_error": n.last_error, "payload": n.payload}
        for n, name in rows
    ]
