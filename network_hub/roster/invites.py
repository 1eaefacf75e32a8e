"""Invites: a limited-use code that binds a Telegram account to a role in an area.

A volunteer joins by opening ``https://t.me/<bot>?start=<code>``; the bot calls ``redeem_invite``.
Codes are 16 characters of ``[A-Za-z0-9_-]`` (96 random bits), which fits Telegram's /start
payload rules (that alphabet, at most 64 characters). Uses can never exceed ``max_uses``, even
with several people redeeming at once on PostgreSQL: the use is taken by one conditional
``UPDATE … SET uses = uses + 1 WHERE uses < max_uses``, which PostgreSQL re-checks against the
committed row after waiting for a concurrent redeemer's lock (SQLite serialises writers with
``BEGIN IMMEDIATE``).

A *personal* invite (``member_id`` set) names the roster member it binds: the volunteer the office
imported from its spreadsheet. Redeeming it writes the Telegram id onto THAT member (never a second
member) and adds the invite's grant when the member does not hold it yet. It has one use, and only
someone who may invite for every role the member holds may make one (a moderator cannot make a
link that takes over an admin's account).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.areas import get_area, validate_code
from network_hub.db.models import Invite, Member, RoleGrant
from network_hub.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from network_hub.permissions import ROOT_AREA, Action, Actor, require
from network_hub.roster.members import (
    _insert_grant,
    add_member,
    audit_actor,
    clean_role,
    clean_telegram_user_id,
    find_grant,
    get_member,
    grants_of,
)
from network_hub.states import MemberStatus
from network_hub.textclean import strip_controls

CODE_BYTES = 12  # 96 bits -> 16 URL-safe characters
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_USES_LIMIT = 1000
MIN_EXPIRY = timedelta(minutes=5)
MAX_EXPIRY = timedelta(days=90)
FALLBACK_NAME = "สมาชิก Telegram"
_ASK_ADMIN_TH = "กรุณาขอลิงก์เชิญใหม่จากผู้ดูแลของท่าน"
_RACE_TH = "ระบบกำลังบันทึกการเข้าร่วมของท่านจากการกดครั้งก่อน กรุณาพิมพ์ /start อีกครั้งในอีกสักครู่"


def new_code() -> str:
    """A fresh code; never starting with '-' so it is never mistaken for a command-line option."""
    while True:
        code = secrets.token_urlsafe(CODE_BYTES)
        if not code.startswith("-"):
            return code


def invite_state(invite: Invite, now: datetime) -> str:
    """``active``, ``revoked``, ``expired`` or ``used_up``."""
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    if invite.uses >= invite.max_uses:
        return "used_up"
    return "active"


def create_invite(
    session: Session,
    *,
    role: str,
    area_code: str,
    max_uses: int = 1,
    expires_in: timedelta = timedelta(days=7),
    now: datetime,
    actor: Actor,
    member_id: int | None = None,
) -> Invite:
    """A new invite; with ``member_id`` a personal one (one use) that binds that roster member."""
    role_value = clean_role(role).value
    if member_id is not None and max_uses != 1:
        raise InvalidInput("a personal invite has exactly one use", "ลิงก์เชิญเฉพาะบุคคลใช้ได้ครั้งเดียวเท่านั้น")
    if not 1 <= max_uses <= MAX_USES_LIMIT:
        raise InvalidInput(f"max uses must be between 1 and {MAX_USES_LIMIT} (got {max_uses})",
                           f"จำนวนครั้งที่ใช้ได้ต้องอยู่ระหว่าง 1 ถึง {MAX_USES_LIMIT}")
    if not MIN_EXPIRY <= expires_in <= MAX_EXPIRY:
        raise InvalidInput("an invite must be valid for between 5 minutes and 90 days",
                           "ลิงก์เชิญต้องมีอายุระหว่าง 5 นาที ถึง 90 วัน")
    area = get_area(session, area_code)
    require(actor, Action.INVITE, area.code, invite_role=role_value)
    if member_id is not None:
        _check_personal_target(session, member_id, actor)
    code = new_code()
    while session.scalar(select(Invite.id).where(Invite.code == code)) is not None:  # 2^-96, but cheap
        code = new_code()
    invite = Invite(code=code, role=role_value, area_code=area.code, max_uses=max_uses, uses=0,
                    expires_at=now + expires_in, revoked_at=None, created_by=actor.member_id or None,
                    created_at=now, member_id=member_id)
    session.add(invite)
    session.flush()
    audit.record(session, at=now, action="invite.create", object_type="invite", object_id=invite.id,
                 after={"role": role_value, "area_code": area.code, "max_uses": max_uses,
                        "expires_at": invite.expires_at.isoformat(), "member_id": member_id},
                 **audit_actor(actor))
    return invite


def _check_personal_target(session: Session, member_id: int, actor: Actor) -> Member:
    """The member a personal invite binds: active, not linked on both platforms, within the actor's reach."""
    member = get_member(session, member_id)
    if member.status == MemberStatus.FORGOTTEN:
        raise Conflict(f"member {member_id} was forgotten; no invite can bind them",
                       f"สมาชิกหมายเลข {member_id} ถูกลบข้อมูลแล้ว")
    if member.status != MemberStatus.ACTIVE:
        raise Conflict(f"member {member_id} is {member.status}; resume them before inviting",
                       f"สมาชิก {member.name} ถูกระงับการใช้งานอยู่ กรุณาเปิดใช้งานก่อนสร้างลิงก์เชิญ")
    if member.telegram_user_id is not None and member.line_user_id is not None:
        # Linked on Telegram only: the invite still links their LINE account (network_hub/line/members.py).
        raise Conflict(f"member {member_id} is already linked to Telegram and LINE; no invite is needed",
                       f"สมาชิก {member.name} เชื่อมกับ Telegram และ LINE แล้ว ไม่ต้องใช้ลิงก์เชิญ")
    # Whoever holds the link becomes this member: the actor must be able to invite every role
    # the member holds, where they hold it.
    for grant in grants_of(session, member_id):
        require(actor, Action.INVITE, grant.area_code, invite_role=grant.role)
    return member


