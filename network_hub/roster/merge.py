"""Merging two members who are one person (the duplicate an imported volunteer became before
personal invites existed, or a second Telegram account).

``merge_members(keep, other)`` moves everything that points at ``other`` to ``keep``: grants,
authored and decided news items, notifications, reminders, invites, audit events as actor — by
reading the foreign keys to ``members.id`` from the models, so a table added later (LINE ids,
Facebook connections) is moved too. Rows that would clash with one ``keep`` already has under a
unique constraint (the same grant twice, the same reminder twice) are dropped first. ``keep`` takes
the phone, Telegram id (or any other unique identity) and password it lacks; identities both hold
with different values refuse the merge (two different people, most likely). ``other`` is then
deleted; the merge is audited on both ids, and earlier audit events stay as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Table, UniqueConstraint, delete, exists, update
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Base, Member
from network_hub.errors import Conflict, InvalidInput
from network_hub.permissions import Actor
from network_hub.roster.members import audit_actor, get_member, require_over_member
from network_hub.states import MemberStatus

# Copied from ``other`` when ``keep`` has none (unique identities are found from the table).
_TAKE_WHEN_MISSING = ("password_hash",)


def _member_references() -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) holding a foreign key to ``members.id``, members itself excluded."""
    members = Member.__table__
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        if table is members:
            continue
        for fk in table.foreign_keys:
            if fk.column is members.c.id:
                found.append((table, fk.parent))
    return found


def _unique_groups(table: Table, column: Column[Any]) -> list[list[Column[Any]]]:
    """The other columns of each unique constraint or unique index that includes ``column``."""
    groups: list[list[Column[Any]]] = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and column.name in constraint.columns:
            groups.append([c for c in constraint.columns if c is not column])
    for index in table.indexes:
        if isinstance(index, Index) and index.unique and column.name in index.columns:
            groups.append([c for c in index.columns if c is not column])
    return groups


def _unique_identities() -> list[str]:
    return [c.name for c in Member.__table__.columns if c.unique and not c.primary_key]


def merge_members(session: Session, keep_id: int, other_id: int, *, now: datetime, actor: Actor | None,
                  reason: str | None = None, via: str = "admin") -> Member:
    """Fold member ``other_id`` into ``keep_id``; ``actor=None`` is the hub (a verified phone share)."""
    if keep_id == other_id:
        raise InvalidInput(f"cannot merge member {keep_id} with itself", "ไม่สามารถรวมสมาชิกกับตัวเองได้")
    keep = get_member(session, keep_id)
    other = get_member(session, other_id)
    for member in (keep, other):
        if member.status == MemberStatus.FORGOTTEN:
            raise Conflict(f"member {member.id} was forgotten and cannot be merged",
                           f"สมาชิกหมายเลข {member.id} ถูกลบข้อมูลแล้ว รวมรายชื่อไม่ได้")
    if actor is not None:
        require_over_member(session, actor, keep)
        require_over_member(session, actor, other)
        if actor.member_id == other_id:
            raise InvalidInput("you cannot merge away your own account; keep it and merge the other into it",
                               "ไม่สามารถรวมบัญชีของตนเองเข้ากับผู้อื่นได้ กรุณาเลือกเก็บบัญชีของท่านไว้")
    taken: dict[str, Any] = {}
    for name in _unique_identities():
        mine, theirs = getattr(keep, name), getattr(other, name)
        if mine is not None and theirs is not None and mine != theirs:
            label = {"phone": "เบอร์โทรศัพท์", "telegram_user_id": "บัญชี Telegram"}.get(name, name)
            raise Conflict(
                f"members {keep_id} and {other_id} have different {name}; they look like two people. "
                "Clear it on one of them first if they are one person",
                f"สมาชิกทั้งสองมี{label}ต่างกัน อาจเป็นคนละคน หากเป็นคนเดียวกัน กรุณาแก้ไขข้อมูลของคนใดคนหนึ่งก่อน",
            )
        if mine is None and theirs is not None:
            taken[name] = theirs
    for name in _TAKE_WHEN_MISSING:
        if getattr(keep, name) is None and getattr(other, name) is not None:
            taken[name] = getattr(other, name)
    if "telegram_user_id" in taken:
        taken["unreachable_since"] = other.unreachable_since
    other_fields = {"name": other.name, "phone": other.phone, "telegram_user_id": other.telegram_user_id,
                    "status": other.status, "created_at": other.created_at.isoformat()}
    session.flush()

    moved: dict[str, int] = {}
    for table, column in _member_references():
        for rest in _unique_groups(table, column):
            twin = table.alias("twin")
            clash = exists().where(twin.c[column.name] == keep_id,
                                   *[twin.c[c.name] == table.c[c.name] for c in rest])
            session.execute(delete(table).where(column == other_id, clash)
                            .execution_options(synchronize_session=False))
        count = session.execute(update(table).where(column == other_id).values({column.name: keep_id})
                                .execution_options(synchronize_session=False)).rowcount
        if count:
            moved[f"{table.name}.{column.name}"] = count
    session.expire_all()  # the bulk updates bypassed the identity map

    other = get_member(session, other_id)
    session.delete(other)
    session.flush()  # frees the unique phone/Telegram id before keep takes them
    keep = get_member(session, keep_id)
    for name, value in taken.items():
        setattr(keep, name, value)
    keep.updated_at = now
    session.flush()
    took = sorted(k for k in taken if k != "unreachable_since")
    audit.record(session, at=now, action="member.merge", object_type="member", object_id=keep_id,
                 before={"merged_member_id": other_id, **{k: v for k, v in other_fields.items()
                                                            if k in ("name", "status")}},
                 after={"moved": moved, "took": ["password" if k == "password_hash" else k for k in took],
                        "via": via},
                 reason=reason, **audit_actor(actor))
    audit.record(session, at=now, action="member.merged_into", object_type="member", object_id=other_id,
                 # No personal fields here: forgetting ``keep`` later scrubs only keep's own events.
                 before={"status": other_fields["status"]}, after={"merged_into": keep_id, "via": via},
                 reason=reason, **audit_actor(actor))
    return keep
