"""Members and their role grants: add, grant, suspend, resume, forget (PDPA), passwords, reachability.

Every service checks the actor with ``permissions.require`` before it writes, validates input
before it writes (a refused call changes nothing) and records an audit event for every change.
A member is "managed" in an area when the actor may ``MANAGE_ROSTER`` there; changing a member
needs that over every area the member holds a grant in, so a tambon admin cannot suspend a
provincial coordinator. Grants are added and removed under ``ASSIGN_ROLE`` instead (see
``permissions.decide_assign``): admins any role, coordinators reporters and moderators of their own
area; ``require_assign`` is the one check every entry path (web, CLI, import) reaches through
``add_grant``/``remove_grant``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from network_hub import audit
from network_hub.areas import get_area, validate_code
from network_hub.db.models import AuditEvent, Invite, Member, Notification, RoleGrant
from network_hub.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from network_hub.permissions import ROLES_FOR, ROOT_AREA, Action, Actor, decide, require
from network_hub.roster.listing import filter_members
from network_hub.roster.lookup import normalize_phone
from network_hub.roster.passwords import hash_password, password_matches
from network_hub.states import MemberStatus, NotificationState, Role

LANGUAGES = ("th", "en")
MAX_NAME_LENGTH = 200
# Telegram user ids fit in 52 bits (Bot API docs); anything larger is a typo.
MAX_TELEGRAM_USER_ID = 2**52
FORGOTTEN_NAME = "(ลบข้อมูลแล้ว)"
# Fields of a member that are personal data: erased by forget_member, also from old audit events.
PERSONAL_FIELDS = ("name", "phone", "telegram_user_id", "password_hash")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# -- validation (pure; used by the services and by the CSV import) ------------------------------
def clean_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InvalidInput("a member needs a name", "กรุณาระบุชื่อสมาชิก")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"a name may have at most {MAX_NAME_LENGTH} characters (got {len(name)})",
            f"ชื่อยาวได้ไม่เกิน {MAX_NAME_LENGTH} ตัวอักษร",
        )
    if _CONTROL.search(name):
        raise InvalidInput("a name may not contain control characters", "ชื่อมีอักขระที่ไม่อนุญาต")
    return name


def clean_role(raw: str | None) -> Role:
    value = (raw or "").strip().lower()
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidInput(
            f"{raw!r} is not a role; use one of: {choices}",
            f"'{raw}' ไม่ใช่บทบาทที่ถูกต้อง ใช้: {choices}",
        ) from None


def clean_language(raw: str | None) -> str:
    value = (raw or "").strip().lower() or "th"
    if value not in LANGUAGES:
        raise InvalidInput(f"{raw!r} is not a language; use th or en", f"'{raw}' ไม่ใช่ภาษาที่รองรับ ใช้ th หรือ en")
    return value


def clean_telegram_user_id(raw: int | str | None) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    if not text.isdigit() or not 0 < int(text) < MAX_TELEGRAM_USER_ID:
        raise InvalidInput(
            f"{raw!r} is not a Telegram user id (a positive number, e.g. 123456789)",
            f"'{raw}' ไม่ใช่รหัสผู้ใช้ Telegram (ตัวเลข เช่น 123456789)",
        )
    return int(text)


def clean_phone(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    return normalize_phone(raw)


# -- actors and permissions ---------------------------------------------------------------------
def audit_actor(actor: Actor | None) -> dict[str, Any]:
    """``actor_id``/``actor_label`` for ``audit.record``: the hub itself is id 0, label 'system'."""
    if actor is None or actor.member_id == 0:
        return {"actor_id": None, "actor_label": "system"}
    return {"actor_id": actor.member_id, "actor_label": "member"}


def require_roster_anywhere(actor: Actor) -> None:
    """The actor may manage the roster in at least one area (to create a member with no grant yet)."""
    areas = actor.areas_with(ROLES_FOR[Action.MANAGE_ROSTER])
    require(actor, Action.MANAGE_ROSTER, areas[0] if areas else ROOT_AREA)


def require_over_member(session: Session, actor: Actor, member: Member) -> None:
    """The actor may manage the roster in every area where ``member`` holds a grant."""
    areas = sorted({g.area_code for g in grants_of(session, member.id)})
    if not areas:
        require_roster_anywhere(actor)
    for area in areas:
        require(actor, Action.MANAGE_ROSTER, area)


# -- reading ------------------------------------------------------------------------------------
def get_member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} does not exist", f"ไม่พบสมาชิกหมายเลข {member_id}")
    return member


def grants_of(session: Session, member_id: int) -> list[RoleGrant]:
    return list(
        session.scalars(
            select(RoleGrant)
            .where(RoleGrant.member_id == member_id)
            .order_by(RoleGrant.area_code, RoleGrant.role)
        )
    )


def list_members(session: Session, area: str | None = None, *,
                 include_forgotten: bool = False) -> list[Member]:
    """Members (with ``grants`` loaded), by id; ``area`` keeps those with a grant in it or below it.

    The CLI lists the same members as dicts with ``listing.member_rows`` (Core, no ORM start-up cost).
    """
    query = filter_members(select(Member).options(selectinload(Member.grants)), area, include_forgotten,
                           members=Member.__table__, grants=RoleGrant.__table__)
    return list(session.scalars(query.order_by(Member.id)))


def member_to_dict(member: Member, grants: Iterable[RoleGrant] | None = None) -> dict[str, Any]:
    grants = member.grants if grants is None else grants
    return {
        "id": member.id,
        "name": member.name,
        "phone": member.phone,
        "telegram_user_id": member.telegram_user_id,
        "language": member.language,
        "status": member.status,
        "has_password": bool(member.password_hash),
        "unreachable_since": member.unreachable_since,
        "grants": [{"role": g.role, "area_code": g.area_code} for g in grants],
        "created_at": member.created_at,
    }


def _public_fields(member: Member) -> dict[str, Any]:
    return {
        "name": member.name,
        "phone": member.phone,
        "telegram_user_id": member.telegram_user_id,
        "language": member.language,
        "status": member.status,
    }


def _refuse_duplicates(session: Session, phone: str | None, telegram_user_id: int | None,
                       exclude_id: int | None = None) -> None:
    if phone is not None:
        other = session.scalar(select(Member).where(Member.phone == phone))
        if other is not None and other.id != exclude_id:
            raise Conflict(
                f"phone {phone} already belongs to member {other.id} ({other.name}); "
                "add a grant to that member instead: "
                f"network-hub grant add {other.id} --role ROLE --area CODE",
                f"หมายเลขโทรศัพท์ {phone} เป็นของสมาชิกหมายเลข {other.id} อยู่แล้ว",
            )
    if telegram_user_id is not None:
        other = session.scalar(select(Member).where(Member.telegram_user_id == telegram_user_id))
        if other is not None and other.id != exclude_id:
            raise Conflict(
                f"Telegram user {telegram_user_id} already belongs to member {other.id} ({other.name})",
                f"บัญชี Telegram {telegram_user_id} เป็นของสมาชิกหมายเลข {other.id} อยู่แล้ว",
            )


# -- members ------------------------------------------------------------------------------------
def add_member(
    session: Session,
    *,
    name: str,
    phone: str | None = None,
    telegram_user_id: int | str | None = None,
    language: str = "th",
    now: datetime,
    actor: Actor | None = None,
) -> Member:
    """Create a member. ``actor=None`` is the hub itself (an invite being redeemed)."""
    clean = clean_name(name)
    phone_e164 = clean_phone(phone)
    tg = clean_telegram_user_id(telegram_user_id)
    lang = clean_language(language)
    if actor is not None:
        require_roster_anywhere(actor)
    _refuse_duplicates(session, phone_e164, tg)
    member = Member(name=clean, phone=phone_e164, telegram_user_id=tg, language=lang,
                    status=MemberStatus.ACTIVE.value, created_at=now, updated_at=now)
    session.add(member)
    session.flush()
    audit.record(session, at=now, action="member.add", object_type="member", object_id=member.id,
                 after=_public_fields(member), **audit_actor(actor))
    return member


def update_member(
    session: Session,
    member_id: int,
    *,
    name: str | None = None,
    phone: str | None = None,
    telegram_user_id: int | str | None = None,
    language: str | None = None,
    now: datetime,
    actor: Actor | None,
) -> Member:
    """Change the given fields (None leaves a field as it is); used by the roster import."""
    member = get_member(session, member_id)
    if member.status == MemberStatus.FORGOTTEN:
        raise Conflict(f"member {member_id} was forgotten and cannot be changed",
                       f"สมาชิกหมายเลข {member_id} ถูกลบข้อมูลแล้ว")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = clean_name(name)
    if phone is not None and phone.strip():
        changes["phone"] = clean_phone(phone)
    if telegram_user_id is not None and str(telegram_user_id).strip():
        changes["telegram_user_id"] = clean_telegram_user_id(telegram_user_id)
    if language is not None and language.strip():
        changes["language"] = clean_language(language)
    if actor is not None:
        require_over_member(session, actor, member)
    _refuse_duplicates(session, changes.get("phone"), changes.get("telegram_user_id"), exclude_id=member.id)
    changes = {k: v for k, v in changes.items() if getattr(member, k) != v}
    if not changes:
        return member
    before = {k: getattr(member, k) for k in changes}
    for key, value in changes.items():
        setattr(member, key, value)
    member.updated_at = now
    session.flush()
    audit.record(session, at=now, action="member.update", object_type="member", object_id=member.id,
                 before=before, after=changes, **audit_actor(actor))
    return member


def _set_status(session: Session, member_id: int, status: MemberStatus, *, now: datetime, actor: Actor,
                reason: str | None, action: str) -> Member:
    member = get_member(session, member_id)
    if member.status == MemberStatus.FORGOTTEN:
        raise Conflict(f"member {member_id} was forgotten; nothing to {action}",
                       f"สมาชิกหมายเลข {member_id} ถูกลบข้อมูลแล้ว")
    if member.status == status:
        raise Conflict(f"member {member_id} is already {status.value}; nothing changed",
                       f"สมาชิกหมายเลข {member_id} อยู่ในสถานะนี้แล้ว")
    if actor.member_id == member_id and status == MemberStatus.SUSPENDED:
        raise InvalidInput("you cannot suspend yourself; ask another admin",
                           "ไม่สามารถระงับบัญชีของตนเองได้ กรุณาให้ผู้ดูแลท่านอื่นดำเนินการ")
    require_over_member(session, actor, member)
    before = member.status
    member.status = status.value
    member.session_generation += 1  # ends the member's web sessions (issue 10, finding 6)
    member.updated_at = now
    session.flush()
    audit.record(session, at=now, action=f"member.{action}", object_type="member", object_id=member.id,
                 before={"status": before}, after={"status": member.status}, reason=reason,
                 **audit_actor(actor))
    return member


def suspend_member(session: Session, member_id: int, *, now: datetime, actor: Actor,
                   reason: str | None = None) -> Member:
    """A suspended member may do nothing (permissions.decide) until resumed; their items stay."""
    return _set_status(session, member_id, MemberStatus.SUSPENDED, now=now, actor=actor, reason=reason,
                       action="suspend")


def resume_member(session: Session, member_id: int, *, now: datetime, actor: Actor,
                  reason: str | None = None) -> Member:
    return _set_status(session, member_id, MemberStatus.ACTIVE, now=now, actor=actor, reason=reason,
                       action="resume")


def forget_member(session: Session, member_id: int, *, now: datetime, actor: Actor,
                  reason: str | None = None) -> Member:
    """PDPA erasure: name, phone, Telegram id and password go; the row stays as 'forgotten'.

    The row is kept so news items keep an author id and the audit log stays consistent. Grants
    are removed (a forgotten person is no longer in the network), pending DMs are cancelled, and
    personal fields are scrubbed from earlier audit events about this member. A member may ask
    to be forgotten themselves (``actor`` is the member), even while suspended.
    """
    member = get_member(session, member_id)
    if member.status == MemberStatus.FORGOTTEN:
        raise Conflict(f"member {member_id} was already forgotten; nothing changed",
                       f"สมาชิกหมายเลข {member_id} ถูกลบข้อมูลไปแล้ว")
    if actor.member_id != member_id:
        require_over_member(session, actor, member)
    erased = [f for f in PERSONAL_FIELDS if getattr(member, f) not in (None, "")]
    grants = grants_of(session, member_id)
    removed = [{"role": g.role, "area_code": g.area_code} for g in grants]
    for grant in grants:
        session.delete(grant)
    member.name = FORGOTTEN_NAME
    member.phone = None
    member.telegram_user_id = None
    member.password_hash = None
    member.unreachable_since = None
    before_status = member.status
    member.status = MemberStatus.FORGOTTEN.value
    member.updated_at = now
    cancelled = session.execute(
        update(Notification)
        .where(Notification.member_id == member_id, Notification.state == NotificationState.PENDING.value)
        .values(state=NotificationState.FAILED.value, last_error="member forgotten (PDPA erasure)")
        .execution_options(synchronize_session=False)
    ).rowcount
    # A personal invite still open would let its holder re-create the link to this row.
    revoked_invites = session.execute(
        update(Invite)
        .where(Invite.member_id == member_id, Invite.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    scrubbed = _scrub_audit_history(session, member_id)
    session.flush()
    audit.record(
        session, at=now, action="member.forget", object_type="member", object_id=member.id,
        before={"status": before_status},
        after={"status": member.status, "erased_fields": erased, "grants_removed": removed,
               "pending_notifications_cancelled": cancelled, "audit_events_scrubbed": scrubbed,
               "personal_invites_revoked": revoked_invites},
        reason=reason, **audit_actor(actor),
    )
    return member


def _scrub_audit_history(session: Session, member_id: int) -> int:
    """Remove personal fields from earlier audit events about this member; return how many changed."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "member", AuditEvent.object_id == str(member_id))
    )
    changed = 0
    for event in events:
        new_before = _without_personal(event.before)
        new_after = _without_personal(event.after)
        if (new_before, new_after) != (event.before, event.after):
            event.before, event.after = new_before, new_after
            changed += 1
    return changed


