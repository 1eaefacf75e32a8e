"""The one lease/claim primitive of the hub's queues (deliveries' follow-ups, DM notifications;
the delivery claim itself adds rate-limit windows on top of the same steps).

A claim is one short transaction: select the eligible rows in order, ``FOR UPDATE SKIP LOCKED``
on PostgreSQL so several processes split them (SQLite: ``BEGIN IMMEDIATE`` holds the only write
lock), then stamp the lease — owner, until, and the fence bumped when the table has one, so a
worker that lost its lease can change nothing afterwards. Commit before any network call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, select, update
from sqlalchemy.orm import Session


def lease(session: Session, table: Table, *, eligible: ColumnElement[bool], order_by: Sequence[Any],
          limit: int, owner: str, now: datetime, ttl: timedelta, values: dict[str, Any] | None = None,
          bump_fence: bool = False, returning: Sequence[Any] = (), join: Any = None) -> list[Any]:
    """Lease up to ``limit`` rows of ``table`` matching ``eligible``; returns the ``returning``
    columns (default: the ids) of the rows leased."""
    pk = table.c.id
    pick = select(pk).select_from(join if join is not None else table).where(eligible).order_by(*order_by)
    pick = pick.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True, of=table)
    ids = list(session.execute(pick).scalars())
    if not ids:
        return []
    stamp: dict[str, Any] = {"lease_owner": owner, "lease_until": now + ttl, **(values or {})}
    if bump_fence:
        stamp["fence"] = table.c.fence + 1
    cols = list(returning) or [pk]
    rows = session.execute(update(table).where(pk.in_(ids)).values(**stamp).returning(*cols)).all()
    return rows if returning else [r[0] for r in rows]
