"""Linking a roster member to their LINE account with a personal invite (never a new member).

The invite system is Telegram's (``roster.invites``): an admin makes a personal invite for an
existing roster entry and hands over its code; the volunteer adds the hub's Official Account as a
friend and sends the code in the 1:1 chat. Only personal invites link a LINE account, so a LINE
user always lands on the roster entry the admin meant, and a second member is never created.

A member already on Telegram gets a personal invite the same way (``network-hub invite create
--member``; the roster refuses one only when both accounts are linked): sending it in LINE binds
LINE to that same member and leaves the Telegram link as it is. A LINE account that already
belongs to another member is refused with a Thai message, also when it is sent from a linked
account (``is_invite_code`` lets the chat tell a code from a chat message).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Invite, Member
from network_hub.errors import Conflict, InvalidInput, PermissionDenied
from network_hub.roster.invites import CODE_PATTERN, _take_use, get_invite  # the invite rules, shared with Telegram
from network_hub.roster.members import _insert_grant, find_grant, get_member
from network_hub.states import MemberStatus

_ASK_ADMIN_TH = "กรุณาขอรหัสเชิญส่วนตัวจากผู้ดูแลของท่าน"


def member_of_line_user(session: Session, line_user_id: str) -> Member | None:
    member = session.scalar(select(Member).where(Member.line_user_id == line_user_id))
    return member if member is not None and member.status == MemberStatus.ACTIVE else None


def is_invite_code(session: Session, text: str | None) -> bool:
    """True when ``text`` is exactly the code of an existing personal invite (not a chat message)."""
    text = (text or "").strip()
    if not text or not CODE_PATTERN.match(text):
        return False
    return session.scalar(select(Invite.id).where(Invite.code == text, Invite.member_id.is_not(None))) is not None


def link_by_invite(session: Session, code: str, *, line_user_id: str, now: datetime) -> Member:
    """Bind ``line_user_id`` to the personal invite's member; a repeat by the same person changes nothing."""
    invite = get_invite(session, code)
    if invite.member_id is None:
        raise InvalidInput(f"invite {invite.code} is not personal; LINE accounts are linked by personal invites only",
                           f"รหัสนี้ไม่ใช่รหัสเชิญส่วนตัว {_ASK_ADMIN_TH}")
    target = get_member(session, invite.member_id)
    holder = session.scalar(select(Member).where(Member.line_user_id == line_user_id))
    if holder is not None and holder.id != target.id:
        raise Conflict(f"LINE user already belongs to member {holder.id}; invite {invite.code} is for member "
                       f"{target.id}",
                       f"บัญชี LINE นี้ผูกกับคุณ{holder.name} อยู่แล้ว หากเป็นคนเดียวกัน กรุณาแจ้งผู้ดูแลให้รวมรายชื่อ")
    if holder is not None:
        return target  # already linked: sending the code again changes nothing
    if target.status != MemberStatus.ACTIVE:
        raise PermissionDenied(f"member {target.id} is {target.status}; the invite was not used",
                               "บัญชีของท่านถูกระงับการใช้งาน กรุณาติดต่อผู้ดูแลของท่าน")
    if target.line_user_id is not None:
        raise Conflict(f"member {target.id} is linked to another LINE account; invite {invite.code} unused",
                       f"รหัสนี้ของคุณ{target.name} ถูกใช้เชื่อมกับบัญชี LINE อื่นแล้ว กรุณาติดต่อผู้ดูแลของท่านทันที")
    _take_use(session, invite, now)
    target.line_user_id = line_user_id
    target.updated_at = now
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("the LINE user was linked by a concurrent message; nothing changed",
                       "ระบบกำลังบันทึกการเชื่อมบัญชีจากข้อความก่อนหน้า กรุณาลองใหม่อีกครั้ง") from None
    if find_grant(session, target.id, invite.role, invite.area_code) is None:
        grant = _insert_grant(session, target.id, invite.role, invite.area_code, now=now)
        audit.record(session, at=now, action="grant.add", object_type="role_grant", object_id=grant.id,
                     after={"member_id": target.id, "role": invite.role, "area_code": invite.area_code,
                            "invite_id": invite.id}, actor_id=target.id, actor_label="invite")
    audit.record(session, at=now, action="member.link_line", object_type="member", object_id=target.id,
                 after={"via": "personal_invite", "invite_id": invite.id}, actor_id=target.id, actor_label="line")
    return target
