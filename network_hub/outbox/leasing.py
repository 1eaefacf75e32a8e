"""The one lease/claim primitive of the hub's queues: deliveries' follow-ups, DM notifications and
moderation cards (the delivery claim itself adds rate-limit windows on top of the same steps).

A claim is one short transaction: select the eligible rows in order, ``FOR UPDATE SKIP LOCKED``
on PostgreSQL so several processes split them (SQLite: ``BEGIN IMMEDIATE`` holds the only write
lock), then stamp the lease — owner, until, and the fence bumped when the table has one, so a
worker that lost its lease can change nothing afterwards. Commit before any network call.

Where a table keeps its lease is a ``LeaseColumns``: the queue tables (deliveries, notifications)
have ``id``, ``lease_owner``, ``lease_until`` and ``fence``. A table without an owner or fence
column (the ``kv_store`` rows of moderation cards, keyed by namespace and key, with only
``expires_at``) is leased with ``UNTIL_IS_FENCE``: a row is eligible only when its ``until`` is
empty or past, and the new ``until`` is ``now + ttl`` with ``ttl > 0``, so every lease of a row
stamps a strictly later ``until`` than any lease before it. That stamp is the lease's token:
every write under the lease is ``WHERE … AND until = :token`` (``held``), and a worker whose
lease was taken over matches nothing. The same column also holds a "not before" for retries
(River's ``scheduled_at``): a row whose ``until`` is in the future is either leased or waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, tuple_, update
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class LeaseColumns:
    """Where a table keeps its lease (column names)."""

    key: tuple[str, ...] = ("id",)
    until: str = "lease_until"
    owner: str | None = "lease_owner"
    fence: str | None = "fence"  # bumped when the caller asks (``bump_fence``)
    until_is_fence: bool = False  # no owner/fence column: the until stamp is the lease's token


QUEUE = LeaseColumns()
UNTIL_IS_FENCE = LeaseColumns(owner=None, fence=None, until_is_fence=True)


def free(table: Table, now: datetime, columns: LeaseColumns = QUEUE) -> ColumnElement[bool]:
    """Not leased (and not waiting): ``until`` empty or past."""
    until = table.c[columns.until]
    return or_(until.is_(None), until <= now)


def held(table: Table, token: datetime, columns: LeaseColumns) -> ColumnElement[bool]:
    """Still under the lease whose ``until`` stamp was ``token`` (``UNTIL_IS_FENCE`` tables)."""
    return table.c[columns.until] == token


def _key_in(key_cols: list[Any], keys: list[Any]) -> ColumnElement[bool]:
    if len(key_cols) == 1:
        return key_cols[0].in_(keys)
    return tuple_(*key_cols).in_([tuple(k) for k in keys])


def lease(session: Session, table: Table, *, eligible: ColumnElement[bool], order_by: Sequence[Any],
          limit: int, owner: str, now: datetime, ttl: timedelta, values: dict[str, Any] | None = None,
          bump_fence: bool = False, returning: Sequence[Any] = (), join: Any = None,
          columns: LeaseColumns = QUEUE) -> list[Any]:
    """Lease up to ``limit`` rows of ``table`` matching ``eligible``; returns the ``returning``
    columns (default: the key — the id for the queue tables, a key tuple for composite keys) of
    the rows leased. With ``UNTIL_IS_FENCE`` the rows must also be ``free`` (enforced here) and
    the token of the lease is ``now + ttl``."""
    if ttl <= timedelta(0):
        raise ValueError("a lease needs a positive ttl")
    key_cols = [table.c[name] for name in columns.key]
    if columns.until_is_fence:
        eligible = and_(eligible, free(table, now, columns))
    pick = select(*key_cols).select_from(join if join is not None else table).where(eligible).order_by(*order_by)
    pick = pick.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True, of=table)
    keys = [row[0] if len(key_cols) == 1 else tuple(row) for row in session.execute(pick).all()]
    if not keys:
        return []
    stamp: dict[str, Any] = {columns.until: now + ttl, **(values or {})}
    if columns.owner is not None:
        stamp[columns.owner] = owner
    if bump_fence:
        if columns.fence is None:
            raise ValueError(f"table {table.name} has no fence column to bump")
        stamp[columns.fence] = table.c[columns.fence] + 1
    cols = list(returning) or key_cols
    rows = session.execute(update(table).where(_key_in(key_cols, keys)).values(**stamp).returning(*cols)).all()
    if returning:
        return rows
    return [r[0] for r in rows] if len(key_cols) == 1 else [tuple(r) for r in rows]
