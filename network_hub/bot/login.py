"""``/login``: a one-time sign-in link for the web dashboard, sent by DM (private chats only)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from network_hub.bot.common import hub_of, in_db, member_or_explain, reply, reply_error
from network_hub.bot.texts import t
from network_hub.errors import HubError

log = logging.getLogger(__name__)


async def login_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    who = await member_or_explain(update, context)
    if who is None:
        return
    try:
        from network_hub.web.login_links import create_login_link
    except ImportError:
        await reply(update, t("login_unavailable", who.language))
        return
    hub = hub_of(context)

    def make(session: Session, now: datetime) -> str:
        return create_login_link(session, who.member_id, now, settings=hub.settings)

    try:
        link = await in_db(hub, make)
    except HubError as exc:
        await reply_error(update, exc, who.language)
        return
    await reply(update, t("login_link", who.language, link=link))


def login_handlers() -> list[object]:
    return [CommandHandler("login", login_command, filters=filters.ChatType.PRIVATE)]
