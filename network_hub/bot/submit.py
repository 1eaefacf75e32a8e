"""Sending news: ``/news`` in a private chat, one handler per step.

The flow (states are named; the conversation is persistent, so it survives a hub restart)::

    /news ─► CHOOSE_VILLAGE (only when the reporter covers more than one village)
          ─► CHOOSE_CATEGORY (buttons) ─► WRITE_TEXT (first line = title)
          ─► ADD_PHOTOS (0–10, singly or as albums; «done» / «no photos»)
          ─► ASK_CHILDREN ─► ASK_PEOPLE ─► ASK_CONSENT (only when photos show people or children)
          ─► CONFIRM (a preview exactly as residents will see it; «send» → receipt number)

    «edit and resend» under a "returned" DM ─► RESUBMIT_TEXT ─► CONFIRM (the photos stay)

``/cancel`` ends any step and saves nothing. The draft lives in ``user_data["draft"]`` (JSON:
village, category, text, Telegram file ids of the photos, consent answers); photos are fetched
from Telegram and validated only when the reporter presses «send», through the same
``submit_item`` the CLI and web call, so a refused submission changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from network_hub.areas import attribution, village_label
from network_hub.bot import callbacks
from network_hub.bot.common import (
    NO_PREVIEW,
    Who,
    hub_of,
    in_db,
    reply,
    reply_error,
    wake_cards,
    who_in_session,
    who_is,
)
from network_hub.bot.texts import raw, t
from network_hub.db.models import Area, NewsItem
from network_hub.errors import HubError, NotFound, PermissionDenied
from network_hub.newsroom.labels import CATEGORY_TH
from network_hub.newsroom.moderation import resubmit_item
from network_hub.newsroom.pdpa import Consent
from network_hub.newsroom.photos import MAX_PHOTOS, PhotoInput
from network_hub.newsroom.submission import clean_body, submit_item
from network_hub.newsroom.text import default_title, is_derived_title, normalize_text
from network_hub.permissions import ROOT_AREA, Action, Actor, decide
from network_hub.states import AreaLevel, Category, ItemStatus
from publishers.base import Post, PostPhoto
from publishers.plan import PostPlan
from publishers.render import plan_telegram

log = logging.getLogger(__name__)

CHOOSE_VILLAGE = "choose_village"
CHOOSE_CATEGORY = "choose_category"
WRITE_TEXT = "write_text"
ADD_PHOTOS = "add_photos"
ASK_CHILDREN = "ask_children"
ASK_PEOPLE = "ask_people"
ASK_CONSENT = "ask_consent"
CONFIRM = "confirm"
RESUBMIT_TEXT = "resubmit_text"
END = ConversationHandler.END
MAX_VILLAGE_BUTTONS = 30
ALBUM_SETTLE_S = 1.0
CATEGORY_EN = {"development_result": "Development result", "local_product": "Local product",
               "community_charm": "Community charm", "announcement": "Announcement", "event": "Event"}


def category_label(category: str, language: str) -> str:
    return CATEGORY_EN.get(category, category) if language == "en" else CATEGORY_TH.get(category, category)


def submit_villages(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """Villages the actor may send news for: (code, label), at most ``MAX_VILLAGE_BUTTONS``."""
    query = select(Area).where(Area.level == AreaLevel.VILLAGE).order_by(Area.code)
    found: list[tuple[str, str]] = []
    areas = {area for _role, area in actor.grants}
    for area in session.scalars(query):
        if any(a == ROOT_AREA or area.code.startswith(a) for a in areas) and decide(actor, Action.SUBMIT, area.code):
            found.append((area.code, village_label(area)))
            if len(found) >= MAX_VILLAGE_BUTTONS:
                break
    return found


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    data = context.user_data
    assert data is not None
    draft: dict[str, Any] = data.setdefault("draft", {})
    return draft


def _lang(context: ContextTypes.DEFAULT_TYPE) -> str:
    return str(_draft(context).get("lang", "th"))


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=callbacks.checked(data))
                                  for label, data in row] for row in rows])


def _yes_no(language: str) -> InlineKeyboardMarkup:
    return _keyboard([[(raw("yes", language), "n:q:y"), (raw("no", language), "n:q:n")]])


def _photo_keyboard(language: str, has_photos: bool) -> InlineKeyboardMarkup:
    row = [(raw("btn_done", language), "n:done")]
    if not has_photos:
        row.append((raw("btn_no_photos", language), "n:done"))
    return _keyboard([row])


async def _answer(update: Update) -> str:
    """Acknowledge a button press at once; returns its data."""
    query = update.callback_query
    assert query is not None
    with contextlib.suppress(TelegramError):  # a late answer ("query is too old") must not stop the step
        await query.answer()
    return query.data or ""


# -- /news ----------------------------------------------------------------------------------------
async def start_news(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Entry: check the member, pick the village (or skip when there is one), ask the category."""
    user = update.effective_user
    assert user is not None
    who = await who_is(context, user.id)
    if who is None:
        await reply(update, t("not_member", "th"))
        return END
    if not who.active:
        await reply(update, t("suspended", who.language))
        return END
    villages = await in_db(hub_of(context), lambda s, _now: submit_villages(s, who.actor))
    if not villages:
        await reply(update, t("no_villages", who.language))
        return END
    assert context.user_data is not None
    context.user_data["draft"] = {"lang": who.language, "photos": [], "consent": {}}
    if len(villages) == 1:
        return await _ask_category(update, context, *villages[0])
    await reply(update, t("ask_village", who.language),
                reply_markup=_keyboard([[(label, f"n:v:{code}")] for code, label in villages]))
    return CHOOSE_VILLAGE


