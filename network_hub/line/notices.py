"""Status notices to volunteers who use LINE: one daily summary push instead of one push per event.

Pushes cost the Official Account's monthly quota (one message per recipient), so a volunteer who
sends news from LINE hears about their items (approved, published with a link, returned with the
reason, rejected) in **one** message a day, only on days with news about them. They choose in the
chat: «แจ้งผลรายวัน» (the default) or «ปิดการแจ้งผล».

The summary reads the DM outbox (``notifications``) without changing it: the Telegram notifier
keeps its own states; the last notification summarised per member is remembered in ``kv_store``
(namespace ``line_summary``), so a summary is never sent twice for the same news.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.db.models import KeyValue, Member, Notification
from network_hub.notifications import NotificationKind as K
from network_hub.states import MemberStatus

log = logging.getLogger(__name__)
SUMMARY_NAMESPACE = "line_summary"
PREFERENCE_NAMESPACE = "line_notice_pref"
DAILY, OFF = "daily", "off"
KIND_TH = {
    K.ITEM_APPROVED: "อนุมัติแล้ว",
    K.ITEM_SCHEDULED: "ตั้งเวลาเผยแพร่แล้ว",
    K.ITEM_PUBLISHED: "เผยแพร่แล้ว",
    K.ITEM_PARTIALLY_PUBLISHED: "เผยแพร่แล้วบางช่องทาง",
    K.ITEM_RETURNED: "ส่งกลับให้แก้ไข",
    K.ITEM_REJECTED: "ไม่อนุมัติ",
    K.ITEM_FAILED: "เผยแพร่ไม่สำเร็จ",
}


@dataclass(frozen=True)
class Summary:
    member_id: int
    line_user_id: str
    text: str
    last_notification_id: int


def preference(session: Session, member_id: int) -> str:
    row = session.get(KeyValue, (PREFERENCE_NAMESPACE, str(member_id)))
    return str(row.value.get("notices", DAILY)) if row is not None else DAILY


def set_preference(session: Session, member_id: int, value: str, now: datetime) -> None:
    row = session.get(KeyValue, (PREFERENCE_NAMESPACE, str(member_id)))
    if row is None:
        session.add(KeyValue(namespace=PREFERENCE_NAMESPACE, key=str(member_id), value={"notices": value},
                             updated_at=now))
    else:
        row.value, row.updated_at = {"notices": value}, now


def _line(note: Notification) -> str:
    payload: dict[str, Any] = note.payload or {}
    line = f"• {payload.get('receipt_no', '')} {payload.get('title', '')[:60]} — {KIND_TH.get(note.kind, note.kind)}"
    if payload.get("reason"):
        line += f"\n  เหตุผล: {str(payload['reason'])[:200]}"
    if payload.get("permalink") or payload.get("link"):
        line += f"\n  {payload.get('permalink') or payload.get('link')}"
    return line


def due_summaries(session: Session) -> list[Summary]:
    """One summary per LINE-linked member with news since their last summary (none: nothing to send)."""
    summaries = []
    members = session.scalars(select(Member).where(Member.line_user_id.is_not(None),
                                                   Member.status == MemberStatus.ACTIVE))
    for member in members:
        if preference(session, member.id) == OFF:
            continue
        marker = session.get(KeyValue, (SUMMARY_NAMESPACE, str(member.id)))
        after = int(marker.value.get("last_id", 0)) if marker is not None else 0
        notes = list(session.scalars(select(Notification).where(
            Notification.member_id == member.id, Notification.id > after, Notification.kind.in_(list(KIND_TH)))
            .order_by(Notification.id).limit(30)))
        if not notes:
            continue
        text = "📋 สรุปผลข่าวของท่านวันนี้\n" + "\n".join(_line(n) for n in notes)
        summaries.append(Summary(member.id, member.line_user_id or "", text[:5000], notes[-1].id))
    return summaries


def mark_sent(session: Session, summary: Summary, now: datetime) -> None:
    row = session.get(KeyValue, (SUMMARY_NAMESPACE, str(summary.member_id)))
    value = {"last_id": summary.last_notification_id, "at": now.isoformat()}
    if row is None:
        session.add(KeyValue(namespace=SUMMARY_NAMESPACE, key=str(summary.member_id), value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


def summary_retry_key(summary: Summary) -> str:
    """The same summary always gets the same X-Line-Retry-Key: a repeat within 24 h is not sent twice."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"line-summary:{summary.member_id}:{summary.last_notification_id}"))


async def send_daily_summaries(hub: Any, publisher: Any) -> int:
    """Push each due summary with the hub's own OA; returns how many were sent."""
    from publishers.base import OutletTarget, PublishError

    with hub.transaction() as session:
        summaries = due_summaries(session)
    sent = 0
    target = OutletTarget(0, "line", "friends")
    for summary in summaries:
        try:
            await publisher.push_text(target, summary.line_user_id, summary.text, retry_key=summary_retry_key(summary))
        except PublishError as exc:  # quota spent, blocked, LINE down: tomorrow's summary carries it
            log.warning("LINE daily summary for member %s not sent: %s", summary.member_id, exc)
            continue
        with hub.transaction() as session:
            mark_sent(session, summary, hub.clock.now())
        sent += 1
    return sent