def _without_personal(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: ("(erased)" if k in PERSONAL_FIELDS else v) for k, v in data.items()}


# -- grants -------------------------------------------------------------------------------------
def grant_pairs(session: Session, member_id: int) -> list[tuple[str, str]]:
    """The member's grants as (role, area) pairs, as ``permissions.decide`` reads them."""
    return [(g.role, g.area_code) for g in grants_of(session, member_id)]


def require_assign(session: Session, actor: Actor, member_id: int, role: str, area_code: str) -> None:
    """Refuse (Thai reason) unless ``actor`` may give or take away ``role`` in ``area_code`` for the member."""
    require(actor, Action.ASSIGN_ROLE, area_code, grant_role=role, target_id=member_id,
            target_grants=grant_pairs(session, member_id))


def may_assign_roles_of(session: Session, actor: Actor, member: Member) -> bool:
    """The actor may change ``member``'s roles wherever the member works (the member page's grant form).

    A member with no grant is in nobody's area: only those who manage the roster see them.
    """
    pairs = grant_pairs(session, member.id)
    return bool(pairs) and all(
        decide(actor, Action.ASSIGN_ROLE, area, target_id=member.id, target_grants=pairs) for _, area in pairs)


def assignable_roles(actor: Actor) -> list[str]:
    """The roles ``actor`` may give in at least one area (what a role menu offers), lowest first."""
    areas = actor.areas_with(ROLES_FOR[Action.ASSIGN_ROLE])
    return [r.value for r in Role if any(decide(actor, Action.ASSIGN_ROLE, a, grant_role=r.value) for a in areas)]


