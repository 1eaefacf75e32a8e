"""The audit log: who did what to which object, when, with before/after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from network_hub.db.models import AuditEvent


def record(
    session: Session,
    *,
    at: datetime,
    action: str,
    object_type: str,
    object_id: object,
    actor_id: int | None = None,
    actor_label: str = "system",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        actor_id=actor_id or None,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        reason=reason,
    )
    session.add(event)
    return event
