"""Linking a Telegram account to its roster member by the phone number the person shares.

The bot offers Telegram's contact button ("แชร์เบอร์โทรศัพท์"); Telegram then sends the account's
own number with ``contact.user_id`` equal to the sender's id. A forwarded or typed contact (any
other ``user_id``, or none) is refused: only a person's own number proves who they are.

Outcomes (never a duplicate member):

- ``linked``: the roster member with that phone had no Telegram id; now it is this account.
- ``merged``: this account had already joined as a separate member (a generic invite) and the
  phone belongs to a roster member without Telegram: the two are merged, the roster one kept.
- ``already``: this account already is the member with that phone (nothing changes).
- ``phone_saved``: no roster member has the phone; this account's member had none, so it is kept.

Refusals (Thai for the person): not their own contact; a number not on the roster and no member
yet; the number's member is linked to another Telegram account; a suspended member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Member
from network_hub.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from network_hub.roster.lookup import normalize_phone
from network_hub.roster.members import clean_telegram_user_id
from network_hub.roster.merge import merge_members
from network_hub.states import MemberStatus


@dataclass(frozen=True)
class LinkResult:
    outcome: str  # linked | merged | already | phone_saved
    member_id: int
    name: str
    language: str


def telegram_phone(raw: str) -> str:
    """Telegram sends ``66812345678`` or ``+66812345678``; return E.164 (InvalidInput otherwise)."""
    text = (raw or "").strip().replace(" ", "")
    if text.isdigit() and not text.startswith("0"):
        text = "+" + text
    return normalize_phone(text)


def link_by_phone(session: Session, *, telegram_user_id: int, contact_user_id: int | None, phone: str,
                  now: datetime) -> LinkResult:
    tg = clean_telegram_user_id(telegram_user_id)
    if tg is None:
        raise InvalidInput("a Telegram user id is needed", "ไม่พบรหัสผู้ใช้ Telegram")
    if contact_user_id is None or contact_user_id != tg:
        raise PermissionDenied(
            f"Telegram user {tg} sent a contact of user {contact_user_id}; only one's own number links",
            "รับได้เฉพาะเบอร์โทรศัพท์ของท่านเอง กรุณากดปุ่ม «แชร์เบอร์โทรศัพท์» ด้านล่าง "
            "(ไม่ใช่การส่งต่อรายชื่อผู้ติดต่อของผู้อื่น)",
        )
    e164 = telegram_phone(phone)
    roster = session.scalar(select(Member).where(Member.phone == e164))
    holder = session.scalar(select(Member).where(Member.telegram_user_id == tg))
    for member in (roster, holder):
        if member is not None and member.status == MemberStatus.SUSPENDED:
            raise PermissionDenied(f"member {member.id} is suspended; nothing linked",
                                   "บัญชีของท่านถูกระงับการใช้งาน กรุณาติดต่อผู้ดูแลของท่าน")
    if roster is None:
        if holder is None:
            raise NotFound(
                f"no member has the phone {e164}",
                f"ไม่พบเบอร์ {_local(e164)} ในรายชื่อของเครือข่าย กรุณาแจ้งผู้ดูแลตำบลหรืออำเภอให้เพิ่มชื่อ "
                "และเบอร์โทรศัพท์ของท่าน หรือขอลิงก์เชิญ",
            )
        if holder.phone is not None:
            return _result("already", holder)
        holder.phone = e164
        holder.updated_at = now
        session.flush()
        audit.record(session, at=now, action="member.update", object_type="member", object_id=holder.id,
                     before={"phone": None}, after={"phone": e164, "via": "telegram_contact"},
                     actor_id=holder.id, actor_label="phone")
        return _result("phone_saved", holder)
    if holder is not None and holder.id == roster.id:
        return _result("already", roster)
    if roster.telegram_user_id is not None:
        raise Conflict(
            f"phone {e164} belongs to member {roster.id}, linked to another Telegram account",
            f"เบอร์ {_local(e164)} ผูกกับบัญชี Telegram อื่นแล้ว หากเป็นเบอร์ของท่าน กรุณาติดต่อผู้ดูแลของท่าน",
        )
    if holder is None:
        roster.telegram_user_id = tg
        roster.unreachable_since = None
        roster.updated_at = now
        try:
            session.flush()
        except IntegrityError:  # the same account linked at the same moment by another message
            raise Conflict(f"Telegram user {tg} was linked concurrently; nothing changed",
                           "ระบบกำลังบันทึกการเชื่อมบัญชีของท่านจากข้อความก่อนหน้า กรุณารอสักครู่") from None
        audit.record(session, at=now, action="member.link_telegram", object_type="member", object_id=roster.id,
                     before={"telegram_user_id": None}, after={"telegram_user_id": tg, "via": "phone"},
                     actor_id=roster.id, actor_label="phone")
        return _result("linked", roster)
    # The person joined through a generic invite before sharing their phone: one person, two rows.
    kept = merge_members(session, roster.id, holder.id, now=now, actor=None, via="phone",
                         reason="the member shared their own phone number in Telegram")
    return _result("merged", kept)


def _result(outcome: str, member: Member) -> LinkResult:
    return LinkResult(outcome, member.id, member.name, member.language or "th")


def _local(e164: str) -> str:
    """+66812345678 → 081-234-5678 (how people write their number)."""
    if e164.startswith("+66") and len(e164) == 12:
        digits = "0" + e164[3:]
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return e164
