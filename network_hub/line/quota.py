"""LINE's monthly message quota as the hub sees it: holds told to admins once, the month's use.

The publisher refuses a post that does not fit the month's quota (code ``line_quota``); the engine
keeps the delivery pending until the next quota month and blocks the outlet with the reason
("โควตาข้อความ LINE เดือนนี้ไม่พอ"). This module tells the outlet's admins about it once per outlet
and month (not once per delivery), and estimates each outlet's use for ``network-hub outlet list``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.db.models import Delivery, KeyValue, LineGroup, Outlet
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox.routing_people import admins_of_area
from network_hub.thai import BANGKOK

NOTICE_NAMESPACE = "line_quota_notice"


def quota_month(now: datetime) -> str:
    return now.astimezone(BANGKOK).strftime("%Y-%m")


def month_start(now: datetime) -> datetime:
    local = now.astimezone(BANGKOK)
    return datetime(local.year, local.month, 1, tzinfo=BANGKOK)


def tell_admins_once(session: Session, outlet: Outlet, reason: str, now: datetime) -> bool:
    """Queue one notice to the admins of the outlet's area for this quota month; False if already told."""
    key = f"{outlet.id}:{quota_month(now)}"
    if session.get(KeyValue, (NOTICE_NAMESPACE, key)) is not None:
        return False
    session.add(KeyValue(namespace=NOTICE_NAMESPACE, key=key, value={"reason": reason[:500]}, updated_at=now))
    for member_id in admins_of_area(session, outlet.area_code):
        enqueue(session, member_id=member_id, kind=NotificationKind.OUTLET_NEEDS_HUMAN, now=now,
                payload={"outlet_id": outlet.id, "outlet": outlet.name, "platform": outlet.platform,
                         "reason": reason[:300]})
    session.flush()
    return True


def month_use(session: Session, outlet: Outlet, now: datetime) -> tuple[int, int | None]:
    """(posts sent this quota month, estimated messages they cost or None when the size is unknown).

    A push costs one message per group member per request (≤ 5 message objects a request; the
    delivery's ``external_ids`` hold one id per object); the size is the last one recorded for the group.
    """
    rows = session.scalars(select(Delivery.external_ids).where(
        Delivery.outlet_id == outlet.id, Delivery.state == "sent", Delivery.sent_at >= month_start(now))).all()
    size = session.scalar(select(LineGroup.member_count).where(LineGroup.group_id == outlet.address)
                          .order_by(LineGroup.updated_at.desc()).limit(1))
    requests = sum(_requests(list(ids or [])) for ids in rows)
    return len(rows), (requests * size if size is not None else None)


def _requests(external_ids: list[str]) -> int:
    if any(str(i).startswith("request:") for i in external_ids):
        return len(external_ids)  # a broadcast: one id per request
    return max(1, -(-len(external_ids) // 5))


def budget_left(session: Session, outlet: Outlet, now: datetime) -> int | None:
    """Messages the outlet's monthly budget still allows this quota month (None: it has no budget).

    The month's use is the estimate of ``month_use`` (sent posts × the group's last known size);
    a group of unknown size counts as spending nothing, so the OA's quota check still guards it.
    """
    if outlet.line_monthly_budget is None:
        return None
    _posts, used = month_use(session, outlet, now)
    return max(0, outlet.line_monthly_budget - (used or 0))


def set_budget(session: Session, outlet: Outlet, budget: int | None, now: datetime) -> None:
    from network_hub import audit
    from network_hub.errors import InvalidInput

    if outlet.platform != "line":
        raise InvalidInput(f"outlet {outlet.id} is not a LINE outlet", "ช่องทางนี้ไม่ใช่ LINE")
    if budget is not None and not 0 <= budget <= 10_000_000:
        raise InvalidInput("a monthly budget is 0 to 10,000,000 messages", "งบข้อความต่อเดือนต้องอยู่ระหว่าง 0 ถึง 10,000,000")
    before = outlet.line_monthly_budget
    outlet.line_monthly_budget, outlet.updated_at = budget, now
    audit.record(session, at=now, action="outlet.line_budget", object_type="outlet", object_id=outlet.id,
                 before={"line_monthly_budget": before}, after={"line_monthly_budget": budget})


def month_use_label(session: Session, outlet: Outlet, now: datetime) -> str:
    """``3 โพสต์ ≈ 450 ข้อความ`` for ``network-hub outlet list`` (this quota month, Asia/Bangkok)."""
    posts, messages = month_use(session, outlet, now)
    cost = f"≈ {messages} ข้อความ" if messages is not None else "ไม่ทราบจำนวนสมาชิก"
    return f"{posts} โพสต์ {cost}"
