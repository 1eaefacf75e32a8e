"""Listing members: the roster's read side, light enough for a CLI process that only lists.

``list_members`` gives ORM objects (with their grants) to the web; ``member_rows`` gives the same
members as plain dicts (the shape of ``member_to_dict``) from two Core statements on the tables,
so ``network-hub member list`` does not configure the ORM mappers of every table (about 50 ms) and
does not import the roster services (phone numbers, Thai text, passwords, GeoThai): see
docs/PERFORMANCE.md, "CLI start-up". Both take their members from one filter, ``_filtered``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from network_hub.db.models import Member, RoleGrant
from network_hub.permissions import ROOT_AREA
from network_hub.states import MemberStatus

_members = Member.__table__
_grants = RoleGrant.__table__
_S = TypeVar("_S", bound=Select[Any])


def _filtered(query: _S, area: str | None, include_forgotten: bool) -> _S:
    """``query`` over members, kept to those not forgotten (unless asked) with a grant in ``area`` or below."""
    if not include_forgotten:
        query = query.where(_members.c.status != MemberStatus.FORGOTTEN.value)
    if area is not None:
        from network_hub.areas import validate_code  # GeoThai: only when an area is given

        code = validate_code(area)
        inside = select(_grants.c.member_id)
        if code != ROOT_AREA:
            inside = inside.where(or_(_grants.c.area_code == code, _grants.c.area_code.like(f"{code}%")))
        query = query.where(_members.c.id.in_(inside))
    return query


def list_members(session: Session, area: str | None = None, *,
                 include_forgotten: bool = False) -> list[Member]:
    """Members (with ``grants`` loaded), by id; ``area`` keeps those with a grant in it or below it."""
    query = _filtered(select(Member).options(selectinload(Member.grants)), area, include_forgotten)
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


def member_rows(session: Session, area: str | None = None, *,
                include_forgotten: bool = False) -> list[dict[str, Any]]:
    """``[member_to_dict(m) for m in list_members(...)]``, read with Core statements (no ORM objects)."""
    m = _members.c
    people = _filtered(select(m.id, m.name, m.phone, m.telegram_user_id, m.language, m.status,
                              m.password_hash, m.unreachable_since, m.created_at), area, include_forgotten)
    ids = _filtered(select(m.id), area, include_forgotten)
    grants: dict[int, list[dict[str, str]]] = {}
    for member_id, role, area_code in session.execute(
        select(_grants.c.member_id, _grants.c.role, _grants.c.area_code)
        .where(_grants.c.member_id.in_(ids.scalar_subquery()))
        .order_by(_grants.c.member_id, _grants.c.id)
    ):
        grants.setdefault(member_id, []).append({"role": role, "area_code": area_code})
    return [
        {
            "id": row.id,
            "name": row.name,
            "phone": row.phone,
            "telegram_user_id": row.telegram_user_id,
            "language": row.language,
            "status": row.status,
            "has_password": bool(row.password_hash),
            "unreachable_since": row.unreachable_since,
            "grants": grants.get(row.id, []),
            "created_at": row.created_at,
        }
        for row in session.execute(people.order_by(m.id))
    ]