def require_assign_somewhere(actor: Actor, role: str | None = None) -> None:
    """Refuse before any input is read unless ``actor`` may assign ``role`` (a valid one) in some area."""
    try:
        role_value: str | None = clean_role(role).value if role else None
    except InvalidInput:
        role_value = None  # the service explains a wrong role; here only the permission counts
    areas = actor.areas_with(ROLES_FOR[Action.ASSIGN_ROLE]) or [ROOT_AREA]
    decisions = [decide(actor, Action.ASSIGN_ROLE, area, grant_role=role_value) for area in areas]
    if not any(decisions):
        raise PermissionDenied(decisions[0].reason_en, decisions[0].reason_th)


def add_grant(session: Session, member_id: int, role: str, area_code: str, *, now: datetime,
              actor: Actor) -> RoleGrant:
    """Give ``member`` ``role`` in ``area_code`` (and so every area below it)."""
    role_value = clean_role(role).value
    area = get_area(session, area_code)
    member = get_member(session, member_id)
    if member.status == MemberStatus.FORGOTTEN:
        raise Conflict(f"member {member_id} was forgotten; add a new member instead",
                       f"สมาชิกหมายเลข {member_id} ถูกลบข้อมูลแล้ว")
    require_assign(session, actor, member_id, role_value, area.code)
    existing = find_grant(session, member_id, role_value, area.code)
    if existing is not None:
        raise Conflict(f"member {member_id} already holds {role_value} in {area.code}; nothing changed",
                       f"สมาชิกหมายเลข {member_id} มีบทบาทนี้ในพื้นที่นี้อยู่แล้ว")
    grant = _insert_grant(session, member_id, role_value, area.code, now=now)
    audit.record(session, at=now, action="grant.add", object_type="role_grant", object_id=grant.id,
                 after={"member_id": member_id, "role": role_value, "area_code": area.code},
                 **audit_actor(actor))
    return grant


