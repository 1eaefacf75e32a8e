"""Reconciling ``unknown`` deliveries.

Facebook: every rendered post carries the item's receipt number, so the page's published posts
tell whether the post exists: found → ``sent`` with its id; surely absent → ``pending`` (sent
again); the platform cannot tell → stays ``unknown``. A grace period after the attempt lets the
post become visible first.

Telegram has no history API for bots, but message ids in a chat are sequential: the probe
(publishers/telegram_probe.py) forwards the ids after the last post the hub knows in that chat
into the hub's probe chat and reads the receipt marker. Found → ``sent`` with its ids; nothing
past the end → ``pending`` (a post refused midway resumes at its first unknown part); anything
else stays with a person (``deliveries resolve``, the bot's buttons), who was told when the
delivery became unknown.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobs.dispatch import PublisherSource
from network_hub import audit
from network_hub.db.models import Delivery, NewsItem, Outlet
from network_hub.hub import Hub
from network_hub.outbox.rollup import roll_up_item
from network_hub.states import DeliveryState, OutletStatus, Platform
from publishers.base import ErrorClass, OutletTarget, PublishError
from publishers.registry import target_for
from publishers.render import marker

log = logging.getLogger(__name__)
GRACE = timedelta(minutes=2)
TELEGRAM_GRACE = timedelta(seconds=10)  # a bot's message exists once Telegram answered
LOOK_BACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Unknown:
    delivery_id: int
    fence: int
    item_id: int
    receipt_no: str
    started_at: datetime
    target: OutletTarget | None
    error: str | None
    platform: str = Platform.FACEBOOK.value
    known_ids: tuple[str, ...] = ()  # parts of this post already known posted
    after_id: int | None = None  # Telegram: the last message id the hub knows before this post
    before_id: int | None = None  # Telegram: the first message id the hub knows after it


def _unknown_facebook(session: Session, now: datetime) -> list[Unknown]:
    rows = session.execute(
        select(Delivery, NewsItem.receipt_no, Outlet)
        .join(NewsItem, NewsItem.id == Delivery.item_id)
        .join(Outlet, Outlet.id == Delivery.outlet_id)
        .where(Delivery.state == DeliveryState.UNKNOWN, Outlet.platform == Platform.FACEBOOK,
               Outlet.status == OutletStatus.ACTIVE,
               Delivery.updated_at <= now - GRACE)
        .order_by(Delivery.id)
        .limit(100)
    ).all()
    out = []
    for delivery, receipt, outlet in rows:
        try:
            target, error = target_for(outlet), None
        except PublishError as exc:
            target, error = None, exc.message
        out.append(Unknown(delivery.id, delivery.fence, delivery.item_id, receipt,
                           delivery.sending_started_at or delivery.updated_at, target, error))
    return out


def _numeric(ids: list[str] | None) -> list[int]:
    return [int(i) for i in ids or [] if str(i).lstrip("-").isdigit()]


def _unknown_telegram(session: Session, now: datetime) -> list[Unknown]:
    """Unknown Telegram deliveries, each with the ids that bound where its post can be."""
    rows = session.execute(
        select(Delivery, NewsItem.receipt_no, Outlet)
        .join(NewsItem, NewsItem.id == Delivery.item_id)
        .join(Outlet, Outlet.id == Delivery.outlet_id)
        .where(Delivery.state == DeliveryState.UNKNOWN, Outlet.platform == Platform.TELEGRAM,
               Outlet.status == OutletStatus.ACTIVE, Delivery.updated_at <= now - TELEGRAM_GRACE)
        .order_by(Delivery.id)
        .limit(100)
    ).all()
    out = []
    for delivery, receipt, outlet in rows:
        started = delivery.sending_started_at or delivery.updated_at
        own = _numeric(delivery.external_ids)
        others = session.execute(
            select(Delivery.external_ids, Delivery.sending_started_at)
            .where(Delivery.outlet_id == outlet.id, Delivery.id != delivery.id,
                   Delivery.state.in_((DeliveryState.SENT, DeliveryState.UNKNOWN)),
                   Delivery.sending_started_at.is_not(None))
        ).all()
        before = [i for ids, at in others if at < started for i in _numeric(ids)]
        after = [i for ids, at in others if at > started for i in _numeric(ids)]
        after_id = max(own) if own else (max(before) if before else None)
        out.append(Unknown(delivery.id, delivery.fence, delivery.item_id, receipt, started,
                           target_for(outlet), None, Platform.TELEGRAM.value, tuple(map(str, own)),
                           after_id, min(after) if after else None))
    return out


def _settle(session: Session, u: Unknown, *, found_ids: list[str] | None, permalink: str | None,
            now: datetime) -> bool:
    """Fenced: two reconcilers on two processes settle a delivery once."""
    values: dict[str, object] = {"fence": Delivery.fence + 1, "updated_at": now}
    if found_ids is not None:
        values.update(state=DeliveryState.SENT, external_ids=found_ids, permalink=permalink, sent_at=now,
                      last_error=None)
    else:
        values.update(state=DeliveryState.PENDING, due_at=now, not_before=None,
                      last_error="reconciled: the post was not on the page; sending again")
    result = session.execute(
        update(Delivery).where(Delivery.id == u.delivery_id, Delivery.fence == u.fence,
                               Delivery.state == DeliveryState.UNKNOWN).values(**values))
    if result.rowcount != 1:
        return False
    audit.record(session, at=now, action="delivery.reconciled_found" if found_ids is not None
                 else "delivery.reconciled_absent", object_type="delivery", object_id=u.delivery_id,
                 after={"external_ids": found_ids})
    roll_up_item(session, u.item_id, now)
    return True


async def reconcile_unknown(hub: Hub, publishers: PublisherSource) -> dict[str, int]:
    now = hub.clock.now()

    def load() -> list[Unknown]:
        with hub.transaction() as s:
            return _unknown_facebook(s, now) + _unknown_telegram(s, now)

    counts = {"found": 0, "absent": 0, "undecided": 0}
    for u in await asyncio.to_thread(load):
        if u.target is None:
            counts["undecided"] += 1
            continue
        try:
            found = await _look(publishers, u)
        except PublishError as exc:
            log.info("delivery %s: cannot reconcile yet: %s", u.delivery_id, exc)
            counts["undecided"] += 1
            continue

        def settle(u: Unknown = u, found: object = found) -> bool:
            with hub.transaction() as s:
                ids = found.external_ids if found is not None else None  # type: ignore[attr-defined]
                if ids is not None and u.known_ids:
                    ids = [*u.known_ids, *(i for i in ids if i not in u.known_ids)]
                link = found.permalink if found is not None else None  # type: ignore[attr-defined]
                return _settle(s, u, found_ids=ids, permalink=link, now=hub.clock.now())

        if await asyncio.to_thread(settle):
            counts["found" if found is not None else "absent"] += 1
    return counts


async def _look(publishers: PublisherSource, u: Unknown) -> object:
    """Found (a PublishResult), None (surely absent), or PublishError (cannot tell)."""
    publisher = publishers.get(u.platform)
    if u.platform != Platform.TELEGRAM:
        return await publisher.find_post(u.target, u.started_at - LOOK_BACK, u.receipt_no)  # type: ignore[arg-type]
    probe = getattr(publisher, "probe_post", None)
    if probe is None or u.after_id is None:
        raise PublishError(ErrorClass.AMBIGUOUS, "no earlier post of the hub in this chat to count message ids "
                           "from (or no probe): a person must look", code="probe_no_anchor")
    return await probe(u.target, marker(u.receipt_no), after_id=u.after_id, before_id=u.before_id)
