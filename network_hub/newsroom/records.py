"""What every newsroom change writes besides the item: the audit event and the author's message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from network_hub import audit, notifications
from network_hub.db.models import NewsItem
from network_hub.permissions import Actor

OBJECT_TYPE = "news_item"


def snapshot(item: NewsItem, *, with_text: bool = False) -> dict[str, Any]:
    """The audited state of an item (the text only where the action changes it)."""
    data: dict[str, Any] = {
        "status": item.status,
        "version": item.version,
        "scheduled_at": item.scheduled_at.isoformat() if item.scheduled_at else None,
        "pdpa_flags": list(item.pdpa_flags or []),
    }
    if with_text:
        data["title"] = item.title
        data["body"] = item.body
        data["photos"] = [p.sha256 for p in item.photos]
    return data


def record_change(
    session: Session,
    item: NewsItem,
    *,
    action: str,
    actor: Actor,
    via: str,
    now: datetime,
    before: dict[str, Any] | None,
    with_text: bool = False,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    after = snapshot(item, with_text=with_text)
    if extra:
        after.update(extra)
    audit.record(session, at=now, action=f"news.{action}", object_type=OBJECT_TYPE, object_id=item.id,
                 actor_id=actor.member_id, actor_label=via, before=before, after=after, reason=reason)


def tell_author(
    session: Session, item: NewsItem, kind: str, *, now: datetime, actor: Actor | None = None,
    **payload: Any,
) -> None:
    """Queue a DM to the author (not when the author did it themselves)."""
    if actor is not None and actor.member_id == item.author_id:
        return
    body = {"receipt_no": item.receipt_no, "title": item.title, "status": item.status}
    body.update({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in payload.items()})
    notifications.enqueue(session, member_id=item.author_id, kind=kind, now=now, payload=body, item_id=item.id)