def _insert_grant(session: Session, member_id: int, role: str, area_code: str, *, now: datetime) -> RoleGrant:
    grant = RoleGrant(member_id=member_id, role=role, area_code=area_code, created_at=now)
    session.add(grant)
    session.flush()
    return grant


def find_grant(session: Session, member_id: int, role: str, area_code: str) -> RoleGrant | None:
    return session.scalar(
        select(RoleGrant).where(RoleGrant.member_id == member_id, RoleGrant.role == role,
                                RoleGrant.area_code == area_code)
    )


def remove_grant(session: Session, member_id: int, role: str, area_code: str, *, now: datetime,
                 actor: Actor) -> None:
    role_value = clean_role(role).value
    code = validate_code(area_code)
    get_member(session, member_id)
    require_assign(session, actor, member_id, role_value, code)
    grant = find_grant(session, member_id, role_value, code)
    if grant is None:
        raise NotFound(f"member {member_id} holds no {role_value} grant in {code}; nothing changed",
                       f"สมาชิกหมายเลข {member_id} ไม่มีบทบาทนี้ในพื้นที่นี้")
    grant_id = grant.id
    session.delete(grant)
    session.flush()
    audit.record(session, at=now, action="grant.remove", object_type="role_grant", object_id=grant_id,
                 before={"member_id": member_id, "role": role_value, "area_code": code}, **audit_actor(actor))


