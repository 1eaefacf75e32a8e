"""``/lang``: a member chooses Thai or English for everything the bot tells them.

The flow: ``/lang`` ─► two buttons (``l:th`` / ``l:en``) ─► the member's ``language`` is saved
(audited) and the bot answers in the new language.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from network_hub import audit
from network_hub.bot.common import hub_of, in_db, member_or_explain, reply
from network_hub.bot.texts import t
from network_hub.db.models import Member
from network_hub.errors import NotFound
from network_hub.roster.members import clean_language


async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    who = await member_or_explain(update, context)
    if who is None:
        return
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("ไทย", callback_data="l:th"),
                                    InlineKeyboardButton("English", callback_data="l:en")]])
    await reply(update, t("lang_choose", who.language), reply_markup=markup)


def set_language(session: Session, telegram_user_id: int, language: str, now: datetime) -> None:
    from sqlalchemy import select

    member = session.scalar(select(Member).where(Member.telegram_user_id == telegram_user_id))
    if member is None:
        raise NotFound(f"telegram user {telegram_user_id} is no member", "ท่านยังไม่ได้เป็นสมาชิกของเครือข่าย")
    value = clean_language(language)
    if member.language == value:
        return
    before = member.language
    member.language = value
    member.updated_at = now
    audit.record(session, at=now, action="member.language", object_type="member", object_id=member.id,
                 actor_id=member.id, actor_label="bot", before={"language": before}, after={"language": value})


async def lang_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    language = (query.data or "").removeprefix("l:")
    try:
        await in_db(hub_of(context), lambda s, now: set_language(s, query.from_user.id, language, now))
    except Exception as exc:
        message = getattr(exc, "message", None)
        text = message("th") if callable(message) else t("button_expired", "th")
        with contextlib.suppress(TelegramError):
            await query.answer(text[:190], show_alert=True)
        return
    with contextlib.suppress(TelegramError):
        await query.answer()
    await reply(update, t("lang_set", language))


def lang_handlers() -> list[object]:
    return [CommandHandler("lang", lang_command), CallbackQueryHandler(lang_chosen, pattern=r"^l:(th|en)$")]
