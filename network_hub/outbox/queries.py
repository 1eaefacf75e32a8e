"""The delivery engine's SQL: claiming with leases, fences and rate-limit windows, fenced moves.

Claiming happens in one short transaction:
1. lock the eligible outlets (active, not blocked, pacing allows) — PostgreSQL
   ``FOR UPDATE SKIP LOCKED`` so several processes split the outlets between them; on SQLite the
   whole transaction holds the single writer lock (``BEGIN IMMEDIATE``);
2. pick each outlet's due deliveries (one for an outlet with limits or pacing);
3. price them with the post plan (``cost``: ``plan.messages_from(parts_done)``) and fit them into
   the send ledger's windows (``ledger``: 20 a minute per Telegram chat, 30 a second per bot),
   charging what fits; an outlet whose next post does not fit waits until its window has room;
4. lease what fits (fence bumped) and advance pacing (``min_interval_s`` × the exact cost).
No lock is held after commit; every later write is ``WHERE id = :id AND fence = :fence AND
state = :expected`` and checked against the state machine (``lifecycle``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from network_hub.db.models import Delivery, NewsItem, Outlet, Photo
from network_hub.db.types import UTCDateTime
from network_hub.outbox import leasing, ledger, lifecycle
from network_hub.outbox.driver_sql import Db, DriverStatement, connection_of
from network_hub.states import DeliveryState, ErrorClass, FollowupState, ItemStatus, OutletStatus

D = Delivery.__table__
O = Outlet.__table__  # noqa: E741 - table aliases kept short in SQL-heavy code
I = NewsItem.__table__  # noqa: E741

CLAIMABLE_STATES = (DeliveryState.PENDING.value, DeliveryState.RETRY_WAIT.value)
POSTABLE_ITEM_STATES = (
    ItemStatus.APPROVED.value,
    ItemStatus.SCHEDULED.value,
    ItemStatus.PUBLISHING.value,
    ItemStatus.PUBLISHED.value,
    ItemStatus.PARTIALLY_PUBLISHED.value,
    ItemStatus.FAILED.value,
)
TELEGRAM_BOT_PER_SECOND = 30.0
PACING_NAMESPACE = "pacing"
TELEGRAM_BOT_KEY = "telegram-bot"


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    fence: int
    outlet_id: int
    item_id: int
    charged: bool = False  # the claim charged the send ledger (its outcome must close the charge)


def _due_deliveries(now: datetime) -> Any:
    return and_(
        D.c.state.in_(CLAIMABLE_STATES),
        D.c.due_at <= now,
        or_(D.c.not_before.is_(None), D.c.not_before <= now),
        I.c.status.in_(POSTABLE_ITEM_STATES),  # callers join news_items as I
    )


def _eligible_outlets(now: datetime) -> Any:
    return and_(
        O.c.status == OutletStatus.ACTIVE.value,
        or_(O.c.blocked_until.is_(None), O.c.blocked_until <= now),
        or_(O.c.next_allowed_at.is_(None), O.c.next_allowed_at <= now),
    )


def message_cost(photo_count: int) -> int:
    """The old estimate of a post's cost (an album of N photos counts N), used only when no post
    plan is available (a publisher without ``plan()``)."""
    return max(1, photo_count)


@dataclass(frozen=True)
class Candidate:
    """A due delivery the claim would like to lease; its cost comes from the post plan."""

    delivery_id: int
    item_id: int
    outlet_id: int
    platform: str
    address: str
    parts_done: int


# Messages each candidate costs against its chat's limits (``PostPlan.messages_from(parts_done)``).
CostFn = Callable[[Session, list[Candidate]], dict[int, int]]


def photo_cost(session: Session, candidates: list[Candidate]) -> dict[int, int]:
    """The fallback cost function: one message, or one per photo."""
    counts = _photo_counts(session, [c.item_id for c in candidates])
    return {c.delivery_id: message_cost(counts.get(c.item_id, 0)) for c in candidates}


_NOW = bindparam("c_now", type_=UTCDateTime())
# The claim's statements, built once and run on the driver's cursor (``driver_sql``). ``FOR UPDATE
# … SKIP LOCKED`` is PostgreSQL's (several processes split the outlets and rows between them); the
# SQLite compiler leaves it out, and there the claim's ``BEGIN IMMEDIATE`` holds the only write lock.
_CLAIM_OUTLETS = DriverStatement(
    select(O.c.id, O.c.platform, O.c.address, O.c.min_interval_s, O.c.next_allowed_at)
    .where(_eligible_outlets(_NOW),
           select(D.c.id).select_from(D.join(I, I.c.id == D.c.item_id))
           .where(D.c.outlet_id == O.c.id, _due_deliveries(_NOW)).exists())
    .order_by(func.coalesce(O.c.next_allowed_at, O.c.created_at), O.c.id)
    .limit(bindparam("c_limit"))
    .with_for_update(skip_locked=True, of=O)
)
_CLAIM_PICK = DriverStatement(
    select(D.c.id, D.c.item_id, D.c.parts_done)
    .select_from(D.join(I, I.c.id == D.c.item_id))
    .where(D.c.outlet_id == bindparam("c_outlet"), _due_deliveries(_NOW))
    # a post refused midway first: half of it is already in front of residents
    .order_by(D.c.parts_done.desc(), D.c.due_at, D.c.id)
    .limit(bindparam("c_limit"))
    .with_for_update(skip_locked=True, of=D)
)
_CLAIM_LEASE = DriverStatement(
    update(D)
    .where(D.c.id.in_(bindparam("c_ids", expanding=True)), D.c.state.in_(CLAIMABLE_STATES))
    .values(state=DeliveryState.CLAIMED.value, lease_owner=bindparam("c_owner"),
            lease_until=bindparam("c_until", type_=UTCDateTime()), fence=D.c.fence + 1, updated_at=_NOW)
    .returning(D.c.id, D.c.fence, D.c.outlet_id, D.c.item_id)
)


class Claims(list[Claim]):
    """The claims of one call, and when a deferred outlet may have room again (None: unknown)."""

    retry_at: datetime | None = None


def claim_due(session: Db, *, owner: str, now: datetime, lease: timedelta, limit: int,
              bot_per_second: float = TELEGRAM_BOT_PER_SECOND, limits: ledger.RateLimits | None = None,
              cost: CostFn | None = None) -> Claims:
    """Lease up to ``limit`` due deliveries. Call inside a transaction; commit before any HTTP call.

    An outlet with rate-limit windows (``ledger.windows_for``) or pacing gets one delivery per
    claim; its exact cost is charged to the send ledger and the outlet's ``next_allowed_at``
    advances by ``min_interval_s`` × that cost. A delivery whose cost does not fit a window is left
    pending and its outlet waits until the moment the window has room.
    """
    if limits is None:
        limits = ledger.RateLimits(telegram_bot_per_second=bot_per_second)
    cost = cost or photo_cost
    conn = connection_of(session)
    outlets = _CLAIM_OUTLETS.rows(conn, {"c_now": now, "c_limit": limit})
    claims = Claims()
    if not outlets:
        return claims

    # 1. pick: one delivery for a limited or paced outlet, as many as there is room for otherwise
    windows = {o.id: ledger.windows_for(limits, o.platform, o.address) for o in outlets}
    picked: list[tuple[Any, list[Candidate]]] = []
    room = limit
    # A fair share per outlet, so a claim of many rows (claim ahead) does not drain one outlet first.
    share = -(-limit // len(outlets))
    for outlet in outlets:
        if room <= 0:
            break
        single = bool(windows[outlet.id]) or (outlet.min_interval_s or 0) > 0
        rows = _CLAIM_PICK.rows(conn, {"c_outlet": outlet.id, "c_now": now,
                                       "c_limit": 1 if single else min(room, share)})
        if rows:
            picked.append((outlet, [Candidate(r.id, r.item_id, outlet.id, outlet.platform, outlet.address,
                                              r.parts_done or 0) for r in rows]))
            room -= len(rows)
    if not picked:
        return claims

    # 2. cost: only where something is limited or paced (the hot path of unpaced outlets skips it)
    to_cost = [c for outlet, cands in picked if windows[outlet.id] or (outlet.min_interval_s or 0) > 0
               for c in cands]
    costs = cost(session, to_cost) if to_cost else {}

    # 3. fit each limited outlet's next post into its windows, charging as we go
    all_windows = [w for ws in windows.values() for w in ws]
    ledger.lock_shared(session, all_windows)
    scopes = ledger.load(session, all_windows, now, lease)
    chosen: list[int] = []
    charged: dict[int, tuple[int, list[ledger.Window]]] = {}
    pacing: list[dict[str, Any]] = []
    for outlet, cands in picked:
        ws = windows[outlet.id]
        if not ws:
            if (outlet.min_interval_s or 0) > 0:
                total = sum(max(1, costs.get(c.delivery_id, 1)) for c in cands)
                start = max(now, outlet.next_allowed_at or now)
                pacing.append({"p_id": outlet.id, "p_at": start + timedelta(seconds=outlet.min_interval_s * total)})
            chosen.extend(c.delivery_id for c in cands)
            continue
        cand = cands[0]
        messages = max(1, costs.get(cand.delivery_id, 1))
        rooms = [scopes[w.scope].room_at(w, messages, now) for w in ws]
        if all(r is not None and r <= now for r in rooms):
            for w in ws:
                scopes[w.scope].charge(now, messages)
            chosen.append(cand.delivery_id)
            charged[cand.delivery_id] = (messages, ws)
            if (outlet.min_interval_s or 0) > 0:
                start = max(now, outlet.next_allowed_at or now)
                pacing.append({"p_id": outlet.id,
                               "p_at": start + timedelta(seconds=outlet.min_interval_s * messages)})
            continue
        # No room: the outlet waits until the window has room (or until a send in flight ends).
        known = [r for r in rooms if r is not None]
        wait_until = max(known) if len(known) == len(rooms) else now + timedelta(seconds=1)
        pacing.append({"p_id": outlet.id, "p_at": max(wait_until, outlet.next_allowed_at or now)})
        claims.retry_at = wait_until if claims.retry_at is None else min(claims.retry_at, wait_until)

    # 4. lease what fits, charge the ledger, advance pacing
    if chosen:
        for source in CLAIMABLE_STATES:
            lifecycle.check(source, DeliveryState.CLAIMED)
        rows = _CLAIM_LEASE.rows(conn, {"c_ids": chosen, "c_owner": owner, "c_until": now + lease, "c_now": now})
        claims.extend(Claim(r.id, r.fence, r.outlet_id, r.item_id, r.id in charged) for r in rows)
        ledger.charge_rows(session, [
            {"scope": w.scope, "at": now, "messages": charged[r.id][0], "delivery_id": r.id, "fence": r.fence}
            for r in rows if r.id in charged for w in charged[r.id][1]
        ])
    if pacing:
        conn.execute(
            update(O).where(O.c.id == bindparam("p_id")).values(next_allowed_at=bindparam("p_at")), pacing)
    return claims


def _photo_counts(session: Session, item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    rows = session.execute(
        select(Photo.item_id, func.count()).where(Photo.item_id.in_(item_ids)).group_by(Photo.item_id)
    ).all()
    return {item_id: count for item_id, count in rows}


def fenced(delivery_id: int, fence: int, *states: str) -> Any:
    """The WHERE clause of every transition after a claim."""
    return and_(D.c.id == delivery_id, D.c.fence == fence, D.c.state.in_(states))


def transition(session: Session, delivery_id: int, fence: int, expected: tuple[str, ...],
               **values: Any) -> bool:
    """Move a delivery if it is still ours in an expected state; False when the lease was lost.

    Every move is checked against the state machine (``lifecycle.check``) before it is written."""
    if "state" in values:
        for source in expected:
            lifecycle.check(source, values["state"])
    result = session.execute(update(D).where(fenced(delivery_id, fence, *expected)).values(**values))
    return result.rowcount == 1


def expire_leases(session: Session, now: datetime) -> tuple[list[int], list[int]]:
    """The lease sweep: claimed → pending (nothing was sent); sending → unknown (it may have been)."""
    lifecycle.check(DeliveryState.CLAIMED, DeliveryState.PENDING)
    lifecycle.check(DeliveryState.SENDING, DeliveryState.UNKNOWN)
    released = session.execute(
        update(D)
        .where(D.c.state == DeliveryState.CLAIMED.value, D.c.lease_until < now)
        .values(state=DeliveryState.PENDING.value, lease_owner=None, lease_until=None, updated_at=now)
        .returning(D.c.id)
    ).scalars().all()
    unknown = session.execute(
        update(D)
        .where(D.c.state == DeliveryState.SENDING.value, D.c.lease_until < now)
        .values(
            state=DeliveryState.UNKNOWN.value,
            lease_owner=None,
            lease_until=None,
            last_error="the worker stopped while sending (lease expired); the post may or may not exist",
            last_error_class=ErrorClass.AMBIGUOUS.value,
            updated_at=now,
        )
        .returning(D.c.id)
    ).scalars().all()
    return list(released), list(unknown)


def release_owned(session: Session, owner: str, now: datetime) -> int:
    """On clean shutdown: hand back deliveries this process claimed but never started sending."""
    result = session.execute(
        update(D)
        .where(D.c.state == DeliveryState.CLAIMED.value, D.c.lease_owner == owner)
        .values(state=DeliveryState.PENDING.value, lease_owner=None, lease_until=None, updated_at=now)
    )
    return result.rowcount


def release_claims(session: Db, claims: list[Claim], now: datetime) -> int:
    """Hand back claims that will not be started (claimed ahead, then the pass ended or an outlet
    was blocked): claimed → pending, fenced, and their send-ledger charges dropped (nothing was
    sent). A claim whose lease was lost meanwhile is left as it is."""
    if not claims:
        return 0
    lifecycle.check(DeliveryState.CLAIMED, DeliveryState.PENDING)
    keys = [(c.delivery_id, c.fence) for c in claims]
    released = session.execute(
        update(D)
        .where(tuple_(D.c.id, D.c.fence).in_(keys), D.c.state == DeliveryState.CLAIMED.value)
        .values(state=DeliveryState.PENDING.value, lease_owner=None, lease_until=None, updated_at=now)
        .returning(D.c.id)
    ).scalars().all()
    ledger.drop(session, [(c.delivery_id, c.fence) for c in claims if c.charged and c.delivery_id in set(released)])
    return len(released)


def claim_followups(session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    """Lease corrections/withdrawals of sent deliveries (followup_state pending, or a stale lease)."""
    rows = leasing.lease(
        session, D, join=D.join(O, O.c.id == D.c.outlet_id),
        eligible=and_(
            D.c.state == DeliveryState.SENT.value,
            O.c.status == OutletStatus.ACTIVE.value,
            or_(O.c.blocked_until.is_(None), O.c.blocked_until <= now),
            or_(
                and_(D.c.followup_state == FollowupState.PENDING.value,
                     or_(D.c.lease_until.is_(None), D.c.lease_until <= now)),
                and_(D.c.followup_state == FollowupState.CLAIMED.value, D.c.lease_until < now),
            ),
        ),
        order_by=[D.c.id], limit=limit, owner=owner, now=now, ttl=lease, bump_fence=True,
        values={"followup_state": FollowupState.CLAIMED.value, "updated_at": now},
        returning=[D.c.id, D.c.fence, D.c.outlet_id, D.c.item_id],
    )
    return [Claim(r.id, r.fence, r.outlet_id, r.item_id) for r in rows]


def next_wakeup(session: Session, now: datetime) -> datetime | None:
    """The earliest moment pending work may become claimable (pacing, blocks, backoff, schedules),
    so the dispatcher sleeps exactly until then instead of rounding to its tick. ``now`` when some
    is claimable already: a pass left it because another process's claim held its rows (``SKIP
    LOCKED``) — anything else a claim would have taken or deferred (pacing moves into the future)."""
    waiting = and_(D.c.state.in_(CLAIMABLE_STATES), I.c.status.in_(POSTABLE_ITEM_STATES),
                   O.c.status == OutletStatus.ACTIVE.value)
    rows = session.execute(
        select(D.c.due_at, D.c.not_before, O.c.next_allowed_at, O.c.blocked_until)
        .select_from(D.join(I, I.c.id == D.c.item_id).join(O, O.c.id == D.c.outlet_id))
        .where(waiting)
        .order_by(D.c.due_at)
        .limit(200)
    ).all()
    times = [max(t for t in row if t is not None) for row in rows]
    return max(min(times), now) if times else None
