"""All SQL of the delivery engine: claiming with leases and fences, and fenced transitions.

Claiming happens per outlet in one short transaction:
1. lock the eligible outlets (active, not blocked, pacing allows) — PostgreSQL
   ``FOR UPDATE SKIP LOCKED`` so several processes split the outlets between them; on SQLite the
   whole transaction holds the single writer lock (``BEGIN IMMEDIATE``);
2. for each, lease its due deliveries (one at a time for a paced outlet) by bumping the fence;
3. advance the outlet's ``next_allowed_at`` by its interval × the messages the post costs (an
   album of N photos counts as N), and the per-bot Telegram budget likewise.
No lock is held after commit; every later write is ``WHERE id = :id AND fence = :fence AND
state = :expected`` so a worker that lost its lease changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from network_hub.db.models import Delivery, KeyValue, NewsItem, Outlet, Photo
from network_hub.states import DeliveryState, ItemStatus, OutletStatus, Platform

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
    """Messages a post costs against per-chat limits: an album of N photos counts as N."""
    return max(1, photo_count)


def claim_due(session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int,
              bot_per_second: float = TELEGRAM_BOT_PER_SECOND) -> list[Claim]:
    """Lease up to ``limit`` due deliveries. Call inside a transaction; commit before any HTTP call."""
    postgres = session.get_bind().dialect.name == "postgresql"
    has_due = (
        select(D.c.id)
        .select_from(D.join(I, I.c.id == D.c.item_id))
        .where(D.c.outlet_id == O.c.id, _due_deliveries(now))
        .exists()
    )
    outlet_q = (
        select(O.c.id, O.c.platform, O.c.min_interval_s, O.c.next_allowed_at)
        .where(_eligible_outlets(now), has_due)
        .order_by(func.coalesce(O.c.next_allowed_at, O.c.created_at), O.c.id)
        .limit(limit)
    )
    if postgres:
        outlet_q = outlet_q.with_for_update(skip_locked=True, of=O)
    outlets = session.execute(outlet_q).all()
    if not outlets:
        return []

    bot_budget = _TelegramBotBudget(session, now, postgres, bot_per_second) if bot_per_second and any(
        o.platform == Platform.TELEGRAM for o in outlets) else None
    claims: list[Claim] = []
    for outlet in outlets:
        room = limit - len(claims)
        if room <= 0:
            break
        paced = (outlet.min_interval_s or 0) > 0
        pick = (
            select(D.c.id, D.c.item_id)
            .select_from(D.join(I, I.c.id == D.c.item_id))
            .where(D.c.outlet_id == outlet.id, _due_deliveries(now))
            .order_by(D.c.due_at, D.c.id)
            .limit(1 if paced else room)
        )
        if postgres:
            pick = pick.with_for_update(skip_locked=True, of=D)
        picked = session.execute(pick).all()
        if not picked:
            continue
        costs = _photo_counts(session, [p.item_id for p in picked])
        total_cost = sum(message_cost(costs.get(p.item_id, 0)) for p in picked)
        if outlet.platform == Platform.TELEGRAM and bot_budget is not None and not bot_budget.take(total_cost):
            continue
        rows = session.execute(
            update(D)
            .where(D.c.id.in_([p.id for p in picked]), D.c.state.in_(CLAIMABLE_STATES))
            .values(
                state=DeliveryState.CLAIMED.value,
                lease_owner=owner,
                lease_until=now + lease,
                fence=D.c.fence + 1,
                updated_at=now,
            )
            .returning(D.c.id, D.c.fence, D.c.outlet_id, D.c.item_id)
        ).all()
        claims.extend(Claim(r.id, r.fence, r.outlet_id, r.item_id) for r in rows)
        if paced and rows:
            start = max(now, outlet.next_allowed_at or now)
            session.execute(
                update(O)
                .where(O.c.id == outlet.id)
                .values(next_allowed_at=start + timedelta(seconds=outlet.min_interval_s * total_cost))
            )
    if bot_budget is not None:
        bot_budget.save()
    return claims


def _photo_counts(session: Session, item_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Photo.item_id, func.count()).where(Photo.item_id.in_(item_ids)).group_by(Photo.item_id)
    ).all()
    return {item_id: count for item_id, count in rows}


class _TelegramBotBudget:
    """The per-bot Telegram budget (about 30 messages a second), shared through the database."""

    def __init__(self, session: Session, now: datetime, postgres: bool, per_second: float) -> None:
        self.session, self.now, self.per_second = session, now, per_second
        q = select(KeyValue).where(KeyValue.namespace == PACING_NAMESPACE, KeyValue.key == TELEGRAM_BOT_KEY)
        if postgres:
            q = q.with_for_update()
        self.row = session.scalar(q)
        if self.row is None:
            self.row = KeyValue(namespace=PACING_NAMESPACE, key=TELEGRAM_BOT_KEY, value={}, updated_at=now)
            session.add(self.row)
        stored = self.row.value.get("next_allowed_at")
        self.next_at = max(now, datetime.fromisoformat(stored)) if stored else now

    def take(self, messages: int) -> bool:
        """Reserve ``messages`` sends; refuse when the bot is more than one second ahead."""
        if self.next_at - self.now > timedelta(seconds=1):
            return False
        self.next_at += timedelta(seconds=messages / self.per_second)
        return True

    def save(self) -> None:
        self.row.value = {"next_allowed_at": self.next_at.isoformat()}
        self.row.updated_at = self.now


def fenced(delivery_id: int, fence: int, *states: str) -> Any:
    """The WHERE clause of every transition after a claim."""
    return and_(D.c.id == delivery_id, D.c.fence == fence, D.c.state.in_(states))


def transition(session: Session, delivery_id: int, fence: int, expected: tuple[str, ...],
               **values: Any) -> bool:
    """Move a delivery if it is still ours in an expected state; False when the lease was lost."""
    result = session.execute(update(D).where(fenced(delivery_id, fence, *expected)).values(**values))
    return result.rowcount == 1


def expire_leases(session: Session, now: datetime) -> tuple[list[int], list[int]]:
    """The lease sweep: claimed → pending (nothing was sent); sending → unknown (it may have been)."""
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
            last_error_class="ambiguous",
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


def claim_followups(session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    """Lease corrections/withdrawals of sent deliveries (followup_state pending, or a stale lease)."""
    q = (
        select(D.c.id)
        .select_from(D.join(O, O.c.id == D.c.outlet_id))
        .where(
            D.c.state == DeliveryState.SENT.value,
            O.c.status == OutletStatus.ACTIVE.value,
            or_(O.c.blocked_until.is_(None), O.c.blocked_until <= now),
            or_(
                and_(D.c.followup_state == "pending", or_(D.c.lease_until.is_(None), D.c.lease_until <= now)),
                and_(D.c.followup_state == "claimed", D.c.lease_until < now),
            ),
        )
        .order_by(D.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True, of=D)
    ids = session.execute(q).scalars().all()
    if not ids:
        return []
    rows = session.execute(
        update(D)
        .where(D.c.id.in_(ids))
        .values(followup_state="claimed", lease_owner=owner, lease_until=now + lease,
                fence=D.c.fence + 1, updated_at=now)
        .returning(D.c.id, D.c.fence, D.c.outlet_id, D.c.item_id)
    ).all()
    return [Claim(r.id, r.fence, r.outlet_id, r.item_id) for r in rows]


def next_wakeup(session: Session, now: datetime) -> datetime | None:
    """The earliest moment pending work may become claimable (pacing, blocks, backoff, schedules),
    so the dispatcher sleeps exactly until then instead of rounding to its tick."""
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
    bot = session.scalar(select(KeyValue.value).where(KeyValue.namespace == PACING_NAMESPACE,
                                                      KeyValue.key == TELEGRAM_BOT_KEY))
    candidates = [t for t in times if t > now]
    if bot and bot.get("next_allowed_at") and times:
        bot_at = datetime.fromisoformat(bot["next_allowed_at"]) - timedelta(seconds=1)
        if bot_at > now:
            candidates.append(bot_at)
    return min(candidates) if candidates else None
