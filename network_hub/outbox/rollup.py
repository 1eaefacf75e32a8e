"""Item roll-up: an item's status follows its deliveries once none is still in flight.

All sent → ``published``; some sent → ``partially_published``; none sent → ``failed``.
Cancelled deliveries do not count. While any delivery is pending, in flight, waiting to retry or
``unknown``, the item stays ``publishing``. The author (and, for problems, the moderators) are
told through the notification outbox, once per change of status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import AuditEvent, Delivery, Member, NewsItem, Notification, Outlet
from network_hub.db.types import UTCDateTime
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox.driver_sql import Db, DriverStatement, connection_of, orm_session
from network_hub.outbox.routing_people import moderators_of_village
from network_hub.states import DeliveryState, ItemStatus, MemberStatus, NotificationState

_UTC = UTCDateTime()
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

# The batch roll-up's statements, built once and run on the driver's cursor (``driver_sql``).
_ROLL_UP_READ = DriverStatement(
    select(_I.c.id, _I.c.status, _I.c.receipt_no, _I.c.title, _I.c.author_id,
           _M.c.status.label("author_status"),
           func.sum(case((_D.c.state.in_([s.value for s in IN_FLIGHT]), 1), else_=0)).label("busy"),
           func.sum(case((_D.c.state == DeliveryState.SENT.value, 1), else_=0)).label("sent"),
           func.sum(case((_D.c.state == DeliveryState.FAILED.value, 1), else_=0)).label("failed"))
    .select_from(_I.join(_M, _M.c.id == _I.c.author_id).join(_D, _D.c.item_id == _I.c.id))
    .where(_I.c.id.in_(bindparam("r_items", expanding=True)))
    .group_by(_I.c.id, _I.c.status, _I.c.receipt_no, _I.c.title, _I.c.author_id, _M.c.status)
    .order_by(_I.c.id)
)
# Fenced on the status just read: an item another transaction moved meanwhile is left alone.
_PUBLISH = DriverStatement(
    update(_I)
    .where(_I.c.id == bindparam("p_id"), _I.c.status == bindparam("p_before"))
    .values(status=ItemStatus.PUBLISHED.value, version=_I.c.version + 1, updated_at=bindparam("p_now", type_=_UTC),
            published_at=func.coalesce(_I.c.published_at, bindparam("p_now", type_=_UTC)))
)
_PUBLISHED_READ_BACK = DriverStatement(
    select(_I.c.id).where(_I.c.id.in_(bindparam("r_items", expanding=True)),
                          _I.c.status == ItemStatus.PUBLISHED.value, _I.c.updated_at == bindparam("r_now", type_=_UTC))
)
_LINKS = DriverStatement(
    select(_D.c.item_id, _O.c.name, _O.c.platform, _D.c.permalink)
    .join(_O, _O.c.id == _D.c.outlet_id)
    .where(_D.c.item_id.in_(bindparam("r_items", expanding=True)), _D.c.state == DeliveryState.SENT.value)
    .order_by(_D.c.id)
)
_AUDIT = DriverStatement(insert(_E), column_keys=["at", "actor_id", "actor_label", "action", "object_type",
                                                  "object_id", "before", "after", "reason"])
_NOTIFY = DriverStatement(insert(_N), column_keys=["member_id", "kind", "item_id", "payload", "state", "due_at",
                                                   "attempts", "created_at"])


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


def roll_up_items(session: Db, item_ids: set[int], now: datetime) -> dict[int, str]:
    """``roll_up_item`` for a batch: one query reads every item with its author's status and the
    counts of its deliveries by outcome; only items whose status changes get more work.

    Items becoming ``published`` (the dispatcher's common case) are rolled up together with Core
    statements — the items' update, their links, the audit rows and the authors' notifications,
    each one statement per batch — with exactly ``roll_up_item``'s effects; the rare partial or
    failed outcomes go through ``roll_up_item`` one by one."""
    if not item_ids:
        return {}
    if isinstance(session, Session):
        session.flush()  # the Core reads below must see ORM changes of this transaction (a failure's roll-up)
    rows = _ROLL_UP_READ.rows(session, {"r_items": sorted(item_ids)})
    changed: dict[int, str] = {}
    published = []
    for row in rows:
        counts = {DeliveryState.PENDING.value: row.busy or 0, DeliveryState.SENT.value: row.sent or 0,
                  DeliveryState.FAILED.value: row.failed or 0}
        target = _target_status(counts)
        if target is None or row.status not in ROLLABLE or row.status == target:
            continue
        if target == ItemStatus.PUBLISHED:
            published.append(row)
            continue
        with orm_session(session) as orm:
            new = roll_up_item(orm, row.id, now)
        if new:
            changed[row.id] = new
    if published:
        changed.update(_publish_items(session, published, now))
    return changed


def _publish_items(session: Db, items: list[Any], now: datetime) -> dict[int, str]:
    """Every delivery of these items is sent (or cancelled): mark them published, audit, tell authors.

    The rows written are those of ``roll_up_item`` (``audit.record`` and ``notifications.enqueue``:
    an audit event per item, a notification to an active author), in one statement each."""
    conn = connection_of(session)
    params = [{"p_id": i.id, "p_before": i.status, "p_now": now} for i in items]
    if _PUBLISH.executemany(conn, params) != len(params):
        # some item moved meanwhile: read back which ones this batch published (running the UPDATE
        # again would find them no longer in their old status and leave them without audit or notice)
        written = {r.id for r in _PUBLISHED_READ_BACK.rows(conn, {"r_items": [i.id for i in items], "r_now": now})}
        items = [i for i in items if i.id in written]
        if not items:
            return {}
    links: dict[int, list[dict[str, str | None]]] = {i.id: [] for i in items}
    for item_id, name, platform, permalink in _LINKS.rows(conn, {"r_items": sorted(links)}):
        links[item_id].append({"outlet": name, "platform": platform, "permalink": permalink})
    _AUDIT.executemany(conn, [
        {"at": now, "actor_id": None, "actor_label": "system", "action": f"item.{ItemStatus.PUBLISHED}",
         "object_type": "news_item", "object_id": str(i.id), "before": {"status": i.status},
         "after": {"status": ItemStatus.PUBLISHED}, "reason": None}
        for i in items])
    notes = [
        {"member_id": i.author_id, "kind": NotificationKind.ITEM_PUBLISHED, "item_id": i.id,
         "payload": {"receipt_no": i.receipt_no, "title": i.title, "links": links[i.id], "failed": 0},
         "state": NotificationState.PENDING.value, "due_at": now, "attempts": 0, "created_at": now}
        for i in items if i.author_status == MemberStatus.ACTIVE.value]
    if notes:
        _NOTIFY.executemany(conn, notes)
    return {i.id: ItemStatus.PUBLISHED for i in items}
