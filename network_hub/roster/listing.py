"""Listing members: the roster's read side, light enough for a CLI process that only lists.

``member_rows`` gives the members as plain dicts (the shape of ``members.member_to_dict``) from two
Core statements on lightweight table clauses, so ``network-hub member list`` imports neither the
ORM and the declarative models (about 0.2 s) nor the roster services (phone numbers, Thai text, passwords,
GeoThai) and never configures the ORM mappers: see docs/PERFORMANCE.md, "CLI start-up".
``members.list_members`` (ORM objects, for the web) takes its members from the same filter,
``filter_members``. The clauses below name columns of ``network_hub.db.models`` with the same types;
``tests/cli/test_startup_imports.py`` checks that they still match the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import BigInteger, Integer, Select, String, TableClause, column, or_, select, table

from network_hub.db.types import UTCDateTime
from network_hub.states import MemberStatus

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

MEMBERS = table(
    "members",
    column("id", Integer), column("name", String), column("phone", String),
    column("telegram_user_id", BigInteger), column("language", String), column("status", String),
    column("password_hash", String), column("unreachable_since", UTCDateTime), column("created_at", UTCDateTime),
)
GRANTS = table(
    "role_grants",
    column("id", Integer), column("member_id", Integer), column("role", String), column("area_code", String),
)
_S = TypeVar("_S", bound=Select[Any])


def filter_members(query: _S, area: str | None, include_forgotten: bool, *,
                   members: TableClause = MEMBERS, grants: TableClause = GRANTS) -> _S:
    """``query`` over ``members``, kept to those not forgotten (unless asked) with a grant in ``area`` or
    below it. The ORM listing passes the models' tables, so that its query has one FROM."""
    if not include_forgotten:
        query = query.where(members.c.status != MemberStatus.FORGOTTEN.value)
    if area is not None:
        from network_hub.areas import validate_code  # GeoThai and the models: only when an area is given
        from network_hub.permissions import ROOT_AREA

        code = validate_code(area)
        inside = select(grants.c.member_id)
        if code != ROOT_AREA:
            inside = inside.where(or_(grants.c.area_code == code, grants.c.area_code.like(f"{code}%")))
        query = query.where(members.c.id.in_(inside))
    return query


def member_rows(session: Session | Connection, area: str | None = None, *,
                include_forgotten: bool = False) -> list[dict[str, Any]]:
    """``[member_to_dict(m) for m in list_members(...)]`` read with Core statements (no ORM objects);
    on a connection (as the CLI reads) the ORM need not even be imported."""
    m, g = MEMBERS.c, GRANTS.c
    people = filter_members(select(m.id, m.name, m.phone, m.telegram_user_id, m.language, m.status,
                                   m.password_hash, m.unreachable_since, m.created_at), area, include_forgotten)
    ids = filter_members(select(m.id), area, include_forgotten)
    grants: dict[int, list[dict[str, str]]] = {}
    for member_id, role, area_code in session.execute(
        select(g.member_id, g.role, g.area_code).where(g.member_id.in_(ids.scalar_subquery()))
        .order_by(g.member_id, g.id)
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
