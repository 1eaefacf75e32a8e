"""Sliding-window rate limits shared by every hub process: the send ledger.

A platform limit is a ``Window``: at most ``limit`` messages in any ``seconds`` for one scope (a
Telegram chat: 20 a minute; the Telegram bot: 30 a second). The claim transaction reads the
scope's recent rows of ``send_ledger``, decides whether the post's exact cost (its post plan,
``publishers/plan.py``) still fits, and if so charges it there *before* anything is sent; a post
that does not fit is not claimed, and its outlet waits until the moment the oldest charge leaves
the window. Because every process charges the same table inside its claim transaction (the chat
is guarded by the outlet's row lock, the shared bot scope by an advisory lock on PostgreSQL and
by the single writer on SQLite), the limits hold across processes, not per process.

A row is ``open`` while its post is in flight and counts whatever its age (up to a lease); the
outcome closes it, re-stamping ``at`` with the moment the last message went out (and, for a post
refused midway, the messages that really went out), so the window is measured from the platform's
side, never from the claim. ``slack`` widens each window a little for the clock between the
platform receiving a message and the hub stamping it.

Limits are pluggable per platform: ``LIMITS[platform](limits, address)`` returns the windows of
an outlet; a platform without an entry has no ledger limits (its outlet's ``min_interval_s``
pacing still applies).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.orm import Session

from network_hub.db.models import SendLedger
from network_hub.db.types import UTCDateTime
from network_hub.outbox.driver_sql import Db, DriverStatement, connection_of
from network_hub.states import Platform

L = SendLedger.__table__
TELEGRAM_BOT_SCOPE = "telegram:bot"


@dataclass(frozen=True)
class RateLimits:
    """The configured limits (from settings); 0 turns a limit off."""

    telegram_chat_per_window: int = 20
    telegram_chat_window_s: float = 60.0
    telegram_bot_per_second: float = 30.0
    slack_s: float = 0.5

    @classmethod
    def from_settings(cls, settings: Any) -> RateLimits:
        return cls(
            telegram_chat_per_window=settings.telegram_chat_per_window,
            telegram_chat_window_s=settings.telegram_chat_window_s,
            telegram_bot_per_second=settings.telegram_bot_per_second,
            slack_s=settings.rate_window_slack_s,
        )


@dataclass(frozen=True)
class Window:
    scope: str
    limit: int  # messages
    seconds: float
    slack: float = 0.0
    shared: bool = False  # several outlets charge it (the bot): guarded by its own lock

    @property
    def span(self) -> timedelta:
        return timedelta(seconds=self.seconds + self.slack)


def _telegram(limits: RateLimits, address: str) -> list[Window]:
    windows = []
    if limits.telegram_chat_per_window > 0:
        windows.append(Window(f"telegram:chat:{address.strip()}", limits.telegram_chat_per_window,
                              limits.telegram_chat_window_s, limits.slack_s))
    if limits.telegram_bot_per_second > 0:
        # The bot's window is one second; its slack is scaled down with it (a half-second slack on
        # a one-second window would cost a third of the bot's rate).
        windows.append(Window(TELEGRAM_BOT_SCOPE, max(1, int(limits.telegram_bot_per_second)), 1.0,
                              min(limits.slack_s, 0.05), shared=True))
    return windows


LIMITS: dict[str, Callable[[RateLimits, str], list[Window]]] = {Platform.TELEGRAM.value: _telegram}


def windows_for(limits: RateLimits | None, platform: str, address: str) -> list[Window]:
    if limits is None:
        return []
    make = LIMITS.get(platform)
    return make(limits, address) if make else []


@dataclass
class Entry:
    at: datetime
    messages: int
    open: bool


@dataclass
class ScopeState:
    """A scope's rows as the claim sees them, plus what this claim charges."""

    entries: list[Entry] = field(default_factory=list)

    def room_at(self, window: Window, cost: int, now: datetime) -> datetime | None:
        """The earliest moment ≥ now at which ``cost`` more messages fit; None when only the end
        of a post in flight can make room (its outcome wakes the dispatcher)."""
        cost = min(cost, window.limit)  # a post larger than the window goes alone into an empty one
        cutoff = now - window.span
        open_used = sum(e.messages for e in self.entries if e.open)
        closed = sorted((e for e in self.entries if not e.open and e.at > cutoff), key=lambda e: e.at)
        excess = open_used + sum(e.messages for e in closed) + cost - window.limit
        if excess <= 0:
            return now
        for entry in closed:
            excess -= entry.messages
            if excess <= 0:
                return entry.at + window.span
        return None

    def charge(self, at: datetime, messages: int) -> None:
        self.entries.append(Entry(at, messages, True))