def primary_grant(session: Session, member_id: int) -> RoleGrant:
    """The grant a personal invite names by default: the member's widest area, then highest role."""
    get_member(session, member_id)
    grants = grants_of(session, member_id)
    if not grants:
        raise InvalidInput(f"member {member_id} holds no role; add a grant first",
                           f"สมาชิกหมายเลข {member_id} ยังไม่มีบทบาท กรุณาเพิ่มบทบาทก่อน")
    rank = {"admin": 0, "coordinator": 1, "moderator": 2, "reporter": 3}
    return min(grants, key=lambda g: (len(g.area_code) if g.area_code != ROOT_AREA else 0,
                                      rank.get(g.role, 9), g.id))


def active_personal_invite(session: Session, member_id: int, now: datetime) -> Invite | None:
    """The member's newest personal invite that can still be used (for the printed sheet)."""
    for invite in session.scalars(select(Invite).where(Invite.member_id == member_id)
                                  .order_by(Invite.created_at.desc(), Invite.id.desc())):
        if invite_state(invite, now) == "active":
            return invite
    return None


def ensure_personal_invite(session: Session, member_id: int, *, now: datetime, actor: Actor,
                           expires_in: timedelta = timedelta(days=30), role: str | None = None,
                           area_code: str | None = None) -> Invite:
    """The member's usable personal invite, made now when there is none (idempotent for a sheet)."""
    existing = active_personal_invite(session, member_id, now)
    if existing is not None and role is None and area_code is None:
        _check_personal_target(session, member_id, actor)
        require(actor, Action.INVITE, existing.area_code, invite_role=existing.role)
        return existing
    if role is None or area_code is None:
        grant = primary_grant(session, member_id)
        role, area_code = role or grant.role, area_code or grant.area_code
    return create_invite(session, role=role, area_code=area_code, max_uses=1, expires_in=expires_in,
                         now=now, actor=actor, member_id=member_id)


def _clean_code(code: str) -> str:
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        raise NotFound(f"{code!r} is not an invite code",
                       f"ไม่พบรหัสเชิญนี้ กรุณาตรวจสอบลิงก์อีกครั้ง หรือ{_ASK_ADMIN_TH}")
    return code


def get_invite(session: Session, code: str) -> Invite:
    code = _clean_code(code)
    invite = session.scalar(select(Invite).where(Invite.code == code))
    if invite is None:
        raise NotFound(f"no invite has the code {code!r}",
                       f"ไม่พบรหัสเชิญนี้ กรุณาตรวจสอบลิงก์อีกครั้ง หรือ{_ASK_ADMIN_TH}")
    return invite


