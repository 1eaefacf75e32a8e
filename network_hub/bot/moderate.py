"""Moderation from Telegram: a card per submitted item in its area's moderators' group.

The flow of one card::

    item submitted (bot, web or CLI) ─► CardSync posts photos + card with buttons
      «approve now»                 ─► approve_item                       ─► card shows who/when
      «schedule» ─► slots | «type a time» (reply to the bot's prompt)      ─► approve_item(at=…)
      «return» / «reject» ─► canned reasons | «type a reason» (reply)      ─► return_item / reject_item
    decided elsewhere (web, CLI)    ─► CardSync sees the new version       ─► card updated, buttons gone

Every press is checked: the presser must be a member whose role covers the item's village
(``permissions``, via the newsroom services) and the press's version must be the item's current
one, so double presses, stale cards and forged callback data change nothing and say why.

``CardSync`` keeps one ``kv_store`` row per open card (namespace ``mod_card``), leased through the
hub's one lease primitive (``outbox.card_leases`` on ``outbox.leasing``); it runs in the process
that holds the polling lease, every few seconds and at once when this process submits or decides
something. Telegram trouble (429, bot removed from the group, a group that became a supergroup)
delays a card, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from telegram import Bot, ForceReply, InputMediaPhoto, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from network_hub import audit
from network_hub.bot import callbacks
from network_hub.bot.cards import (
    REJECT_REASONS,
    RETURN_REASONS,
    CardView,
    card_text,
    load_card,
    main_keyboard,
    moderation_chat,
    reasons_keyboard,
    schedule_keyboard,
)
from network_hub.bot.common import NO_PREVIEW, Who, hub_of, in_db, reply, retry_after_seconds, who_is
from network_hub.bot.texts import raw, t
from network_hub.db.models import Area, Delivery, KeyValue, NewsItem, Outlet
from network_hub.errors import Conflict, HubError, InvalidInput, NotFound
from network_hub.hub import Hub
from network_hub.newsroom import events
from network_hub.newsroom.labels import status_th
from network_hub.newsroom.moderation import approve_item, reject_item, return_item
from network_hub.newsroom.queries import pending_queue
from network_hub.outbox import card_leases
from network_hub.outbox.card_leases import CARD_NS
from network_hub.outbox.resolution import resolve_unknown
from network_hub.permissions import Action, decide, require
from network_hub.states import DeliveryState, ItemStatus
from network_hub.timeparse import parse_local_time

log = logging.getLogger(__name__)
PROMPTS_KEY = "prompts"
RETRY_NO_CHAT = timedelta(minutes=5)
RETRY_FORBIDDEN = timedelta(minutes=10)
RETRY_NETWORK = timedelta(seconds=30)


# -- the card queue ------------------------------------------------------------------------------------
class CardSync:
    """Posts and updates moderation cards; run by the polling leader.

    The cards are a queue on the hub's one lease primitive (``outbox.card_leases``): a pass leases
    a few cards with work to do, posts or redraws them, and writes each outcome under its lease,
    so a second process (a leadership change mid-pass) never works on the same card at once, a
    refused post waits in the database (not in memory) and a crash hands the card to the next pass
    once its lease ends. A 429 stops the pass: the card waits Telegram's time, the others are
    handed back at once."""

    def __init__(self, hub: Hub, bot: Callable[[], Bot], *, owner: str = "card-sync", batch: int = 5,
                 lease: timedelta = card_leases.TTL) -> None:
        self.hub = hub
        self._bot = bot
        self.owner, self.batch, self.lease = owner, batch, lease
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._blocked_until: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def serve(self, interval: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("moderation card sync failed; it runs again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()

    async def run_once(self) -> None:
        async with self._lock:
            seen: set[int] = set()
            while not self._blocked():
                leases = await in_db(self.hub, lambda s, now: card_leases.claim(
                    s, now=now, limit=self.batch, ttl=self.lease, owner=self.owner))
                fresh = [c for c in leases if c.item_id not in seen]
                for card in leases:
                    if card.item_id in seen:  # worked on in this pass already: the next pass
                        await self._release(card)
                if not fresh:
                    return
                for i, card in enumerate(fresh):
                    seen.add(card.item_id)
                    if not await self._work(card):
                        for rest in fresh[i + 1:]:  # rate limited: everything else waits too
                            await self._release(rest)
                        return

    async def refresh_item(self, item_id: int) -> None:
        """Redraw an item's open card now (after a press in this process)."""
        async with self._lock:
            if self._blocked():
                return
            leases = await in_db(self.hub, lambda s, now: card_leases.claim(
                s, now=now, limit=1, ttl=self.lease, owner=self.owner, item_ids=[item_id]))
            for card in leases:
                await self._work(card)

    def _blocked(self) -> bool:
        return self._blocked_until is not None and self.hub.clock.now() < self._blocked_until

    async def _work(self, card: card_leases.CardLease) -> bool:
        """One leased card; False when Telegram said to wait (stop this pass)."""
        if card.work == "drop":
            await in_db(self.hub, lambda s, _now: card_leases.drop(s, card.item_id, card.token))
            return True
        if card.work == "post":
            return await self._post(card)
        return await self._refresh(card)

    # -- posting --------------------------------------------------------------------------------------
    async def _post(self, card: card_leases.CardLease) -> bool:
        """Post the card of a leased item; False when Telegram said to wait (stop this pass)."""
        item_id = card.item_id
        view, chat_id = await in_db(self.hub, lambda s, _now: _view_and_chat(s, item_id))
        if view is None or view.status != ItemStatus.SUBMITTED:
            await self._release(card)  # decided meanwhile: the next claim drops it
            return True
        if chat_id is None:
            log.warning("item %s: no moderators' group is set for village %s or any area above it "
                        "(network-hub area set-moderation-chat)", view.receipt_no, view.village_code)
            await self._save(card, {"message_id": None, "error": "no moderators' group"}, wait=RETRY_NO_CHAT)
            return True
        bot = self._bot()
        try:
            try:
                message_id, photo_ids = await self._send_card(bot, chat_id, view)
            except ChatMigrated as exc:
                chat_id = await self._migrate(chat_id, int(exc.new_chat_id))
                message_id, photo_ids = await self._send_card(bot, chat_id, view)
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            self._blocked_until = self.hub.clock.now() + timedelta(seconds=seconds)
            log.warning("Telegram asked to wait %.0fs before posting cards", seconds)
            await self._release(card, wait=timedelta(seconds=seconds))
            return False
        except (Forbidden, BadRequest) as exc:
            log.warning("item %s: the card could not be posted in chat %s (%s); trying again later",
                        view.receipt_no, chat_id, exc.message)
            await self._save(card, {"message_id": None, "error": exc.message[:300]}, wait=RETRY_FORBIDDEN)
            return True
        except NetworkError as exc:
            await self._save(card, {"message_id": None, "error": str(exc)[:300]}, wait=RETRY_NETWORK)
            return True
        await self._save(card, {"chat_id": chat_id, "message_id": message_id, "photo_message_ids": photo_ids,
                                "version": view.version})
        return True

    async def _send_card(self, bot: Bot, chat_id: int, view: CardView) -> tuple[int, list[int]]:
        photo_messages = await self._send_photos(bot, chat_id, view)
        reply_to = ReplyParameters(photo_messages[0].message_id, allow_sending_without_reply=True) \
            if photo_messages else None
        card = await bot.send_message(chat_id, card_text(view), parse_mode=ParseMode.HTML,
                                      link_preview_options=NO_PREVIEW, reply_markup=main_keyboard(view),
                                      reply_parameters=reply_to)
        return card.message_id, [m.message_id for m in photo_messages]

    async def _send_photos(self, bot: Bot, chat_id: int, view: CardView) -> list[Message]:
        media_dir = self.hub.settings.resolved_media_dir
        sources: list[Any] = []
        for file_id, path in view.photos:
            if file_id:
                sources.append(file_id)
            elif path and (media_dir / path).exists():
                sources.append(Path(media_dir / path).read_bytes())
        if not sources:
            return []
        if len(sources) == 1:
            return [await bot.send_photo(chat_id, sources[0], caption=view.receipt_no)]
        media = [InputMediaPhoto(src, caption=view.receipt_no if i == 0 else None) for i, src in enumerate(sources)]
        return list(await bot.send_media_group(chat_id, media))

    # -- refreshing -----------------------------------------------------------------------------------
    async def _refresh(self, card: card_leases.CardLease) -> bool:
        item_id, record = card.item_id, card.record
        view = await in_db(self.hub, lambda s, _now: load_card(s, item_id))
        if view is None:
            await in_db(self.hub, lambda s, _now: card_leases.drop(s, item_id, card.token))
            return True
        bot = self._bot()
        try:
            await bot.edit_message_text(card_text(view), chat_id=record["chat_id"], message_id=record["message_id"],
                                        parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                                        reply_markup=main_keyboard(view))
        except BadRequest as exc:
            if "not modified" not in exc.message.lower() and "not found" not in exc.message.lower():
                log.warning("card of item %s could not be updated: %s", item_id, exc.message)
                await self._release(card, wait=RETRY_NETWORK)
                return True
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            self._blocked_until = self.hub.clock.now() + timedelta(seconds=seconds)
            await self._release(card, wait=timedelta(seconds=seconds))
            return False
        except TelegramError as exc:
            log.warning("card of item %s could not be updated: %s", item_id, exc)
            await self._release(card, wait=RETRY_NETWORK)
            return True
        if view.status == ItemStatus.SUBMITTED:
            await self._save(card, {**record, "version": view.version})
        else:
            await in_db(self.hub, lambda s, _now: card_leases.drop(s, item_id, card.token))  # decided: final
        return True

    # -- helpers ----------------------------------------------------------------------------------------
    async def _save(self, card: card_leases.CardLease, record: dict[str, Any], *,
                    wait: timedelta | None = None) -> None:
        def write(s: Session, now: datetime) -> bool:
            return card_leases.save(s, card.item_id, card.token, record, now,
                                    wait_until=now + wait if wait is not None else None)

        if not await in_db(self.hub, write):
            log.warning("card of item %s: the lease ended before its outcome was written (another process "
                        "took the card over); nothing written", card.item_id)

    async def _release(self, card: card_leases.CardLease, *, wait: timedelta | None = None) -> None:
        await in_db(self.hub, lambda s, now: card_leases.release(
            s, card.item_id, card.token, wait_until=now + wait if wait is not None else None))

    async def _migrate(self, old: int, new: int) -> int:
        await in_db(self.hub, lambda s, now: migrate_moderation_chat(s, old, new, now))
        return new


