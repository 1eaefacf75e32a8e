"""The one permission function every interface (CLI, bot, web) goes through.

A grant is (role, area); it covers its area and every area below it. Area codes nest by prefix
(province 2 digits, district 4, tambon 6, village 8) and the root ``TH`` covers the country, so
"below" is a prefix test. Nobody moderates or corrects their own item. Suspended or forgotten members may do
nothing. ``decide`` is pure (tested as a table of role × action × area relation); ``load_actor``
reads a member's grants from the database.

Who may give or take away a role (``ASSIGN_ROLE``, the roster's grants): an admin, any role, in the
areas their admin grant covers; a coordinator, only the reporter and moderator roles, only in areas
inside their coordinator area, never on themselves, and only for members whose every grant lies
inside that area and who are not coordinators or admins (a district office looks after its own
volunteers and tambon moderators; anyone else is the admin's). Moderators and reporters may not.
Changing members themselves (add, edit, suspend, forget, passwords, import, merge) stays
``MANAGE_ROSTER``: admins only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.db.models import Member, RoleGrant
from network_hub.errors import NotFound, PermissionDenied
from network_hub.states import MemberStatus, Role

ROOT_AREA = "TH"


class Action(StrEnum):
    SUBMIT = "submit"  # send news for a village
    VIEW_ITEM = "view_item"  # see an item (authors always see their own)
    MODERATE = "moderate"  # approve, schedule, edit, return, reject (never one's own)
    CHANGE_PUBLISHED = "change_published"  # withdraw a published item (its author may too)
    # Put new text on a published item: like moderation, never one's own item (a second person
    # reads every text before it reaches the public, PDPA confirmation included).
    CORRECT_PUBLISHED = "correct_published"
    RESOLVE_DELIVERY = "resolve_delivery"  # answer unknown deliveries, retry failed ones
    VIEW_STATS = "view_stats"  # queue counts, statistics, CSV exports, digests
    INVITE = "invite"  # create invites (admins any role; moderators/coordinators reporters only)
    MANAGE_ROSTER = "manage_roster"  # members, roster import (admins)
    # Add or remove a role grant: admins any role; coordinators reporter/moderator (``decide_assign``).
    ASSIGN_ROLE = "assign_role"
    MANAGE_OUTLETS = "manage_outlets"
    MANAGE_AREAS = "manage_areas"


ROLES_FOR: dict[Action, frozenset[Role]] = {
    Action.SUBMIT: frozenset(Role),
    Action.VIEW_ITEM: frozenset({Role.MODERATOR, Role.COORDINATOR, Role.ADMIN}),
    Action.MODERATE: frozenset({Role.MODERATOR, Role.ADMIN}),
    Action.CHANGE_PUBLISHED: frozenset({Role.MODERATOR, Role.ADMIN}),
    Action.CORRECT_PUBLISHED: frozenset({Role.MODERATOR, Role.ADMIN}),
    Action.RESOLVE_DELIVERY: frozenset({Role.MODERATOR, Role.ADMIN}),
    Action.VIEW_STATS: frozenset({Role.MODERATOR, Role.COORDINATOR, Role.ADMIN}),
    Action.INVITE: frozenset({Role.MODERATOR, Role.COORDINATOR, Role.ADMIN}),
    Action.MANAGE_ROSTER: frozenset({Role.ADMIN}),
    Action.ASSIGN_ROLE: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.MANAGE_OUTLETS: frozenset({Role.ADMIN}),
    Action.MANAGE_AREAS: frozenset({Role.ADMIN}),
}

# The roles a coordinator may give or take away (inside their own coordinator area).
COORDINATOR_ASSIGNS: frozenset[Role] = frozenset({Role.REPORTER, Role.MODERATOR})
_ROLE_TH = {"reporter": "ผู้ส่งข่าว", "moderator": "ผู้ตรวจข่าว", "coordinator": "ผู้ประสานงาน", "admin": "ผู้ดูแลระบบ"}


def covers(grant_area: str, target_area: str) -> bool:
    """True when a grant on ``grant_area`` reaches ``target_area`` (itself or below)."""
    return grant_area == ROOT_AREA or target_area.startswith(grant_area)


@dataclass(frozen=True)
class Actor:
    member_id: int
    status: str = MemberStatus.ACTIVE
    grants: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (role, area_code)

    def roles_over(self, area_code: str) -> set[str]:
        return {role for role, area in self.grants if covers(area, area_code)}

    def areas_with(self, roles: frozenset[Role] | set[str]) -> list[str]:
        """The areas where this actor holds one of ``roles`` (for filtering listings)."""
        return sorted({area for role, area in self.grants if role in roles})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_en: str = ""
    reason_th: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def decide(
    actor: Actor,
    action: Action,
    area_code: str,
    *,
    author_id: int | None = None,
    invite_role: str | None = None,
    grant_role: str | None = None,
    target_id: int | None = None,
    target_grants: Iterable[tuple[str, str]] | None = None,
) -> Decision:
    """May ``actor`` do ``action`` on something in ``area_code``?

    ``ASSIGN_ROLE`` also reads ``grant_role`` (None: the lowest role, "may they assign at all"),
    ``target_id`` (the member whose grant changes) and ``target_grants`` (that member's grants as
    (role, area) pairs; None only for "may they assign somewhere" questions asked by a page).
    """
    if actor.status != MemberStatus.ACTIVE:
        return Decision(False, f"member {actor.member_id} is {actor.status}", "บัญชีของท่านถูกระงับการใช้งาน")
    if action is Action.ASSIGN_ROLE:
        return decide_assign(actor, area_code, grant_role=grant_role, target_id=target_id,
                             target_grants=target_grants)
    if action is Action.VIEW_ITEM and author_id == actor.member_id:
        return Decision(True)
    held = actor.roles_over(area_code) & set(ROLES_FOR[action])
    if action is Action.INVITE and invite_role not in (None, Role.REPORTER):
        held &= {Role.ADMIN}
    if not held:
        return Decision(
            False,
            f"member {actor.member_id} has no role allowed to {action.value} in area {area_code}",
            "ท่านไม่มีสิทธิ์ทำรายการนี้ในพื้นที่นี้",
        )
    if action is Action.MODERATE and author_id == actor.member_id:
        return Decision(
            False,
            f"member {actor.member_id} cannot moderate their own item",
            "ไม่สามารถอนุมัติหรือพิจารณาข่าวของตนเองได้ กรุณาให้ผู้ดูแลท่านอื่นพิจารณา",
        )
    if action is Action.CORRECT_PUBLISHED and author_id == actor.member_id:
        return Decision(
            False,
            f"member {actor.member_id} cannot correct their own published item; another moderator must",
            "ไม่สามารถแก้ไขข่าวของตนเองที่เผยแพร่แล้วได้ กรุณาส่งข้อความที่ถูกต้องให้ผู้ดูแลท่านอื่นตรวจและแก้ไข",
        )
    return Decision(True)


def decide_assign(
    actor: Actor,
    area_code: str,
    *,
    grant_role: str | None = None,
    target_id: int | None = None,
    target_grants: Iterable[tuple[str, str]] | None = None,
) -> Decision:
    """May an active ``actor`` give (or take away) ``grant_role`` in ``area_code`` to ``target_id``?"""
    held = actor.roles_over(area_code)
    if Role.ADMIN in held:
        return Decision(True)
    who = f"member {actor.member_id}"
    if Role.COORDINATOR not in held:
        if actor.areas_with(ROLES_FOR[Action.ASSIGN_ROLE]):
            return Decision(
                False,
                f"{who} may not assign roles in area {area_code}: it is outside their area",
                "พื้นที่นี้อยู่นอกพื้นที่ที่ท่านรับผิดชอบ จึงมอบหรือถอนบทบาทในพื้นที่นี้ไม่ได้ "
                "กรุณาติดต่อผู้ดูแลระบบ",
            )
        return Decision(
            False,
            f"{who} may not assign roles: only coordinators (reporter, moderator) and admins may",
            "ท่านไม่มีสิทธิ์มอบหรือถอนบทบาทของสมาชิก (ทำได้เฉพาะผู้ประสานงานและผู้ดูแลระบบ)",
        )
    if grant_role is not None and grant_role not in COORDINATOR_ASSIGNS:
        label = _ROLE_TH.get(grant_role, grant_role)
        return Decision(
            False,
            f"{who} is a coordinator: they may assign only the reporter and moderator roles, not {grant_role}",
            f"ผู้ประสานงานมอบหรือถอนได้เฉพาะบทบาทผู้ส่งข่าวและผู้ตรวจข่าว "
            f"บทบาท{label}ต้องให้ผู้ดูแลระบบดำเนินการ",
        )
    if target_id is not None and target_id == actor.member_id:
        return Decision(
            False,
            f"{who} may not change their own roles; an admin must",
            "ไม่สามารถมอบหรือถอนบทบาทของตนเองได้ กรุณาให้ผู้ดูแลระบบดำเนินการ",
        )
    coordinated = [area for role, area in actor.grants if role == Role.COORDINATOR]
    for role, area in target_grants or ():
        if role not in COORDINATOR_ASSIGNS:
            return Decision(
                False,
                f"member {target_id} is {role} in {area}; only an admin may change their roles",
                f"สมาชิกท่านนี้เป็น{_ROLE_TH.get(role, role)} การมอบหรือถอนบทบาทของท่านนี้"
                "ต้องให้ผู้ดูแลระบบดำเนินการ",
            )
        if not any(covers(mine, area) for mine in coordinated):
            return Decision(
                False,
                f"member {target_id} also holds {role} in {area}, outside {who}'s area; an admin must change it",
                "สมาชิกท่านนี้มีบทบาทในพื้นที่อื่นนอกพื้นที่ที่ท่านรับผิดชอบด้วย "
                "การมอบหรือถอนบทบาทของท่านนี้ต้องให้ผู้ดูแลระบบดำเนินการ",
            )
    return Decision(True)


def require(actor: Actor, action: Action, area_code: str, **kwargs: object) -> None:
    decision = decide(actor, action, area_code, **kwargs)  # type: ignore[arg-type]
    if not decision:
        raise PermissionDenied(decision.reason_en, decision.reason_th)


def load_actor(session: Session, member_id: int) -> Actor:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} does not exist", f"ไม่พบสมาชิกหมายเลข {member_id}")
    rows = session.execute(
        select(RoleGrant.role, RoleGrant.area_code).where(RoleGrant.member_id == member_id)
    ).all()
    return Actor(member_id=member.id, status=member.status, grants=tuple((r, a) for r, a in rows))


def system_actor() -> Actor:
    """The hub itself (CLI run by the operator with no --by): a national admin."""
    return Actor(member_id=0, grants=((Role.ADMIN.value, ROOT_AREA),))