def _refuse_unusable(invite: Invite, now: datetime) -> None:
    state = invite_state(invite, now)
    if state == "revoked":
        raise Conflict(f"invite {invite.code} was revoked", f"ลิงก์เชิญนี้ถูกยกเลิกแล้ว {_ASK_ADMIN_TH}")
    if state == "expired":
        raise Conflict(f"invite {invite.code} expired at {invite.expires_at.isoformat()}",
                       f"ลิงก์เชิญนี้หมดอายุแล้ว {_ASK_ADMIN_TH}")
    if state == "used_up":
        raise Conflict(f"invite {invite.code} was already used {invite.uses} of {invite.max_uses} times",
                       f"ลิงก์เชิญนี้ถูกใช้ครบจำนวนแล้ว {_ASK_ADMIN_TH}")


def redeem_invite(session: Session, code: str, *, telegram_user_id: int, name: str,
                  now: datetime) -> tuple[Member, RoleGrant]:
    """Bind a Telegram account to the invite's role and area; create the member when new.

    Redeeming an invite whose grant the member already holds returns that grant and uses
    nothing, even when the invite is now used up (a second tap on the same link is harmless).
    A personal invite binds its roster member instead (``_redeem_personal``).
    """
    tg = clean_telegram_user_id(telegram_user_id)
    if tg is None:
        raise InvalidInput("a Telegram user id is needed to redeem an invite", "ไม่พบรหัสผู้ใช้ Telegram")
    invite = get_invite(session, code)
    if invite.member_id is not None:
        return _redeem_personal(session, invite, tg, now)
    member = session.scalar(select(Member).where(Member.telegram_user_id == tg))
    if member is not None and member.status != MemberStatus.ACTIVE:
        raise PermissionDenied(f"member {member.id} is {member.status}; the invite was not used",
                               "บัญชีของท่านถูกระงับการใช้งาน กรุณาติดต่อผู้ดูแลของท่าน")
    if member is not None:
        existing = find_grant(session, member.id, invite.role, invite.area_code)
        if existing is not None:
            return member, existing  # already joined: tapping the link again changes nothing
    _take_use(session, invite, now)
    if member is None:
        # The Telegram profile name: control characters out (issue 10, finding 7).
        display_name = " ".join(strip_controls(name or "").split())[:200] or FALLBACK_NAME
        try:
            member = add_member(session, name=display_name, telegram_user_id=tg, now=now)
        except (IntegrityError, Conflict):
            # The same new person redeemed twice at once (a double tap, or two links): the other
            # transaction created their member first (seen by the duplicate check once committed,
            # or by the unique index while it was not). Nothing of this attempt is kept.
            raise Conflict(f"Telegram user {tg} was joined by a concurrent redemption; nothing changed",
                           _RACE_TH) from None
    elif member.unreachable_since is not None:
        member.unreachable_since = None  # they are writing to the bot right now
    grant = _insert_grant(session, member.id, invite.role, invite.area_code, now=now)
    audit.record(session, at=now, action="grant.add", object_type="role_grant", object_id=grant.id,
                 after={"member_id": member.id, "role": invite.role, "area_code": invite.area_code,
                        "invite_id": invite.id}, actor_id=member.id, actor_label="invite")
    audit.record(session, at=now, action="invite.redeem", object_type="invite", object_id=invite.id,
                 after={"member_id": member.id, "grant_id": grant.id, "uses": invite.uses},
                 actor_id=member.id, actor_label="invite")
    return member, grant