def _view_and_chat(session: Session, item_id: int) -> tuple[CardView | None, int | None]:
    view = load_card(session, item_id)
    return view, (moderation_chat(session, view.village_code) if view is not None else None)


def migrate_moderation_chat(session: Session, old: int, new: int, now: datetime) -> int:
    """A group became a supergroup: every area using the old id now uses the new one."""
    codes = list(session.scalars(select(Area.code).where(Area.moderation_chat_id == old)))
    if codes:
        session.execute(update(Area).where(Area.code.in_(codes)).values(moderation_chat_id=new))
        for code in codes:
            audit.record(session, at=now, action="area.moderation_chat_migrated", object_type="area",
                         object_id=code, actor_label="bot", before={"moderation_chat_id": old},
                         after={"moderation_chat_id": new})
    for row in session.scalars(select(KeyValue).where(KeyValue.namespace == CARD_NS)):
        if (row.value or {}).get("chat_id") == old:
            row.value = {**row.value, "chat_id": new}
    return len(codes)


# -- presses on cards ----------------------------------------------------------------------------------
def _card_sync(context: ContextTypes.DEFAULT_TYPE) -> CardSync | None:
    sync: CardSync | None = context.application.bot_data.get("card_sync")
    return sync


async def _toast(update: Update, text: str, *, alert: bool = False) -> None:
    query = update.callback_query
    assert query is not None
    try:
        await query.answer(text[:190], show_alert=alert)
    except TelegramError:
        log.debug("callback answer failed", exc_info=True)


