"""The SQL of reconciling ``unknown`` deliveries (run by ``jobs.reconcile``, the reconciler).

- ``unknown_deliveries``: unknown deliveries of active outlets of one platform, past a grace
  period, oldest first, each with what bounds where its post can be: the parts already known
  posted and, for Telegram, the last message id the hub knows in that chat before the post
  (``after_id``) and the first one after it (``before_id``);
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
    after_id: int | None = None  # Telegram: the last message id the hub knows before this post
    before_id: int | None = None  # Telegram: the first message id the hub knows after it


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
        after_id, before_id = _telegram_bounds(session, delivery, outlet.id, started)
        out.append(UnknownDelivery(delivery.id, delivery.fence, delivery.item_id, receipt, started, outlet,
                                   platform.value, tuple(map(str, _numeric(delivery.external_ids))),
                                   after_id, before_id))
    return out


def _telegram_bounds(session: Session, delivery: Delivery, outlet_id: int,
                     started: datetime) -> tuple[int | None, int | None]:
    """Message ids in a chat are sequential: the post is after the last id the hub knows before it
    (its own known parts first) and before the first id it knows after it."""
    own = _numeric(delivery.external_ids)
    others = session.execute(
        select(Delivery.external_ids, Delivery.sending_started_at)
        .where(Delivery.outlet_id == outlet_id, Delivery.id != delivery.id,
               Delivery.state.in_((DeliveryState.SENT, DeliveryState.UNKNOWN)),
               Delivery.sending_started_at.is_not(None))
    ).all()
    before = [i for ids, at in others if at < started for i in _numeric(ids)]
    after = [i for ids, at in others if at > started for i in _numeric(ids)]
    after_id = max(own) if own else (max(before) if before else None)
    return after_id, (min(after) if after else None)


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
