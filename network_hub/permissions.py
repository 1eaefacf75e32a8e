"""The one permission function every interface (CLI, bot, web) goes through.

A grant is (role, area); it covers its area and every area below it. Area codes nest by prefix
(province 2 digits, district 4, tambon 6, village 8) and the root ``TH`` covers the country, so
"below" is a prefix test. Nobody moderates or corrects their own item. Suspended or forgotten members may do
nothing. ``decide`` is pure (tested as a table of role × action × area relation); ``load_actor``
reads a member's grants from the database.
"""

from __future__ import annotations

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
    MANAGE_ROSTER = "manage_roster"  # members, grants, roster import
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
    Action.MANAGE_OUTLETS: frozenset({Role.ADMIN}),
    Action.MANAGE_AREAS: frozenset({Role.ADMIN}),
}


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
) -> Decision:
    """May ``actor`` do ``action`` on something in ``area_code``?"""
    if actor.status != MemberStatus.ACTIVE:
        return Decision(False, f"member {actor.member_id} is {actor.status}", "บัญชีของท่านถูกระงับการใช้งาน")
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
