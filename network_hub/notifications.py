"""The DM outbox: messages to members (item status, reminders, digests, alerts).

Domain code enqueues; a notifier (the Telegram bot when configured) sends. Until a notifier
exists the rows stay listed, so nothing a person should hear about is lost. Quiet hours move
``due_at`` later; they never drop a row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

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


class Notifier(Protocol):
    """What sends notifications (implemented by the bot). Raises nothing; returns the new state."""

    async def send(self, notification: Notification, member: Member) -> str: ...
