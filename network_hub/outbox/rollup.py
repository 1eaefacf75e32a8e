"""Item roll-up: an item's status follows its deliveries once none is still in flight.

All sent → ``published``; some sent → ``partially_published``; none sent → ``failed``.
Cancelled deliveries do not count. While any delivery is pending, in flight, waiting to retry or
``unknown``, the item stays ``publishing``. The author (and, for problems, the moderators) are
told through the notification outbox, once per change of status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import AuditEvent, Delivery, Member, NewsItem, Notification, Outlet
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox.routing_people import moderators_of_village
from network_hub.states import DeliveryState, ItemStatus, MemberStatus, NotificationState

_D = Delivery.__table__
_I = NewsItem.__table__
_O = Outlet.__table__
_M = Member.__table__
_E = AuditEvent.__table__
_N = Notification.__table__

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

    Items becoming ``published`` (the dispatcher's common case) are rolled up together with Core
    statements — the items' update, their links, their authors, the audit rows and the authors'
    notifications each one statement per batch — with exactly ``roll_up_item``'s effects; the rare
    partial or failed outcomes go through ``roll_up_item`` one by one."""
    if not item_ids:
        return {}
    session.flush()  # the Core reads below must see ORM changes of this transaction (a failure's roll-up)
    counts: dict[int, dict[str, int]] = {i: {} for i in item_ids}
    for item_id, state, n in session.execute(
        select(_D.c.item_id, _D.c.state, func.count())
        .where(_D.c.item_id.in_(item_ids)).group_by(_D.c.item_id, _D.c.state)
    ).all():
        counts[item_id][state] = n
    statuses = dict(session.execute(select(_I.c.id, _I.c.status).where(_I.c.id.in_(item_ids))).all())
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
    """Every delivery of these items is sent (or cancelled): mark them published, audit, tell authors.

    The rows written are those of ``roll_up_item`` (``audit.record`` and ``notifications.enqueue``:
    an audit event per item, a notification to an active author), in one statement each."""
    items = session.execute(
        select(_I.c.id, _I.c.status, _I.c.receipt_no, _I.c.title, _I.c.author_id)
        .where(_I.c.id.in_(item_ids), _I.c.status.in_([s.value for s in ROLLABLE]),
               _I.c.status != ItemStatus.PUBLISHED.value)
        .order_by(_I.c.id)).all()
    if not items:
        return {}
    # Fenced on the status just read: an item another transaction moved meanwhile is left alone.
    publish = (
        update(_I)
        .where(_I.c.id == bindparam("p_id"), _I.c.status == bindparam("p_before"))
        .values(status=ItemStatus.PUBLISHED.value, version=_I.c.version + 1, updated_at=now,
                published_at=func.coalesce(_I.c.published_at, now))
    )
    params = [{"p_id": i.id, "p_before": i.status} for i in items]
    conn = session.connection()
    if conn.execute(publish, params).rowcount != len(params):
        items = [i for i, p in zip(items, params, strict=True) if conn.execute(publish, [p]).rowcount == 1]
        if not items:
            return {}
    links: dict[int, list[dict[str, str | None]]] = {i.id: [] for i in items}
    for item_id, name, platform, permalink in session.execute(
        select(_D.c.item_id, _O.c.name, _O.c.platform, _D.c.permalink)
        .join(_O, _O.c.id == _D.c.outlet_id)
        .where(_D.c.item_id.in_(list(links)), _D.c.state == DeliveryState.SENT.value)
        .order_by(_D.c.id)
    ).all():
        links[item_id].append({"outlet": name, "platform": platform, "permalink": permalink})
    conn.execute(insert(_E), [
        {"at": now, "actor_id": None, "actor_label": "system", "action": f"item.{ItemStatus.PUBLISHED}",
         "object_type": "news_item", "object_id": str(i.id), "before": {"status": i.status},
         "after": {"status": ItemStatus.PUBLISHED}, "reason": None}
        for i in items])
    active = set(session.execute(select(_M.c.id).where(
        _M.c.id.in_({i.author_id for i in items}), _M.c.status == MemberStatus.ACTIVE.value)).scalars())
    notes = [
        {"member_id": i.author_id, "kind": NotificationKind.ITEM_PUBLISHED, "item_id": i.id,
         "payload": {"receipt_no": i.receipt_no, "title": i.title, "links": links[i.id], "failed": 0},
         "state": NotificationState.PENDING.value, "due_at": now, "created_at": now}
        for i in items if i.author_id in active]
    if notes:
        conn.execute(insert(_N), notes)
    return {i.id: ItemStatus.PUBLISHED for i in items}