# -- passwords ----------------------------------------------------------------------------------
def set_password(session: Session, member_id: int, password: str, *, now: datetime,
                 actor: Actor | None = None) -> Member:
    """Set a member's dashboard password (min 10 characters, argon2id). ``actor=None``: the member."""
    member = get_member(session, member_id)
    if member.status == MemberStatus.FORGOTTEN:
        raise Conflict(f"member {member_id} was forgotten", f"สมาชิกหมายเลข {member_id} ถูกลบข้อมูลแล้ว")
    new_hash = hash_password(password)
    if actor is not None and actor.member_id != member_id:
        require_over_member(session, actor, member)
    member.password_hash = new_hash
    member.session_generation += 1  # a password change signs out every other session (issue 10, finding 6)
    member.updated_at = now
    session.flush()
    audit.record(session, at=now, action="member.set_password", object_type="member", object_id=member.id,
                 after={"password": "changed"}, **audit_actor(actor))
    return member


def verify_password(member: Member, password: str) -> bool:
    """True only for an active member whose password matches (suspended/forgotten: always False)."""
    if member.status != MemberStatus.ACTIVE:
        return False
    return password_matches(member.password_hash, password)


# -- reachability (Telegram said the person never started the bot, or blocked it) ---------------
def mark_unreachable(session: Session, member_id: int, now: datetime) -> bool:
    """Record that DMs cannot reach the member; True when this changed anything."""
    member = get_member(session, member_id)
    if member.unreachable_since is not None:
        return False
    member.unreachable_since = now
    session.flush()
    audit.record(session, at=now, action="member.unreachable", object_type="member", object_id=member.id,
                 after={"unreachable_since": now.isoformat()})
    return True


def mark_reachable(session: Session, member_id: int, now: datetime) -> bool:
    """The member wrote to the bot again; True when this changed anything."""
    member = get_member(session, member_id)
    if member.unreachable_since is None:
        return False
    before = member.unreachable_since
    member.unreachable_since = None
    session.flush()
    audit.record(session, at=now, action="member.reachable", object_type="member", object_id=member.id,
                 before={"unreachable_since": before.isoformat()})
    return True


def require_active(member: Member) -> None:
    """Refuse (Thai message) when ``member`` may not act: suspended or forgotten."""
    if member.status != MemberStatus.ACTIVE:
        raise PermissionDenied(f"member {member.id} is {member.status}",
                               "บัญชีของท่านถูกระงับการใช้งาน กรุณาติดต่อผู้ดูแลของท่าน")

