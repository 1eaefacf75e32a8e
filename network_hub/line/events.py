"""LINE webhook events: verified, stored durably, processed from the table.

The webhook (``network_hub.web.line_webhook``) checks the signature on the raw body, stores each
event under its ``webhookEventId`` (LINE redelivers events; the primary key makes a repeat a no-op)
and answers at once; processing happens after the answer, from this table, so a crash between
the two loses nothing: ``process_pending`` picks up whatever is still ``pending`` (on the next
webhook call, or ``network-hub line process``).

Each event is processed in one transaction that first moves it ``pending → done`` (fenced by the
state, so two processes never both act on it), then applies it: ``join``/``leave`` record groups;
events from people in the 1:1 chat (follow, message, postback) drive ``network_hub.line.chat``
(linking by personal invite, sending news). Network work is kept out of the transaction: a
``LineIO`` fetches what an event needs first (a group's name and size, a photo's bytes) and sends
the reply after the commit (replies are free; a reply token lasts about a minute).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from network_hub.db.models import LineWebhookEvent
from network_hub.hub import Hub
from network_hub.line.groups import adjust_size, record_join, record_leave

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class BadSignature(Exception):
    """The x-line-signature header does not match the body (forged, or the wrong channel secret)."""


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """LINE's rule: Base64 of HMAC-SHA256 over the raw body with the channel secret."""
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.encode())


@dataclass(frozen=True)
class Stored:
    new: int
    repeated: int


