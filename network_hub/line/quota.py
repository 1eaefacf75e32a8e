"""LINE's monthly message quota as the hub sees it: holds told to admins once, the month's use.

The publisher refuses a post that does not fit the month's quota (code ``line_quota``); the engine
keeps the delivery pending until the next quota month and blocks the outlet with the reason
("โควตาข้อความ LINE เดือนนี้ไม่พอ"). This module tells the outlet's admins about it once per outlet
and month (not once per delivery), and estimates each outlet's use for ``network-hub outlet list``.

What LINE itself says about an Official Account's quota (``GET /v2/bot/message/quota`` and
``/quota/consumption``) is read by the outlet check — daily at 06:00 Bangkok time, and whenever
someone presses «ตรวจ» or runs ``network-hub outlet check`` — never on a send path just for
reporting. ``record_check_quota`` keeps that reading (``network_hub.metrics.record_line_quota``,
one row per OA, and which OA each outlet posts as), so ``/metrics`` reports
``hub_line_quota_remaining_messages`` and the outlets page shows "โควตา LINE เหลือ …" with the
time of the reading, both without calling LINE.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.db.models import Delivery, KeyValue, LineGroup, Outlet
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox.routing_people import admins_of_area
from network_hub.thai import BANGKOK

NOTICE_NAMESPACE = "line_quota_notice"
OUTLET_ACCOUNT_NAMESPACE = "line_outlet_account"  # outlet id -> the OA (bot user id) it posts as


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
    """``3 โพสต์ ≈ 450 ข้อความ`` for ``network-hub outlet list`` (this quota month, Asia/Bangkok),
    then what LINE said at the last check (``· โควตา LINE เหลือ 2,550 จาก 3,000 ข้อความ (ตรวจ …)``)."""
    posts, messages = month_use(session, outlet, now)
    cost = f"≈ {messages} ข้อความ" if messages is not None else "ไม่ทราบจำนวนสมาชิก"
    label = f"{posts} โพสต์ {cost}"
    quota = quota_label(session, outlet, now)
    return f"{label} · {quota}" if quota else label


def record_check_quota(session: Session, outlet: Outlet, result: object, now: datetime) -> bool:
    """Keep the quota a LINE outlet check read (``publishers.line.LineCheckResult``); False when it
    read none (a failed check, or another platform's result)."""
    from network_hub.metrics import record_line_quota

    quota, account = getattr(result, "quota", None), getattr(result, "account", None)
    if quota is None or not account:
        return False
    record_line_quota(session, account, quota.limit if quota.limited else None, quota.used, now)
    row = session.get(KeyValue, (OUTLET_ACCOUNT_NAMESPACE, str(outlet.id)))
    if row is None:
        session.add(KeyValue(namespace=OUTLET_ACCOUNT_NAMESPACE, key=str(outlet.id), value={"account": account},
                             updated_at=now))
    else:
        row.value, row.updated_at = {"account": account}, now
    session.flush()
    return True


def quota_reading(session: Session, outlet: Outlet, now: datetime) -> tuple[int | None, int, datetime] | None:
    """(limit or None when unlimited, messages left, when LINE said so) for the outlet's OA; None
    when never read. A reading from an earlier quota month counts nothing used (LINE starts again)."""
    from network_hub.metrics import LINE_QUOTA_NAMESPACE

    link = session.get(KeyValue, (OUTLET_ACCOUNT_NAMESPACE, str(outlet.id)))
    account = link.value.get("account") if link is not None and isinstance(link.value, dict) else None
    row = session.get(KeyValue, (LINE_QUOTA_NAMESPACE, str(account))) if account else None
    if row is None or not isinstance(row.value, dict):
        return None
    try:
        at = datetime.fromisoformat(str(row.value.get("at")))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    limit = row.value.get("limit")
    used = int(row.value.get("used") or 0) if quota_month(at) == quota_month(now) else 0
    if limit is None:
        return None, 0, at
    return int(limit), max(0, int(limit) - used), at


def quota_label(session: Session, outlet: Outlet, now: datetime) -> str | None:
    """``โควตา LINE เหลือ 2,550 จาก 3,000 ข้อความ (ตรวจ 3 ธ.ค. 69 เวลา 10.00 น.)``; None before the first check."""
    from network_hub.thai import be_datetime

    reading = quota_reading(session, outlet, now)
    if reading is None:
        return None
    limit, left, at = reading
    when = be_datetime(at, short=True)
    if limit is None:
        return f"โควตา LINE ไม่จำกัด (ตรวจ {when})"
    return f"โควตา LINE เหลือ {left:,} จาก {limit:,} ข้อความ (ตรวจ {when})"
