"""Item roll-up: an item's status follows its deliveries once none is still in flight.

All sent → ``published``; some sent → ``partially_published``; none sent → ``failed``.
Cancelled deliveries do not count. While any delivery is pending, in flight, waiting to retry or
``unknown``, the item stays ``publishing``. The author (and, for problems, the moderators) are
told through the notification outbox, once per change of status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import Delivery, Member, NewsItem, Outlet
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox.routing_people import moderators_of_village
from network_hub.states import DeliveryState, ItemStatus

IN_FLIGHT = (
    DeliveryState.PENDING, DeliveryState.CLAIMED, DeliveryState.SENDING,
    DeliveryState.RETRY_WAIT, DeliveryState.UNKNOWN,
)
ROLLABLE = (ItemStatus.APPROVED, ItemStatus.SCHEDULED, ItemStatus.PUBLISHING, ItemStatus.PUBLISHED,
            ItemStatus.PARTIALLY_PUBLISHED, ItemStatus.FAILED)


def roll_up_item(session: Session, item_id: int, now: datetime) -> str | None:
    """Recompute the item's status from its deliveries; returns the new status when it changed."""
    item = session.get(NewsItem, item_id, populate_existing=True)
    if item is None or item.status not in ROLLABLE:
        return None
    counts = dict(session.execute(
        select(Delivery.state, func.count()).where(Delivery.item_id == item_id).group_by(Delivery.state)
    ).all())
    if any(counts.get(s, 0) for s in IN_FLIGHT):
        return None
    sent, failed = counts.get(DeliveryState.SENT, 0), counts.get(DeliveryState.FAILED, 0)
    if sent and not failed:
        new = ItemStatus.PUBLISHED
    elif sent:
        new = ItemStatus.PARTIALLY_PUBLISHED
    elif failed:
        new = ItemStatus.FAILED
    else:
        return None  # everything cancelled: withdrawal handles the item's status
    if item.status == new:
        return None
    before = item.status
    item.status = new
    item.version += 1
    item.updated_at = now
    if new in (ItemStatus.PUBLISHED, ItemStatus.PARTIALLY_PUBLISHED) and item.published_at is None:
        item.published_at = now
    audit.record(session, at=now, action=f"item.{new}", object_type="news_item", object_id=item.id,
                 before={"status": before}, after={"status": new})
    links = [
        {"outlet": name, "platform": platform, "permalink": permalink}
        for name, platform, permalink in session.execute(
            select(Outlet.name, Outlet.platform, Delivery.permalink)
            .join(Outlet, Outlet.id == Delivery.outlet_id)
            .where(Delivery.item_id == item_id, Delivery.state == DeliveryState.SENT)
            .order_by(Delivery.id)
        ).all()
    ]
    kind = {
        ItemStatus.PUBLISHED: NotificationKind.ITEM_PUBLISHED,
        ItemStatus.PARTIALLY_PUBLISHED: NotificationKind.ITEM_PARTIALLY_PUBLISHED,
        ItemStatus.FAILED: NotificationKind.ITEM_FAILED,
    }[new]
    payload = {"receipt_no": item.receipt_no, "title": item.title, "links": links, "failed": failed}
    enqueue(session, member_id=item.author_id, kind=kind, now=now, item_id=item.id, payload=payload)
    if new != ItemStatus.PUBLISHED:
        for member_id in moderators_of_village(session, item.village_code):
            enqueue(session, member_id=member_id, kind=kind, now=now, item_id=item.id, payload=payload)
    return new


def _target_status(counts: dict[str, int]) -> str | None:
    if any(counts.get(s, 0) for s in IN_FLIGHT):
        return None
    sent, failed = counts.get(DeliveryState.SENT, 0), counts.get(DeliveryState.FAILED, 0)
    if sent and not failed:
        return ItemStatus.PUBLISHED
    if sent:
        return ItemStatus.PARTIALLY_PUBLISHED
    return ItemStatus.FAILED if failed else None


def roll_up_items(session: Session, item_ids: set[int], now: datetime) -> dict[int, str]:
    """``roll_up_item`` for a batch: one counting query, work only for items whose status changes.

    Items becoming ``published`` (the dispatcher's common case) are rolled up together — one query
    each for the items, their links and their authors — with exactly ``roll_up_item``'s effects;
    the rare partial or failed outcomes go through ``roll_up_item`` one by one."""
    if not item_ids:
        return {}
    counts: dict[int, dict[str, int]] = {i: {} for i in item_ids}
    for item_id, state, n in session.execute(
        select(Delivery.item_id, Delivery.state, func.count())
        .where(Delivery.item_id.in_(item_ids)).group_by(Delivery.item_id, Delivery.state)
    ).all():
        counts[item_id][state] = n
    statuses = dict(session.execute(select(NewsItem.id, NewsItem.status).where(NewsItem.id.in_(item_ids))).all())
    changed: dict[int, str] = {}
    published: list[int] = []
    for item_id in sorted(item_ids):
        target = _target_status(counts[item_id])
        if target is None or statuses.get(item_id) not in ROLLABLE or statuses[item_id] == target:
            continue
        if target == ItemStatus.PUBLISHED:
            published.append(item_id)
            continue
        new = roll_up_item(session, item_id, now)
        if new:
            changed[item_id] = new
    if published:
        changed.update(_publish_items(session, published, now))
    return changed


def _publish_items(session: Session, item_ids: list[int], now: datetime) -> dict[int, str]:
    """Every delivery of these items is sent (or cancelled): mark them published, audit, tell authors."""
    items = list(session.scalars(
        select(NewsItem).where(NewsItem.id.in_(item_ids)).order_by(NewsItem.id)
        .execution_options(populate_existing=True)))
    links: dict[int, list[dict[str, str | None]]] = {i: [] for i in item_ids}
    for item_id, name, platform, permalink in session.execute(
        select(Delivery.item_id, Outlet.name, Outlet.platform, Delivery.permalink)
        .join(Outlet, Outlet.id == Delivery.outlet_id)
        .where(Delivery.item_id.in_(item_ids), Delivery.state == DeliveryState.SENT)
        .order_by(Delivery.id)
    ).all():
        links[item_id].append({"outlet": name, "platform": platform, "permalink": permalink})
    # Load the authors once, so enqueue's per-member lookups hit the session's identity map.
    list(session.scalars(select(Member).where(Member.id.in_({i.author_id for i in items}))))
    changed: dict[int, str] = {}
    for item in items:
        if item.status not in ROLLABLE or item.status == ItemStatus.PUBLISHED:
            continue
        before = item.status
        item.status = ItemStatus.PUBLISHED
        item.version += 1
        item.updated_at = now
        if item.published_at is None:
            item.published_at = now
        audit.record(session, at=now, action=f"item.{ItemStatus.PUBLISHED}", object_type="news_item",
                     object_id=item.id, before={"status": before}, after={"status": ItemStatus.PUBLISHED})
        payload = {"receipt_no": item.receipt_no, "title": item.title, "links": links[item.id], "failed": 0}
        enqueue(session, member_id=item.author_id, kind=NotificationKind.ITEM_PUBLISHED, now=now, item_id=item.id,
                payload=payload)
        changed[item.id] = ItemStatus.PUBLISHED
    return changed