def parse_verified(secret: str, body: bytes, signature: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(destination, events) of a webhook body whose signature is right; BadSignature otherwise."""
    if not signature_ok(secret, body, signature):
        raise BadSignature("x-line-signature does not match the body")
    try:
        data = json.loads(body)
    except ValueError:
        raise BadSignature("signed body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BadSignature("signed body has no events list")
    return str(data.get("destination", "")), [e for e in data["events"] if isinstance(e, dict)]


def store_events(hub: Hub, destination: str, events: list[dict[str, Any]]) -> Stored:
    """Insert each event once (by webhookEventId); a repeat (LINE's redelivery) changes nothing."""
    new = repeated = 0
    now = hub.clock.now()
    for event in events:
        event_id = str(event.get("webhookEventId") or "")[:64]
        if not event_id:
            log.warning("LINE webhook event without webhookEventId (type %s) ignored", event.get("type"))
            continue
        try:
            with hub.transaction() as session:
                if session.get(LineWebhookEvent, event_id) is not None:
                    repeated += 1
                    continue
                session.add(LineWebhookEvent(event_id=event_id, destination=destination[:40],
                                             event_type=str(event.get("type", ""))[:40], payload=event,
                                             state="pending", attempts=0, received_at=now))
            new += 1
        except IntegrityError:  # the same event stored by a concurrent redelivery
            repeated += 1
    return Stored(new, repeated)


class LineIO(Protocol):
    """The network side of processing (``network_hub.line.io.HubLineIO``; tests may pass their own)."""

    async def enrich(self, event: LineWebhookEvent) -> dict[str, Any]: ...

    async def reply(self, event: LineWebhookEvent, reply_token: str, messages: list[dict[str, Any]]) -> None: ...


_LOCKS: dict[int, asyncio.Lock] = {}


async def process_pending(hub: Hub, *, limit: int = 200, io: LineIO | None = None) -> int:
    """Apply every pending event, oldest first; returns how many were processed by this call.

    One pass at a time per event loop (the webhook's background task and the scheduled pass of
    ``network-hub run`` share it), so a person's messages are applied in the order they came.
    Database work runs in a worker thread: the loop also serves the web and the dispatcher.
    """
    lock = _LOCKS.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
    async with lock:
        return await _process(hub, limit, io)


def _load_pending(hub: Hub, limit: int) -> list[LineWebhookEvent]:
    with hub.transaction() as session:
        pending = list(session.scalars(select(LineWebhookEvent).where(LineWebhookEvent.state == "pending")
                                       .order_by(LineWebhookEvent.received_at).limit(limit)))
        for event in pending:
            session.expunge(event)
    return pending


def _apply_in_transaction(hub: Hub, event: LineWebhookEvent,
                          extra: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    with hub.transaction() as session:
        return _apply(session, event, extra, hub.clock.now(), hub)


def _record_failure(hub: Hub, event: LineWebhookEvent, exc: Exception) -> None:
    with hub.transaction() as session:
        session.execute(update(LineWebhookEvent).where(LineWebhookEvent.event_id == event.event_id).values(
            attempts=LineWebhookEvent.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000],
            state="failed" if event.attempts + 1 >= MAX_ATTEMPTS else "pending"))


async def _process(hub: Hub, limit: int, io: LineIO | None) -> int:
    pending = await asyncio.to_thread(_load_pending, hub, limit)
    done = 0
    for event in pending:
        extra: dict[str, Any] = {}
        if io is not None:
            try:
                extra = await io.enrich(event)
            except Exception as exc:  # e.g. a group's name: a nicety; a photo: the chat says it failed
                log.info("LINE event %s (%s): enrich failed (%s)", event.event_id, event.event_type,
                         type(exc).__name__)
                extra = {"error": "ดาวน์โหลดไม่สำเร็จ"}
        replies: list[dict[str, Any]] = []
        try:
            applied, replies = await asyncio.to_thread(_apply_in_transaction, hub, event, extra)
            if applied:
                done += 1
        except Exception as exc:
            log.exception("LINE event %s (%s) failed", event.event_id, event.event_type)
            await asyncio.to_thread(_record_failure, hub, event, exc)
            continue
        token = (event.payload or {}).get("replyToken")
        if replies and token and io is not None:
            try:
                await io.reply(event, token, replies[:5])
            except Exception as exc:  # an expired token after a restart: the state is saved anyway
                log.warning("LINE reply to event %s not sent (%s)", event.event_id, type(exc).__name__)
    return done


def _apply(session: Session, event: LineWebhookEvent, extra: dict[str, Any], now: datetime,
           hub: Hub) -> tuple[bool, list[dict[str, Any]]]:
    claimed = session.execute(
        update(LineWebhookEvent)
        .where(LineWebhookEvent.event_id == event.event_id, LineWebhookEvent.state == "pending")
        .values(state="done", processed_at=now, attempts=LineWebhookEvent.attempts + 1)
    ).rowcount
    if claimed != 1:
        return False, []  # another process did it
    payload = event.payload or {}
    source = payload.get("source") or {}
    group_id = source.get("groupId")
    if event.event_type == "join" and group_id:
        record_join(session, bot_user_id=event.destination, group_id=group_id, now=now,
                    name=str(extra.get("name") or ""), member_count=extra.get("member_count"))
    elif event.event_type == "leave" and group_id:
        record_leave(session, bot_user_id=event.destination, group_id=group_id, now=now)
    elif event.event_type in ("memberJoined", "memberLeft") and group_id:
        # keep the size (what a push costs) current between sends; the send itself asks LINE again
        key = "joined" if event.event_type == "memberJoined" else "left"
        change = len(((payload.get(key) or {}).get("members")) or [])
        adjust_size(session, bot_user_id=event.destination, group_id=group_id,
                    change=change if key == "joined" else -change, now=now)
    elif source.get("type") == "user" and event.event_type in ("follow", "message", "postback"):
        from network_hub.line import chat

        return True, chat.handle(session, payload, extra, now=now, data_dir=hub.settings.data_dir,
                                 media_dir=hub.settings.resolved_media_dir)
    else:
        session.execute(update(LineWebhookEvent).where(LineWebhookEvent.event_id == event.event_id)
                        .values(last_error="kept: no handler for this event"))
    return True, []
