"""The moderation cards' queue on the hub's one lease primitive (``leasing.lease``).

A card is a ``kv_store`` row (namespace ``mod_card``, key = the item id) whose value records
where the card is (chat id, message id, photo message ids) and the item version it shows. The
row is the card's job:

- ``enqueue_new``: every submitted item gets its row (insert-or-ignore: two processes never
  make two) — the card is owed from then on, whatever happens to the process;
- ``claim``: rows with work to do — no card posted yet, the item changed since the card was
  drawn, or the item was decided/removed before a card was posted — leased with
  ``leasing.UNTIL_IS_FENCE`` (``kv_store`` has no owner or fence column; the lease's ``until``,
  kept in ``expires_at``, is its token, see ``leasing``); the work is checked again on the rows
  as leased, under the lease, so a card another process just posted is never posted again;
- ``save`` / ``drop`` / ``release``: the outcome, written only while the lease is still held
  (``WHERE expires_at = :token``); ``save(..., wait_until=…)`` keeps the row out of the queue
  until then (retry after a refused post, the same column as the lease: River's ``scheduled_at``).

A process that stops between Telegram's answer and ``save`` leaves a card the next lease posts
again (a second card in the moderators' group; both work, presses check the item's version):
the card queue cannot ask Telegram what it posted, unlike deliveries (no receipt probe here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, cast, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from network_hub.db.models import KeyValue, NewsItem
from network_hub.outbox import leasing
from network_hub.states import ItemStatus

CARD_NS = "mod_card"
KV = KeyValue.__table__
I = NewsItem.__table__  # noqa: E741 - table alias kept short as in queries.py
COLUMNS = leasing.LeaseColumns(key=("namespace", "key"), until="expires_at", owner=None, fence=None,
                               until_is_fence=True)
TTL = timedelta(minutes=3)  # a batch of cards (photos uploaded again) is posted well within this


@dataclass(frozen=True)
class CardLease:
    item_id: int
    token: datetime  # the lease's until stamp: the fence of every write under this lease
    record: dict[str, Any]  # the card's record as leased ({} when no card was posted yet)
    work: str  # "post", "refresh" or "drop"


def _work(record: dict[str, Any], status: str | None, version: int | None) -> str | None:
    """What a card needs: post (none yet, item waiting), refresh (item changed since drawn),
    drop (item gone, or decided before any card was posted), or nothing."""
    if status is None:
        return "drop"
    if record.get("message_id") is None:
        return "post" if status == ItemStatus.SUBMITTED else "drop"
    if record.get("version") != version:
        return "refresh"
    return None


def _item_key() -> Any:
    return cast(I.c.id, String)


def enqueue_new(session: Session, now: datetime, *, limit: int = 200) -> int:
    """A card row for every submitted item without one (oldest first)."""
    without = ~exists(select(KV.c.key).where(KV.c.namespace == CARD_NS, KV.c.key == _item_key()))
    ids = list(session.scalars(select(I.c.id).where(I.c.status == ItemStatus.SUBMITTED.value, without)
                               .order_by(I.c.id).limit(limit)))
    if not ids:
        return 0
    rows = [{"namespace": CARD_NS, "key": str(i), "value": {}, "expires_at": None, "updated_at": now} for i in ids]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(KV).values(rows).on_conflict_do_nothing(index_elements=["namespace", "key"]))
    return len(ids)


def _items(session: Session, keys: list[str]) -> dict[str, tuple[str, int]]:
    ids = [int(k) for k in keys if k.isdigit()]
    rows = session.execute(select(I.c.id, I.c.status, I.c.version).where(I.c.id.in_(ids))).all() if ids else []
    return {str(r.id): (r.status, r.version) for r in rows}


def claim(session: Session, *, now: datetime, limit: int, ttl: timedelta = TTL, owner: str = "card-sync",
          item_ids: list[int] | None = None) -> list[CardLease]:
    """Lease up to ``limit`` cards with work to do (only ``item_ids`` when given)."""
    if item_ids is None:
        enqueue_new(session, now)
    where = and_(KV.c.namespace == CARD_NS, leasing.free(KV, now, COLUMNS))
    if item_ids is not None:
        where = and_(where, KV.c.key.in_([str(i) for i in item_ids]))
    rows = session.execute(select(KV.c.key, KV.c.value).where(where)).all()
    items = _items(session, [r.key for r in rows])
    wanted = [r.key for r in rows
              if _work(dict(r.value or {}), *items.get(r.key, (None, None))) is not None]
    if not wanted:
        return []
    leased = leasing.lease(
        session, KV, eligible=and_(KV.c.namespace == CARD_NS, KV.c.key.in_(wanted)),
        order_by=[cast(KV.c.key, Integer)], limit=limit, owner=owner, now=now, ttl=ttl,
        values={"updated_at": now}, returning=[KV.c.key, KV.c.value, KV.c.expires_at], columns=COLUMNS,
    )
    # The rows as leased (another process may have done the work between the look and the lease).
    items = _items(session, [r.key for r in leased])
    out = []
    for key, value, token in leased:
        record = dict(value or {})
        work = _work(record, *items.get(key, (None, None)))
        if work is None:
            release(session, int(key), token)
            continue
        out.append(CardLease(int(key), token, record, work))
    return out


def _held(item_id: int, token: datetime) -> Any:
    return and_(KV.c.namespace == CARD_NS, KV.c.key == str(item_id), leasing.held(KV, token, COLUMNS))


def save(session: Session, item_id: int, token: datetime, record: dict[str, Any], now: datetime, *,
         wait_until: datetime | None = None) -> bool:
    """Write the card's record and end the lease (the row waits until ``wait_until`` if given).
    False when the lease was lost: nothing written."""
    return session.execute(update(KV).where(_held(item_id, token))
                           .values(value=record, expires_at=wait_until, updated_at=now)).rowcount == 1


def release(session: Session, item_id: int, token: datetime, *, wait_until: datetime | None = None) -> bool:
    """End the lease without changing the record."""
    return session.execute(update(KV).where(_held(item_id, token)).values(expires_at=wait_until)).rowcount == 1


def drop(session: Session, item_id: int, token: datetime) -> bool:
    """The card is final (item decided and card redrawn, or item gone): forget its row."""
    return session.execute(delete(KV).where(_held(item_id, token))).rowcount == 1


def record_of(session: Session, item_id: int) -> dict[str, Any] | None:
    value = session.scalar(select(KV.c.value).where(KV.c.namespace == CARD_NS, KV.c.key == str(item_id)))
    return dict(value) if value is not None else None
