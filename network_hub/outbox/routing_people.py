"""Who hears about a delivery or outlet problem: the people whose grants cover its area."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.areas import ancestors
from network_hub.db.models import Member, RoleGrant
from network_hub.states import MemberStatus, Role


def members_with_role_over(session: Session, area_code: str, roles: tuple[str, ...]) -> list[int]:
    """Active members holding one of ``roles`` on ``area_code`` or any area above it."""
    if not area_code:
        return []
    rows = session.execute(
        select(RoleGrant.member_id)
        .join(Member, Member.id == RoleGrant.member_id)
        .where(RoleGrant.area_code.in_(ancestors(area_code)), RoleGrant.role.in_(roles),
               Member.status == MemberStatus.ACTIVE)
        .distinct()
        .order_by(RoleGrant.member_id)
    ).scalars().all()
    return list(rows)


def moderators_of_village(session: Session, village_code: str) -> list[int]:
    """Moderators covering the village; the admins when no moderator does."""
    return members_with_role_over(session, village_code, (Role.MODERATOR,)) or admins_of_area(
        session, village_code)


def admins_of_area(session: Session, area_code: str) -> list[int]:
    return members_with_role_over(session, area_code, (Role.ADMIN,))


def coordinators_of_area(session: Session, area_code: str) -> list[int]:
    return members_with_role_over(session, area_code, (Role.COORDINATOR,))
