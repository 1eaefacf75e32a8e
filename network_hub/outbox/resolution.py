"""People's answers to deliveries the engine could not settle: resolve an unknown, retry a failure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Delivery, NewsItem, Outlet
from network_hub.errors import Conflict, NotFound
from network_hub.outbox import signals
from network_hub.outbox.rollup import roll_up_item
from network_hub.permissions import Action, Actor, require
from network_hub.states import DeliveryState, ItemStatus

S = DeliveryState


def get_delivery(session: Session, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} does not exist", f"ไม่พบรายการส่งหมายเลข {delivery_id}")
    return delivery


def _village_of(session: Session, delivery: Delivery) -> str:
    return session.scalar(select(NewsItem.village_code).where(NewsItem.id == delivery.item_id)) or ""


def resolve_unknown(session: Session, delivery_id: int, *, posted: bool, actor: Actor, now: datetime,
                    external_id: str | None = None, permalink: str | None = None) -> Delivery:
    """A person checked the outlet: the post is there (→ sent) or is not (→ sent again)."""
    delivery = get_delivery(session, delivery_id)
    require(actor, Action.RESOLVE_DELIVERY, _village_of(session, delivery))
    if delivery.state != S.UNKNOWN:
        raise Conflict(
            f"delivery {delivery_id} is {delivery.state}, not unknown; nothing to resolve",
            f"รายการส่งนี้อยู่ในสถานะ {delivery.state} แล้ว ไม่ต้องยืนยันซ้ำ",
        )
    before: dict[str, Any] = {"state": delivery.state}
    delivery.fence += 1  # any worker still holding an old fence can no longer write
    if posted:
        delivery.state = S.SENT
        delivery.sent_at = delivery.sent_at or now
        if external_id:
            delivery.external_ids = [*delivery.external_ids, external_id]
        delivery.permalink = permalink or delivery.permalink
    else:
        delivery.state = S.PENDING
        delivery.not_before = None
        delivery.due_at = now
        signals.announce(session)  # every hub process looks at once
    delivery.last_error = None
    delivery.updated_at = now
    audit.record(session, at=now, action="delivery.resolved_posted" if posted else "delivery.resolved_not_posted",
                 object_type="delivery", object_id=delivery.id, actor_id=actor.member_id or None,
                 before=before, after={"state": delivery.state})
    session.flush()
    roll_up_item(session, delivery.item_id, now)
    return delivery


def retry_failed(session: Session, delivery_id: int, *, actor: Actor, now: datetime) -> Delivery:
    """Send a failed delivery again once its cause is fixed (attempts start over)."""
    delivery = get_delivery(session, delivery_id)
    require(actor, Action.RESOLVE_DELIVERY, _village_of(session, delivery))
    if delivery.state != S.FAILED:
        raise Conflict(
            f"delivery {delivery_id} is {delivery.state}; only failed deliveries can be retried",
            "ส่งซ้ำได้เฉพาะรายการที่ส่งไม่สำเร็จเท่านั้น",
        )
    item = session.get(NewsItem, delivery.item_id)
    if item is None or item.status == ItemStatus.WITHDRAWN:
        raise Conflict(f"the item of delivery {delivery_id} was withdrawn", "ข่าวนี้ถูกถอนแล้ว ไม่สามารถส่งซ้ำได้")
    delivery.state = S.PENDING
    delivery.attempts = 0
    delivery.not_before = None
    delivery.due_at = now
    delivery.fence += 1
    delivery.updated_at = now
    signals.announce(session)
    if item.status == ItemStatus.FAILED:
        item.status = ItemStatus.PUBLISHING
        item.version += 1
        item.updated_at = now
    audit.record(session, at=now, action="delivery.retry", object_type="delivery", object_id=delivery.id,
                 actor_id=actor.member_id or None, before={"state": "failed"}, after={"state": "pending"})
    return delivery


def delivery_to_dict(delivery: Delivery, outlet: Outlet | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": delivery.id,
        "item_id": delivery.item_id,
        "outlet_id": delivery.outlet_id,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "due_at": delivery.due_at,
        "not_before": delivery.not_before,
        "external_ids": list(delivery.external_ids or []),
        "permalink": delivery.permalink,
        "last_error": delivery.last_error,
        "sent_at": delivery.sent_at,
        "followup": delivery.followup_action and f"{delivery.followup_action}:{delivery.followup_state}",
    }
    if outlet is not None:
        data["outlet"] = outlet.name
        data["platform"] = outlet.platform
    return data


def list_deliveries(session: Session, *, state: str | None = None, item_id: int | None = None,
                    limit: int = 500) -> list[dict[str, Any]]:
    q = select(Delivery, Outlet).join(Outlet, Outlet.id == Delivery.outlet_id).order_by(Delivery.id.desc())
    if state:
        if state not in {s.value for s in S}:
            raise NotFound(f"unknown delivery state {state!r}; one of: {', '.join(s.value for s in S)}",
                           f"ไม่รู้จักสถานะ {state}")
        q = q.where(Delivery.state == state)
    if item_id is not None:
        q = q.where(Delivery.item_id == item_id)
    return [delivery_to_dict(d, o) for d, o in session.execute(q.limit(limit)).all()]