def lock_shared(session: Db, windows: Iterable[Window]) -> None:
    """PostgreSQL: serialize claims charging a shared scope (taken in sorted order: no deadlock).
    SQLite: the claim's ``BEGIN IMMEDIATE`` already holds the only write lock."""
    if connection_of(session).dialect.name != "postgresql":
        return
    for scope in sorted({w.scope for w in windows if w.shared}):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                        {"k": zlib.crc32(f"send_ledger:{scope}".encode())})


def load(session: Db, windows: Iterable[Window], now: datetime, lease: timedelta) -> dict[str, ScopeState]:
    """The rows that can still count, for every scope of ``windows``, in one query."""
    by_scope: dict[str, Window] = {}
    for w in windows:
        if w.scope not in by_scope or w.span > by_scope[w.scope].span:
            by_scope[w.scope] = w
    states = {scope: ScopeState() for scope in by_scope}
    if not by_scope:
        return states
    longest = max(w.span for w in by_scope.values())
    rows = session.execute(
        select(L.c.scope, L.c.at, L.c.messages, L.c.open)
        .where(L.c.scope.in_(list(by_scope)),
               or_(L.c.at > now - longest, and_(L.c.open.is_(True), L.c.at > now - lease)))
    ).all()
    for row in rows:
        states[row.scope].entries.append(Entry(row.at, row.messages, bool(row.open)))
    return states


_WHERE_CHARGE = and_(L.c.delivery_id == bindparam("c_d"), L.c.fence == bindparam("c_f"))
_CLOSE = DriverStatement(update(L).where(_WHERE_CHARGE).values(at=bindparam("c_at", type_=UTCDateTime()), open=False))
_CLOSE_ADJUSTED = DriverStatement(update(L).where(_WHERE_CHARGE).values(
    at=bindparam("c_at", type_=UTCDateTime()), open=False, messages=bindparam("c_m")))


def charge_rows(session: Db, rows: list[dict[str, Any]]) -> None:
    """Insert the charges of a claim: dicts with scope, at, messages, delivery_id, fence."""
    if rows:
        session.execute(insert(L), [{**r, "open": True} for r in rows])


def close(session: Db, closing: list[tuple[int, int, datetime, int | None]]) -> None:
    """The outcomes of sends: (delivery_id, fence, when the last message went out, messages that
    really went out or None to keep the charge). Closed rows count for one window from then."""
    if not closing:
        return
    keep = [{"c_d": d, "c_f": f, "c_at": at} for d, f, at, m in closing if m is None]
    adjust = [{"c_d": d, "c_f": f, "c_at": at, "c_m": m} for d, f, at, m in closing if m is not None]
    conn = connection_of(session)
    if keep:
        _CLOSE.executemany(conn, keep)
    if adjust:
        _CLOSE_ADJUSTED.executemany(conn, adjust)


def drop(session: Db, charges: list[tuple[int, int]]) -> None:
    """Remove the charges of claims handed back unsent: (delivery_id, fence) pairs."""
    if charges:
        connection_of(session).execute(
            delete(L).where(L.c.delivery_id == bindparam("c_d"), L.c.fence == bindparam("c_f")),
            [{"c_d": d, "c_f": f} for d, f in charges])


def prune(session: Session, now: datetime, *, keep: timedelta) -> int:
    """Drop rows no window can count any more (closed, or open past any lease)."""
    return session.execute(delete(L).where(L.c.at < now - keep)).rowcount


def recent_messages(session: Session, scope: str, now: datetime, seconds: float) -> int:
    """Messages charged to ``scope`` in the last ``seconds`` (status pages, tests)."""
    rows = session.execute(select(L.c.messages).where(L.c.scope == scope,
                                                      L.c.at > now - timedelta(seconds=seconds))).scalars()
    return sum(rows)


def charge_unclaimed(session: Session, windows: list[Window], costs: dict[str, int], now: datetime, *,
                     lease: timedelta, delivery_id: int, fence: int) -> datetime:
    """Charge calls made outside a delivery's claim (the Telegram probe's forwards and deletes):
    ``costs[scope]`` messages to each window, all or nothing. Returns ``now`` when charged — the
    rows are open and the caller closes them with ``close([(delivery_id, fence, done_at, None)])``
    once the calls went out — otherwise the earliest moment they could fit, nothing charged (a
    window only an in-flight post can free answers ``now`` + its span). ``fence`` is negative for
    such charges, so they never meet a claim's (delivery_id, fence). Windows of a scope several
    processes may charge outside an outlet's row lock must be ``shared`` (locked here)."""
    charged = [w for w in windows if costs.get(w.scope, 0) > 0]
    lock_shared(session, charged)
    states = load(session, charged, now, lease)
    later = now
    for w in charged:
        at = states[w.scope].room_at(w, costs[w.scope], now)
        later = max(later, at if at is not None else now + w.span)
    if later > now:
        return later
    charge_rows(session, [{"scope": w.scope, "at": now, "messages": costs[w.scope], "delivery_id": delivery_id,
                           "fence": fence} for w in charged])
    return now