def _take_use(session: Session, invite: Invite, now: datetime) -> None:
    """Take one use with a conditional UPDATE (never more than ``max_uses``, even concurrently)."""
    _refuse_unusable(invite, now)
    taken = session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.uses < Invite.max_uses, Invite.revoked_at.is_(None),
               Invite.expires_at > now)
        .values(uses=Invite.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(invite)
    if taken != 1:
        _refuse_unusable(invite, now)  # someone else took the last use (or revoked it) meanwhile
        raise Conflict(f"invite {invite.code} could not be used", f"ไม่สามารถใช้ลิงก์เชิญนี้ได้ {_ASK_ADMIN_TH}")


def _redeem_personal(session: Session, invite: Invite, tg: int, now: datetime) -> tuple[Member, RoleGrant]:
    """Bind ``tg`` to the invite's roster member; never create a member."""
    target = get_member(session, invite.member_id or 0)
    holder = session.scalar(select(Member).where(Member.telegram_user_id == tg))
    if holder is not None and holder.id != target.id:
        raise Conflict(
            f"Telegram user {tg} already belongs to member {holder.id}; personal invite {invite.code} is for "
            f"member {target.id}; merge them (network-hub member merge {target.id} {holder.id}) if one person",
            f"บัญชี Telegram นี้ผูกกับสมาชิกชื่อ {holder.name} อยู่แล้ว แต่ลิงก์นี้เป็นของคุณ{target.name} "
            "หากเป็นบุคคลเดียวกัน กรุณาแจ้งผู้ดูแลให้รวมรายชื่อ",
        )
    if holder is not None and target.status == MemberStatus.ACTIVE:
        existing = find_grant(session, target.id, invite.role, invite.area_code)
        if existing is not None:  # already linked: a second tap changes nothing
            return target, existing
    _refuse_unusable(invite, now)
    if target.status != MemberStatus.ACTIVE:
        raise PermissionDenied(f"member {target.id} is {target.status}; the invite was not used",
                               "บัญชีของท่านถูกระงับการใช้งาน กรุณาติดต่อผู้ดูแลของท่าน")
    if holder is None and target.telegram_user_id is not None:
        raise Conflict(f"member {target.id} is linked to another Telegram account; invite {invite.code} unused",
                       f"ลิงก์นี้ของคุณ{target.name} ถูกใช้เชื่อมกับบัญชี Telegram อื่นแล้ว "
                       "หากไม่ใช่ท่านเป็นผู้ใช้ กรุณาติดต่อผู้ดูแลของท่านทันที")
    _take_use(session, invite, now)
    if holder is None:
        target.telegram_user_id = tg
        target.unreachable_since = None
        target.updated_at = now
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"Telegram user {tg} was linked by a concurrent redemption; nothing changed",
                           _RACE_TH) from None
        audit.record(session, at=now, action="member.link_telegram", object_type="member", object_id=target.id,
                     before={"telegram_user_id": None}, after={"telegram_user_id": tg, "via": "personal_invite",
                                                                "invite_id": invite.id},
                     actor_id=target.id, actor_label="invite")
    grant = find_grant(session, target.id, invite.role, invite.area_code)
    if grant is None:
        grant = _insert_grant(session, target.id, invite.role, invite.area_code, now=now)
        audit.record(session, at=now, action="grant.add", object_type="role_grant", object_id=grant.id,
                     after={"member_id": target.id, "role": invite.role, "area_code": invite.area_code,
                            "invite_id": invite.id}, actor_id=target.id, actor_label="invite")
    audit.record(session, at=now, action="invite.redeem", object_type="invite", object_id=invite.id,
                 after={"member_id": target.id, "grant_id": grant.id, "uses": invite.uses, "personal": True},
                 actor_id=target.id, actor_label="invite")
    return target, grant


def revoke_invite(session: Session, code: str, *, now: datetime, actor: Actor) -> Invite:
    invite = get_invite(session, code)
    require(actor, Action.INVITE, invite.area_code, invite_role=invite.role)
    if invite.revoked_at is not None:
        raise Conflict(f"invite {invite.code} was already revoked; nothing changed",
                       "ลิงก์เชิญนี้ถูกยกเลิกไปแล้ว")
    invite.revoked_at = now
    session.flush()
    audit.record(session, at=now, action="invite.revoke", object_type="invite", object_id=invite.id,
                 before={"revoked_at": None}, after={"revoked_at": now.isoformat()}, **audit_actor(actor))
    return invite


def list_invites(session: Session, area: str | None = None) -> list[Invite]:
    """Invites, newest first; ``area`` keeps those for that area and the areas below it."""
    query = select(Invite).order_by(Invite.created_at.desc(), Invite.id.desc())
    if area is not None:
        code = validate_code(area)
        if code != ROOT_AREA:
            query = query.where(or_(Invite.area_code == code, Invite.area_code.like(f"{code}%")))
    return list(session.scalars(query))


def invite_link(invite: Invite, bot_username: str) -> str:
    """The deep link that opens the bot with the code: ``https://t.me/<bot>?start=<code>``."""
    username = bot_username.strip().removeprefix("@").removeprefix("https://t.me/")
    return f"https://t.me/{username}?start={invite.code}"


def invite_to_dict(invite: Invite, bot_username: str, *, now: datetime | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": invite.id,
        "code": invite.code,
        "link": invite_link(invite, bot_username),
        "role": invite.role,
        "area_code": invite.area_code,
        "uses": invite.uses,
        "max_uses": invite.max_uses,
        "expires_at": invite.expires_at,
        "revoked_at": invite.revoked_at,
        "created_by": invite.created_by,
        "created_at": invite.created_at,
        "member_id": invite.member_id,
    }
    if now is not None:
        data["state"] = invite_state(invite, now)
    return data