def _stale(item: NewsItem) -> Conflict:
    return Conflict(
        f"item {item.receipt_no} changed since this card was drawn (now {item.status}, version {item.version})",
        f"ข่าว {item.receipt_no} ถูกเปลี่ยนแปลงไปแล้ว (สถานะปัจจุบัน: {status_th(item.status)}) "
        "การกดครั้งนี้ไม่มีผล",
    )


def _checked_view(session: Session, who: Who, item_id: int, version: int) -> CardView:
    """The card of an item this moderator may decide on, at the version the card showed."""
    item = session.get(NewsItem, item_id)
    if item is None:
        raise NotFound(f"news item {item_id} does not exist", f"ไม่พบข่าวหมายเลข {item_id}")
    require(who.actor, Action.MODERATE, item.village_code, author_id=item.author_id)
    if item.version != version or item.status != ItemStatus.SUBMITTED:
        raise _stale(item)
    view = load_card(session, item_id)
    assert view is not None
    return view


async def on_card_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any ``m:`` button: parse, identify the presser, check permission and version, then act."""
    query = update.callback_query
    assert query is not None
    press = callbacks.parse_mod(query.data)
    if press is None:
        await _toast(update, raw("button_expired"), alert=True)
        return
    who = await who_is(context, query.from_user.id)
    if who is None:
        await _toast(update, raw("not_member_press"), alert=True)
        return
    hub = hub_of(context)
    language = who.language
    try:
        if press.verb in ("s", "b", "r", "x"):
            view = await in_db(hub, lambda s, _now: _checked_view(s, who, press.item_id, press.version))
            if press.verb == "s":
                markup = schedule_keyboard(view, hub.clock.now(), hub.settings.tz)
            elif press.verb == "x":
                markup = main_keyboard(view)
            else:
                markup = reasons_keyboard(view, press.verb)
            await _toast(update, t("toast_choose", language))
            with contextlib.suppress(BadRequest):
                await query.edit_message_reply_markup(markup)
            return
        if press.verb in ("tt", "bt", "rt"):
            view = await in_db(hub, lambda s, _now: _checked_view(s, who, press.item_id, press.version))
            await _toast(update, t("toast_choose", language))
            await _ask_typed(update, context, who, view, press.verb)
            return
        status = await in_db(hub, lambda s, now: _decide(s, now, who, press, hub))
    except HubError as exc:
        await _toast(update, exc.message(language), alert=True)
        if isinstance(exc, Conflict):
            await _refresh(context, press.item_id)
        return
    await _toast(update, t("toast_done", language, status=status_th(status)))
    await _refresh(context, press.item_id)


def _decide(session: Session, now: datetime, who: Who, press: callbacks.ModPress, hub: Hub) -> str:
    item = session.get(NewsItem, press.item_id)
    if item is None:
        raise NotFound(f"news item {press.item_id} does not exist", f"ไม่พบข่าวหมายเลข {press.item_id}")
    # The card showed the PDPA flags of this version; pressing its "confirm PDPA" button confirms them.
    confirm = bool(item.pdpa_flags)
    if press.verb == "a":
        approve_item(session, press.item_id, actor=who.actor, confirm_pdpa=confirm,
                     expected_version=press.version, now=now, via="bot")
    elif press.verb == "t":
        assert press.arg is not None
        at = datetime.fromtimestamp(press.arg * 60, UTC)
        if at <= now:
            raise InvalidInput("that time has passed; choose another", "เวลาที่เลือกผ่านไปแล้ว กรุณาเลือกเวลาใหม่")
        approve_item(session, press.item_id, actor=who.actor, at=at, confirm_pdpa=confirm,
                     expected_version=press.version, now=now, via="bot")
    elif press.verb in ("bc", "rc"):
        reasons = RETURN_REASONS if press.verb == "bc" else REJECT_REASONS
        if press.arg is None or not 0 <= press.arg < len(reasons):
            raise InvalidInput("unknown canned reason", "ไม่พบเหตุผลที่เลือก")
        action = return_item if press.verb == "bc" else reject_item
        action(session, press.item_id, actor=who.actor, reason=reasons[press.arg],
               expected_version=press.version, now=now, via="bot")
    else:
        raise InvalidInput(f"unknown verb {press.verb}", "ปุ่มนี้ใช้ไม่ได้แล้ว")
    refreshed = session.get(NewsItem, press.item_id, populate_existing=True)
    assert refreshed is not None
    return refreshed.status


async def _refresh(context: ContextTypes.DEFAULT_TYPE, item_id: int) -> None:
    sync = _card_sync(context)
    if sync is not None:
        await sync.refresh_item(item_id)


async def _ask_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, who: Who, view: CardView, verb: str) -> None:
    """Post a prompt the moderator answers by replying (bots in groups see replies to themselves)."""
    chat = update.effective_chat
    query = update.callback_query
    assert chat is not None and query is not None
    if verb == "tt":
        text = t("ask_typed_time", "th", name=who.name, receipt=view.receipt_no)
    else:
        text = t("ask_typed_reason", "th", name=who.name, receipt=view.receipt_no,
                 verb=raw("btn_return" if verb == "bt" else "btn_reject").split(" ", 1)[1])
    prompt = await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=ForceReply(selective=True),
                                     reply_parameters=ReplyParameters(query.message.message_id,
                                                                      allow_sending_without_reply=True)
                                     if query.message else None)
    assert context.chat_data is not None
    prompts: dict[str, Any] = context.chat_data.setdefault(PROMPTS_KEY, {})
    prompts[str(prompt.message_id)] = {"verb": verb, "item_id": view.item_id, "version": view.version}


async def on_typed_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A moderator replied to a prompt with a time or a reason."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or context.chat_data is None:
        return
    prompts: dict[str, Any] = context.chat_data.get(PROMPTS_KEY, {})
    prompt = prompts.get(str(message.reply_to_message.message_id))
    if prompt is None or message.from_user is None:
        return
    who = await who_is(context, message.from_user.id)
    if who is None:
        await reply(update, t("not_member_press", "th"))
        return
    hub = hub_of(context)
    text = message.text or ""

    def act(session: Session, now: datetime) -> str:
        if prompt["verb"] == "tt":
            at = parse_local_time(text, hub.settings.tz, now=now)
            item = session.get(NewsItem, prompt["item_id"])
            approve_item(session, prompt["item_id"], actor=who.actor, at=at,
                         confirm_pdpa=bool(item and item.pdpa_flags), expected_version=prompt["version"],
                         now=now, via="bot")
        else:
            action = return_item if prompt["verb"] == "bt" else reject_item
            action(session, prompt["item_id"], actor=who.actor, reason=text, expected_version=prompt["version"],
                   now=now, via="bot")
        item = session.get(NewsItem, prompt["item_id"], populate_existing=True)
        return item.status if item else ""

    try:
        status = await in_db(hub, act)
    except HubError as exc:
        await reply(update, t("error", who.language, reason=exc.message(who.language)))
        if not isinstance(exc, InvalidInput):
            prompts.pop(str(message.reply_to_message.message_id), None)
        return
    prompts.pop(str(message.reply_to_message.message_id), None)
    await reply(update, t("toast_done", who.language, status=status_th(status)))
    await _refresh(context, int(prompt["item_id"]))


# -- unknown deliveries ------------------------------------------------------------------------------------
async def on_delivery_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """«it is posted» / «send it» on an unknown delivery (DM or /pending)."""
    query = update.callback_query
    assert query is not None
    parsed = callbacks.parse_delivery(query.data)
    if parsed is None:
        await _toast(update, raw("button_expired"), alert=True)
        return
    posted, delivery_id = parsed
    who = await who_is(context, query.from_user.id)
    if who is None:
        await _toast(update, raw("not_member_press"), alert=True)
        return

    def act(session: Session, now: datetime) -> tuple[str, int]:
        delivery = resolve_unknown(session, delivery_id, posted=posted, actor=who.actor, now=now)
        outlet = session.get(Outlet, delivery.outlet_id)
        return (outlet.name if outlet else "?"), delivery.item_id

    try:
        outlet, item_id = await in_db(hub_of(context), act)
    except HubError as exc:
        await _toast(update, exc.message(who.language), alert=True)
        return
    text = t("resolved_posted" if posted else "resolved_resend", who.language, outlet=outlet)
    await _toast(update, text)
    if not posted:
        events.item_approved(item_id)  # wake this process's dispatcher: the delivery is due now
    if query.message is not None:
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(None)
        with contextlib.suppress(TelegramError):
            await query.message.reply_text(text, parse_mode=ParseMode.HTML)


# -- /pending -------------------------------------------------------------------------------------------------
def pending_overview(session: Session, who: Who, now: datetime, limit: int = 20) -> dict[str, Any]:
    items = pending_queue(session, who.actor, limit=limit)
    listed = []
    for item in items:
        hours = int((now - item.submitted_at).total_seconds() // 3600)
        listed.append(f"• {item.receipt_no} «{item.title[:60]}» ({item.village_code}, {hours} ชม.)")
    unknown = []
    rows = session.execute(select(Delivery.id, NewsItem.receipt_no, NewsItem.village_code, Outlet.name)
                           .join(NewsItem, NewsItem.id == Delivery.item_id)
                           .join(Outlet, Outlet.id == Delivery.outlet_id)
                           .where(Delivery.state == DeliveryState.UNKNOWN).order_by(Delivery.id)).all()
    for delivery_id, receipt, village, outlet in rows:
        if decide(who.actor, Action.RESOLVE_DELIVERY, village):
            unknown.append({"delivery_id": delivery_id, "receipt_no": receipt, "outlet": outlet})
    may_moderate = bool(who.actor.areas_with({"moderator", "admin"}))
    return {"items": listed, "unknown": unknown[:10], "may_moderate": may_moderate}


async def pending_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pending: what waits in the moderator's area, and unknown posts to settle."""
    user = update.effective_user
    assert user is not None
    who = await who_is(context, user.id)
    if who is None:
        await reply(update, t("not_member", "th"))
        return
    hub = hub_of(context)
    overview = await in_db(hub, lambda s, now: pending_overview(s, who, now))
    language = who.language
    if not overview["may_moderate"]:
        await reply(update, t("pending_not_moderator", language))
        return
    if overview["items"]:
        lines = "\n".join(html.escape(line, quote=False) for line in overview["items"])
        await reply(update, t("pending_header", language, count=len(overview["items"])) + "\n" + lines)
    else:
        await reply(update, t("pending_none", language))
    if overview["unknown"]:
        from network_hub.bot.notifier import render_notification

        await reply(update, t("unknown_header", language, count=len(overview["unknown"])))
        for row in overview["unknown"]:
            text, markup = render_notification("delivery_needs_person", {"state": "unknown", **row}, language)
            await reply(update, text, reply_markup=markup)


# -- a group became a supergroup ----------------------------------------------------------------------------
async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.migrate_to_chat_id:
        return
    old, new = message.chat_id, int(message.migrate_to_chat_id)
    count = await in_db(hub_of(context), lambda s, now: migrate_moderation_chat(s, old, new, now))
    log.info("moderators' group %s became supergroup %s (%d area(s) updated)", old, new, count)


def moderation_handlers() -> list[Any]:
    groups = filters.ChatType.GROUPS
    return [
        CallbackQueryHandler(on_card_press, pattern=callbacks.MODERATION_PATTERN),
        CallbackQueryHandler(on_delivery_press, pattern=callbacks.DELIVERY_PATTERN),
        CommandHandler("pending", pending_command),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
        MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND & groups, on_typed_reply),
    ]
