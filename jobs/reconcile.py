"""Reconciling ``unknown`` deliveries.

Facebook: every rendered post carries the item's receipt number, so the page's published posts
tell whether the post exists: found → ``sent`` with its id; surely absent → ``pending`` (sent
again); the platform cannot tell → stays ``unknown``. A grace period after the attempt lets the
post become visible first. Telegram has no history API for bots: its unknowns wait for a person
(``deliveries resolve``, the bot's buttons), who was told when the delivery became unknown.
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
from publishers.base import OutletTarget, PublishError
from publishers.registry import target_for

log = logging.getLogger(__name__)
GRACE = timedelta(minutes=2)
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
            return _unknown_facebook(s, now)

    counts = {"found": 0, "absent": 0, "undecided": 0}
    for u in await asyncio.to_thread(load):
        if u.target is None:
            counts["undecided"] += 1
            continue
        try:
            found = await publishers.get(Platform.FACEBOOK).find_post(u.target, u.started_at - LOOK_BACK,
                                                                      u.receipt_no)
        except PublishError as exc:
            log.info("delivery %s: cannot reconcile yet: %s", u.delivery_id, exc)
            counts["undecided"] += 1
            continue

        def settle(u: Unknown = u, found: object = found) -> bool:
            with hub.transaction() as s:
                ids = found.external_ids if found is not None else None  # type: ignore[attr-defined]
                link = found.permalink if found is not None else None  # type: ignore[attr-defined]
                return _settle(s, u, found_ids=ids, permalink=link, now=hub.clock.now())

        if await asyncio.to_thread(settle):
            counts["found" if found is not None else "absent"] += 1
    return counts