async def _ask_category(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, label: str) -> str:
    draft = _draft(context)
    draft["village"], draft["village_label"] = code, label
    language = _lang(context)
    rows = [[(category_label(c.value, language), f"n:c:{c.value}")] for c in Category]
    await reply(update, t("ask_category", language, village=label), reply_markup=_keyboard(rows))
    return CHOOSE_CATEGORY


async def chose_village(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """CHOOSE_VILLAGE: the press names a village; it must be one the reporter may send for."""
    data = await _answer(update)
    code = data.removeprefix("n:v:")
    user = update.effective_user
    assert user is not None

    def allowed(session: Session, _now: datetime) -> list[tuple[str, str]]:
        who = who_in_session(session, user.id)
        return submit_villages(session, who.actor) if who else []

    villages = dict(await in_db(hub_of(context), allowed))
    if code not in villages:
        await reply(update, t("button_expired", _lang(context)))
        return CHOOSE_VILLAGE
    return await _ask_category(update, context, code, villages[code])


async def chose_category(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """CHOOSE_CATEGORY: store the category, ask for the text."""
    data = await _answer(update)
    value = data.removeprefix("n:c:")
    language = _lang(context)
    if value not in {c.value for c in Category}:
        await reply(update, t("button_expired", language))
        return CHOOSE_CATEGORY
    _draft(context)["category"] = value
    await reply(update, t("ask_text", language, category=category_label(value, language)))
    return WRITE_TEXT


async def wrote_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """WRITE_TEXT: validate the text (length, not empty) now, so the reporter can fix it at once."""
    message = update.effective_message
    assert message is not None
    language = _lang(context)
    try:
        body = clean_body(message.text or "")
    except HubError as exc:
        await reply_error(update, exc, language)
        return WRITE_TEXT
    _draft(context)["body"] = body
    await reply(update, t("ask_photos", language), reply_markup=_photo_keyboard(language, False))
    return ADD_PHOTOS


async def need_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    await reply(update, t("need_text", _lang(context)))
    return WRITE_TEXT


# -- photos -----------------------------------------------------------------------------------------
_album_acks: set[str] = set()


async def got_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """ADD_PHOTOS: keep the largest size's file id. An album arrives as one update per photo, so
    its acknowledgement waits until the album has settled (one message, not ten)."""
    message = update.effective_message
    assert message is not None and message.photo
    draft = _draft(context)
    language = _lang(context)
    photos: list[str] = draft.setdefault("photos", [])
    if len(photos) >= MAX_PHOTOS:
        if not message.media_group_id or message.media_group_id not in _album_acks:
            await reply(update, t("too_many_photos", language), reply_markup=_photo_keyboard(language, True))
        return ADD_PHOTOS
    photos.append(message.photo[-1].file_id)
    if message.media_group_id is None:
        await reply(update, t("photos_received", language, count=len(photos)),
                    reply_markup=_photo_keyboard(language, True))
        return ADD_PHOTOS
    group = f"{message.chat_id}:{message.media_group_id}"
    if group not in _album_acks:
        _album_acks.add(group)
        context.application.create_task(_ack_album(update, context, group), update=update)
    return ADD_PHOTOS


async def _ack_album(update: Update, context: ContextTypes.DEFAULT_TYPE, group: str) -> None:
    await asyncio.sleep(ALBUM_SETTLE_S)
    language = _lang(context)
    count = len(_draft(context).get("photos", []))
    try:
        await reply(update, t("photos_received", language, count=count), reply_markup=_photo_keyboard(language, True))
    finally:
        _album_acks.discard(group)


async def need_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    language = _lang(context)
    await reply(update, t("need_photo", language), reply_markup=_photo_keyboard(language, bool(_draft(context)
                                                                                                .get("photos"))))
    return ADD_PHOTOS


async def photos_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """ADD_PHOTOS «done»: with photos, ask the consent questions; without, show the preview."""
    await _answer(update)
    language = _lang(context)
    if _draft(context).get("photos"):
        await reply(update, t("ask_children", language), reply_markup=_yes_no(language))
        return ASK_CHILDREN
    return await _preview(update, context)


async def answered_children(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    data = await _answer(update)
    _draft(context)["consent"]["photos_show_children"] = data == "n:q:y"
    language = _lang(context)
    await reply(update, t("ask_people", language), reply_markup=_yes_no(language))
    return ASK_PEOPLE


async def answered_people(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    data = await _answer(update)
    consent = _draft(context)["consent"]
    consent["identifiable_people"] = data == "n:q:y"
    language = _lang(context)
    if consent["identifiable_people"] or consent.get("photos_show_children"):
        await reply(update, t("ask_consent", language), reply_markup=_yes_no(language))
        return ASK_CONSENT
    return await _preview(update, context)


async def answered_consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    data = await _answer(update)
    _draft(context)["consent"]["consent_given"] = data == "n:q:y"
    if data != "n:q:y":
        await reply(update, t("consent_missing", _lang(context)))
    return await _preview(update, context)


# -- preview and confirm -------------------------------------------------------------------------------
def preview_post(session: Session, draft: dict[str, Any], now: datetime, language: str) -> Post:
    """The draft as the publisher will get it: the body normalised as submission stores it, the
    title submission or resubmission will store, and the photos by their Telegram file ids (so the
    plan has the same calls)."""
    body = normalize_text(draft["body"])
    photos = tuple(PostPhoto(sha256=f"preview-{i}", telegram_file_id=file_id)
                   for i, file_id in enumerate(draft.get("photos") or []))
    title = default_title(body)
    if draft.get("item_title") and not is_derived_title(draft["item_title"], draft.get("item_body", "")):
        title = draft["item_title"]  # a resubmission keeps the title that was typed
    return Post(receipt_no=raw("preview_receipt", language), category=draft["category"],
                title=title, body=body,
                attribution=attribution(session, draft["village"]), published_at=now, photos=photos)


def preview_plan(post: Post) -> PostPlan:
    """The Telegram plan of the preview: the very calls a channel will receive (publishers.render)."""
    return plan_telegram(post)


async def _preview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Show the post as the Telegram channel will show it (same renderer as the publisher)."""
    draft = _draft(context)
    language = _lang(context)
    chat = update.effective_chat
    assert chat is not None
    post = await in_db(hub_of(context), lambda s, now: preview_post(s, draft, now, language))
    await reply(update, t("preview_intro", language))
    for call in preview_plan(post).calls:  # the same calls, in the same order, as the channel gets
        photos = [post.photos[i].telegram_file_id for i in call.photo_indexes]
        if call.method == "sendMessage":
            await chat.send_message(call.text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
        elif call.method == "sendPhoto":
            await chat.send_photo(photos[0], caption=call.text, parse_mode=ParseMode.HTML)
        else:
            await chat.send_media_group([
                InputMediaPhoto(file_id, caption=call.text if i == 0 else None, parse_mode=ParseMode.HTML)
                for i, file_id in enumerate(photos)])
    prompt = "resubmit_confirm" if draft.get("resubmit") else "ask_confirm"
    await reply(update, t(prompt, language), reply_markup=_keyboard(
        [[(raw("btn_send", language), "n:ok"), (raw("btn_cancel", language), "n:x")]]))
    return CONFIRM


async def _download(context: ContextTypes.DEFAULT_TYPE, file_ids: list[str]) -> list[PhotoInput]:
    inputs = []
    for index, file_id in enumerate(file_ids):
        file = await context.bot.get_file(file_id)
        data = await file.download_as_bytearray()
        inputs.append(PhotoInput(bytes(data), f"telegram-photo-{index + 1}.jpg", file_id))
    return inputs


async def confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """CONFIRM «send»: fetch the photos, submit (or resubmit), answer with the receipt number."""
    await _answer(update)
    draft = dict(_draft(context))
    language = _lang(context)
    user = update.effective_user
    assert user is not None
    hub = hub_of(context)
    if draft.get("resubmit"):
        return await _resubmit(update, context, draft, language)
    try:
        photos = await _download(context, list(draft.get("photos") or []))
    except TelegramError:
        log.warning("could not fetch the photos of a submission", exc_info=True)
        await reply(update, t("try_later", language))
        return CONFIRM

    def submit(session: Session, now: datetime) -> str:
        who = who_in_session(session, user.id)
        if who is None:
            raise NotFound(f"telegram user {user.id} is no member", "ท่านยังไม่ได้เป็นสมาชิกของเครือข่าย")
        item = submit_item(session, actor=who.actor, author_id=who.member_id, village_code=draft["village"],
                           category=draft["category"], body=draft["body"], photos=photos,
                           consent=Consent.from_dict(draft.get("consent")) if photos else None,
                           now=now, media_dir=hub.settings.resolved_media_dir, via="bot")
        return item.receipt_no

    try:
        receipt = await in_db(hub, submit)
    except HubError as exc:
        await reply_error(update, exc, language)
        return CONFIRM
    _clear(context)
    await reply(update, t("submitted", language, receipt=receipt))
    wake_cards(context)
    return END


async def _resubmit(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any],
                    language: str) -> int | str:
    user = update.effective_user
    assert user is not None
    hub = hub_of(context)

    def work(session: Session, now: datetime) -> str:
        who = who_in_session(session, user.id)
        if who is None:
            raise PermissionDenied(f"telegram user {user.id} is no member", "ท่านยังไม่ได้เป็นสมาชิกของเครือข่าย")
        item = resubmit_item(session, int(draft["resubmit"]), actor=who.actor, body=draft["body"],
                             expected_version=int(draft["version"]), now=now,
                             media_dir=hub.settings.resolved_media_dir, via="bot")
        return item.receipt_no

    try:
        receipt = await in_db(hub, work)
    except HubError as exc:
        await reply_error(update, exc, language)
        _clear(context)
        return END
    _clear(context)
    await reply(update, t("resubmitted", language, receipt=receipt))
    wake_cards(context)
    return END


# -- resubmit (from the "returned" DM) --------------------------------------------------------------
async def start_resubmit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Entry from «edit and resend»: only the author, only while the item is returned."""
    data = await _answer(update)
    parsed = callbacks.parse_resubmit(data)
    user = update.effective_user
    assert user is not None
    if parsed is None:
        return END
    item_id, _version = parsed

    def load(session: Session, _now: datetime) -> tuple[Who | None, dict[str, Any] | None]:
        who = who_in_session(session, user.id)
        item = session.get(NewsItem, item_id)
        if who is None or item is None or item.author_id != who.member_id:
            return who, None
        return who, {"status": item.status, "version": item.version, "receipt": item.receipt_no,
                     "reason": item.decision_reason or "", "village": item.village_code,
                     "category": item.category, "photos": [p.telegram_file_id for p in item.photos
                                                          if p.telegram_file_id],
                     "title": item.title, "body": item.body}

    who, item = await in_db(hub_of(context), load)
    language = who.language if who else "th"
    if who is None or item is None:
        await reply(update, t("not_member_press", language) if who is None else t("button_expired", language))
        return END
    if item["status"] != ItemStatus.CHANGES_REQUESTED:
        await reply(update, t("button_expired", language))
        return END
    assert context.user_data is not None
    context.user_data["draft"] = {"lang": language, "resubmit": item_id, "version": item["version"],
                                  "village": item["village"], "category": item["category"],
                                  "photos": item["photos"], "consent": {},
                                  # the preview keeps a typed title as resubmission will (title_after_text_change)
                                  "item_title": item["title"], "item_body": item["body"]}
    await reply(update, t("resubmit_ask_text", language, receipt=item["receipt"], reason=item["reason"]))
    return RESUBMIT_TEXT


async def resubmit_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    message = update.effective_message
    assert message is not None
    language = _lang(context)
    try:
        body = clean_body(message.text or "")
    except HubError as exc:
        await reply_error(update, exc, language)
        return RESUBMIT_TEXT
    _draft(context)["body"] = body
    return await _preview(update, context)


# -- cancel -----------------------------------------------------------------------------------------
def _clear(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop("draft", None)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/cancel or «cancel» at any step: nothing is saved."""
    if update.callback_query is not None:
        await _answer(update)
    language = _lang(context)
    _clear(context)
    await reply(update, t("cancelled", language))
    return END


def build_submit_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND & private
    other = ~filters.COMMAND & private
    return ConversationHandler(
        entry_points=[
            CommandHandler("news", start_news, filters=private),
            CallbackQueryHandler(start_resubmit, pattern=r"^rs:"),
        ],
        states={
            CHOOSE_VILLAGE: [CallbackQueryHandler(chose_village, pattern=r"^n:v:")],
            CHOOSE_CATEGORY: [CallbackQueryHandler(chose_category, pattern=r"^n:c:")],
            WRITE_TEXT: [MessageHandler(text, wrote_text), MessageHandler(other, need_text)],
            ADD_PHOTOS: [
                MessageHandler(filters.PHOTO & private, got_photo),
                CallbackQueryHandler(photos_done, pattern=r"^n:done$"),
                CommandHandler("done", photos_done_command, filters=private),
                MessageHandler(other, need_photo),
            ],
            ASK_CHILDREN: [CallbackQueryHandler(answered_children, pattern=r"^n:q:[yn]$")],
            ASK_PEOPLE: [CallbackQueryHandler(answered_people, pattern=r"^n:q:[yn]$")],
            ASK_CONSENT: [CallbackQueryHandler(answered_consent, pattern=r"^n:q:[yn]$")],
            RESUBMIT_TEXT: [MessageHandler(text, resubmit_text), MessageHandler(other, need_text_resubmit)],
            CONFIRM: [CallbackQueryHandler(confirmed, pattern=r"^n:ok$")],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^n:x$"),
        ],
        allow_reentry=True,
        name="submit_news",
        persistent=True,
    )


async def photos_done_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """``/done`` typed instead of pressing the button."""
    language = _lang(context)
    if _draft(context).get("photos"):
        await reply(update, t("ask_children", language), reply_markup=_yes_no(language))
        return ASK_CHILDREN
    return await _preview(update, context)


async def need_text_resubmit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    await reply(update, t("need_text", _lang(context)))
    return RESUBMIT_TEXT
