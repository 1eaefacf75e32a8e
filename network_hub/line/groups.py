"""LINE groups the hub's bots were invited into, recorded from ``join``/``leave`` webhook events.

A bot joins a group only when a person invites it; the ``join`` event carries the group id, so
admins pick a group from this list (``network-hub line groups``) instead of typing ids.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import LineGroup
from network_hub.errors import InvalidInput


def record_join(session: Session, *, bot_user_id: str, group_id: str, now: datetime, name: str = "",
                member_count: int | None = None) -> LineGroup:
    group = session.scalar(select(LineGroup).where(LineGroup.bot_user_id == bot_user_id,
                                                   LineGroup.group_id == group_id))
    if group is None:
        group = LineGroup(bot_user_id=bot_user_id, group_id=group_id, name=name[:200], member_count=member_count,
                          joined_at=now, updated_at=now)
        session.add(group)
    else:
        group.joined_at, group.left_at, group.updated_at = now, None, now
        if name:
            group.name = name[:200]
        if member_count is not None:
            group.member_count = member_count
    session.flush()
    audit.record(session, at=now, action="line.group_joined", object_type="line_group", object_id=group.id,
                 after={"group_id": group_id, "name": group.name})
    return group


def record_leave(session: Session, *, bot_user_id: str, group_id: str, now: datetime) -> LineGroup | None:
    group = session.scalar(select(LineGroup).where(LineGroup.bot_user_id == bot_user_id,
                                                   LineGroup.group_id == group_id))
    if group is None or group.left_at is not None:
        return group
    group.left_at, group.updated_at = now, now
    audit.record(session, at=now, action="line.group_left", object_type="line_group", object_id=group.id,
                 after={"group_id": group_id})
    return group


def adjust_size(session: Session, *, bot_user_id: str, group_id: str, change: int, now: datetime) -> None:
    """People joined (+) or left (−) a group the bot is in (LINE's memberJoined/memberLeft events)."""
    group = session.scalar(select(LineGroup).where(LineGroup.bot_user_id == bot_user_id,
                                                   LineGroup.group_id == group_id))
    if group is not None and group.member_count is not None:
        group.member_count, group.updated_at = max(0, group.member_count + change), now


def list_groups(session: Session, *, include_left: bool = False) -> list[LineGroup]:
    query = select(LineGroup).order_by(LineGroup.joined_at.desc(), LineGroup.id)
    if not include_left:
        query = query.where(LineGroup.left_at.is_(None))
    return list(session.scalars(query))


def require_joined(session: Session, group_id: str) -> LineGroup:
    """The group, if a hub bot is in it now; otherwise a clear error (nothing is written)."""
    group = session.scalar(select(LineGroup).where(LineGroup.group_id == group_id, LineGroup.left_at.is_(None)))
    if group is None:
        raise InvalidInput(
            f"no LINE bot of this hub is in group {group_id}: invite the bot into the group first "
            "(its join is recorded), then pick it from: network-hub line groups",
            "บอต LINE ยังไม่ได้อยู่ในกลุ่มนี้ เชิญบอตเข้ากลุ่มก่อน แล้วเลือกกลุ่มจาก network-hub line groups",
        )
    return group
