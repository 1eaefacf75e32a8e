"""The SQL of reconciling ``unknown`` deliveries (run by ``jobs.reconcile``, the reconciler).

- ``unknown_deliveries``: unknown deliveries of active outlets of one platform, past a grace
  period, oldest first, each with the parts already known posted and, for Telegram, where the
  probe (publishers/telegram_probe.py) may look. Sends to one channel overlap, and message ids
  follow the order messages reached Telegram, not ``sending_started_at`` order, so:
  ``after_id`` (a message surely before the post) is the delivery's own last known part, else the
  last id of the outlet's other deliveries whose ids were known (``sent_at``) no later than this
  send began; no upper bound is taken from start times (a post started later can land earlier);
  ``skip_ids`` are the known ids of the outlet's other deliveries (any state) after ``after_id``,
  which the probe passes over as neither this post's nor someone else's;
- ``settle``: found → ``sent`` with its ids; absent → ``pending`` (sent again; a post refused
  midway resumes at its first unknown part). Fenced, so two reconcilers in two processes settle a
  delivery once, and checked against the state machine (``lifecycle``).

Nothing here talks to a platform: the reconciler looks (``find_post``, the Telegram probe) and
reports back through ``settle``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Delivery, NewsItem, Outlet
from network_hub.outbox import lifecycle
from network_hub.outbox.rollup import roll_up_item
from network_hub.states import DeliveryState, OutletStatus, Platform


@dataclass(frozen=True)
class UnknownDelivery:
    delivery_id: int
    fence: int
    item_id: int
    receipt_no: str
    started_at: datetime
    outlet: Outlet  # loaded in the caller's transaction (the reconciler builds its target there)
    platform: str
    known_ids: tuple[str, ...] = ()  # parts of this post already known posted
    after_id: int | None = None  # Telegram: a message id surely before this post
    skip_ids: tuple[int, ...] = ()  # Telegram: the outlet's other deliveries' known ids after after_id


def _numeric(ids: list[str] | None) -> list[int]:
    return [int(i) for i in ids or [] if str(i).lstrip("-").isdigit()]


def unknown_deliveries(session: Session, platform: Platform | str, now: datetime, *, grace: timedelta,
                       limit: int = 100) -> list[UnknownDelivery]:
    """Unknown deliveries on ``platform`` last changed at least ``grace`` ago, oldest first."""
    platform = Platform(platform)
    rows = session.execute(
        select(Delivery, NewsItem.receipt_no, Outlet)
        .join(NewsItem, NewsItem.id == Delivery.item_id)
        .join(Outlet, Outlet.id == Delivery.outlet_id)
        .where(Delivery.state == DeliveryState.UNKNOWN, Outlet.platform == platform,
               Outlet.status == OutletStatus.ACTIVE, Delivery.updated_at <= now - grace)
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    out = []
    for delivery, receipt, outlet in rows:
        started = delivery.sending_started_at or delivery.updated_at
        if platform is not Platform.TELEGRAM:
            out.append(UnknownDelivery(delivery.id, delivery.fence, delivery.item_id, receipt, started, outlet,
                                       platform.value))
            continue
        after_id, skip_ids = _telegram_bounds(session, delivery, outlet.id, delivery.sending_started_at)
        out.append(UnknownDelivery(delivery.id, delivery.fence, delivery.item_id, receipt, started, outlet,
                                   platform.value, tuple(map(str, _numeric(delivery.external_ids))),
                                   after_id, skip_ids))
    return out


def _telegram_bounds(session: Session, delivery: Delivery, outlet_id: int,
                     started: datetime | None) -> tuple[int | None, tuple[int, ...]]:
    """``after_id`` and ``skip_ids`` for the probe (see the module docstring). A message the hub
    knew of (``sent_at``) by the time this send began surely precedes this post; nothing is
    assumed from the order sends started. Without a start time only the delivery's own parts
    anchor it."""
    own = _numeric(delivery.external_ids)
    others = session.execute(
        select(Delivery.external_ids, Delivery.sent_at)
        .where(Delivery.outlet_id == outlet_id, Delivery.id != delivery.id, Delivery.external_ids.is_not(None))
    ).all()
    if own:
        after_id: int | None = max(own)
    else:
        earlier = [i for ids, sent_at in others
                   if started is not None and sent_at is not None and sent_at <= started for i in _numeric(ids)]
        after_id = max(earlier) if earlier else None
    if after_id is None:
        return None, ()
    skip = sorted({i for ids, _ in others for i in _numeric(ids) if i > after_id} - set(own))
    return after_id, tuple(skip)


def settle(session: Session, delivery_id: int, fence: int, *, found_ids: list[str] | None,
           permalink: str | None, now: datetime) -> bool:
    """Found (``found_ids``) → sent; None → pending, sent again. False when the delivery moved
    since it was read (another reconciler or a person settled it first): nothing changed."""
    target = DeliveryState.SENT if found_ids is not None else DeliveryState.PENDING
    lifecycle.check(DeliveryState.UNKNOWN, target)
    values: dict[str, object] = {"state": target, "fence": Delivery.fence + 1, "updated_at": now}
    if found_ids is not None:
        values.update(external_ids=found_ids, permalink=permalink, sent_at=now, last_error=None)
    else:
        values.update(due_at=now, not_before=None,
                      last_error="reconciled: the post was not on the page; sending again")
    result = session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.fence == fence,
                               Delivery.state == DeliveryState.UNKNOWN).values(**values))
    if result.rowcount != 1:
        return False
    item_id = session.scalar(select(Delivery.item_id).where(Delivery.id == delivery_id))
    audit.record(session, at=now, action="delivery.reconciled_found" if found_ids is not None
                 else "delivery.reconciled_absent", object_type="delivery", object_id=delivery_id,
                 after={"external_ids": found_ids})
    if item_id is not None:
        roll_up_item(session, item_id, now)
    return True
