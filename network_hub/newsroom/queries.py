"""Reading news items: one item, listings filtered by what the actor may see, the moderation queue.

``item_to_dict`` is the one JSON shape of an item for the CLI (``--json``), the web API and the
bot; datetimes are ISO 8601 UTC strings.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session, selectinload

from network_hub.areas import validate_code
from network_hub.db.models import AuditEvent, Delivery, NewsItem
from network_hub.errors import InvalidInput, NotFound
from network_hub.newsroom import pdpa, receipts
from network_hub.newsroom.records import OBJECT_TYPE
from network_hub.permissions import ROLES_FOR, ROOT_AREA, Action, Actor, decide, require
from network_hub.states import ItemStatus, MemberStatus


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def get_item(session: Session, item_id: int | str, *, actor: Actor | None = None) -> NewsItem:
    """An item by id or receipt number (``NH-2569-000123``); checks VIEW_ITEM when ``actor`` is given."""
    by_receipt = isinstance(item_id, str) and not item_id.strip().isdigit()
    key = receipts.parse_receipt(str(item_id)) if by_receipt else int(item_id)
    item = session.get(NewsItem, key) if key is not None else None
    if item is not None and by_receipt and receipts.normalize_receipt(str(item_id)) != item.receipt_no:
        item = None  # right id, wrong year: not this item
    if item is None:
        raise NotFound(f"news item {item_id} does not exist", f"ไม่พบข่าวหมายเลข {item_id}")
    if actor is not None:
        require(actor, Action.VIEW_ITEM, item.village_code, author_id=item.author_id)
    return item


def _area_clause(areas: list[str]) -> ColumnElement[bool]:
    if ROOT_AREA in areas:
        return NewsItem.id.is_not(None)
    if not areas:
        return false()
    return or_(*(NewsItem.village_code.startswith(code, autoescape=True) for code in areas))


def _visible_to(actor: Actor) -> ColumnElement[bool]:
    """Items the actor may see: their own, and those in areas where they hold a viewing role."""
    if actor.status != MemberStatus.ACTIVE:
        return false()
    return or_(NewsItem.author_id == actor.member_id, _area_clause(actor.areas_with(ROLES_FOR[Action.VIEW_ITEM])))


def list_items(
    session: Session, *, actor: Actor | None = None, status: str | ItemStatus | None = None,
    area: str | None = None, author_id: int | None = None, limit: int = 200,
) -> list[NewsItem]:
    """Newest first. ``actor`` None means the operator (everything)."""
    query: Select[tuple[NewsItem]] = select(NewsItem).options(selectinload(NewsItem.photos))
    if actor is not None:
        query = query.where(_visible_to(actor))
    if status is not None:
        try:
            query = query.where(NewsItem.status == ItemStatus(status).value)
        except ValueError:
            raise InvalidInput(f"{status!r} is not a status; one of: {', '.join(s.value for s in ItemStatus)}",
                               f"'{status}' ไม่ใช่สถานะของข่าว") from None
    if area is not None:
        query = query.where(_area_clause([validate_code(area)]))
    if author_id is not None:
        query = query.where(NewsItem.author_id == author_id)
    return list(session.scalars(query.order_by(NewsItem.submitted_at.desc(), NewsItem.id.desc()).limit(limit)))


def pending_queue(session: Session, actor: Actor, *, limit: int = 200) -> list[NewsItem]:
    """Submitted items the actor may moderate (never their own), oldest first."""
    if actor.status != MemberStatus.ACTIVE:
        return []
    query = (
        select(NewsItem).options(selectinload(NewsItem.photos))
        .where(NewsItem.status == ItemStatus.SUBMITTED.value)
        .where(_area_clause(actor.areas_with(ROLES_FOR[Action.MODERATE])))
        .where(NewsItem.author_id != actor.member_id)
        .order_by(NewsItem.submitted_at, NewsItem.id).limit(limit)
    )
    return [item for item in session.scalars(query)
            if decide(actor, Action.MODERATE, item.village_code, author_id=item.author_id)]


def item_to_dict(item: NewsItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "receipt_no": item.receipt_no,
        "status": item.status,
        "village": item.village_code,
        "category": item.category,
        "author": item.author_id,
        "title": item.title,
        "body": item.body,
        "pdpa_flags": list(item.pdpa_flags or []),
        "pdpa_confirmed_by": item.pdpa_confirmed_by,
        "consent": dict(item.consent or {}),
        "scheduled_at": _iso(item.scheduled_at),
        "version": item.version,
        "photos": [
            {"id": p.id, "position": p.position, "sha256": p.sha256, "path": p.path, "width": p.width,
             "height": p.height, "size_bytes": p.size_bytes, "telegram_file_id": p.telegram_file_id}
            for p in item.photos
        ],
        "submitted_at": _iso(item.submitted_at),
        "decided_by": item.decided_by,
        "decided_at": _iso(item.decided_at),
        "decision_reason": item.decision_reason,
        "published_at": _iso(item.published_at),
        "withdrawn_at": _iso(item.withdrawn_at),
        "updated_at": _iso(item.updated_at),
    }


def pdpa_evidence(item: NewsItem) -> list[dict[str, Any]]:
    """What raised the item's PDPA flags, for the moderator: flag, Thai label, matched text, and
    where (``field`` title/body/consent, ``start``/``end`` offsets in that field)."""
    consent = pdpa.Consent.from_dict(item.consent)
    body = [{**f.to_dict(), "field": "consent" if f.start < 0 else "body"}
            for f in pdpa.find_evidence(item.body, consent)]
    seen = {(f["flag"], f["evidence"]) for f in body}
    title = [{**f.to_dict(), "field": "title"} for f in pdpa.find_evidence(item.title)
             if (f.flag.value, f.evidence) not in seen]
    return title + body


def item_history(session: Session, item_id: int) -> list[dict[str, Any]]:
    """The item's audit events, oldest first."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == OBJECT_TYPE, AuditEvent.object_id == str(item_id))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [
        {"id": e.id, "at": _iso(e.at), "action": e.action, "actor_id": e.actor_id, "via": e.actor_label,
         "before": e.before, "after": e.after, "reason": e.reason}
        for e in events
    ]


def item_deliveries(session: Session, item_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Delivery).where(Delivery.item_id == item_id).order_by(Delivery.id))
    return [
        {"id": d.id, "item_id": d.item_id, "outlet_id": d.outlet_id, "state": d.state, "attempts": d.attempts,
         "due_at": _iso(d.due_at), "not_before": _iso(d.not_before), "external_ids": list(d.external_ids or []),
         "permalink": d.permalink, "last_error": d.last_error, "followup_action": d.followup_action,
         "followup_state": d.followup_state}
        for d in rows
    ]
