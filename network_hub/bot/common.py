"""What every handler shares: the hub, database work off the event loop, who is writing, replies.

Handlers never touch the database on the event loop: ``in_db`` runs a function in a worker thread
inside one transaction (commit on success, rollback on any error, so a refused action changes
nothing). What crosses back to the loop are plain values (``Who``, dicts), never live ORM state.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import RetryAfter
from telegram.ext import ContextTypes

from network_hub.bot.texts import t
from network_hub.db.models import Member
from network_hub.errors import HubError
from network_hub.hub import Hub
from network_hub.permissions import Actor, load_actor
from network_hub.states import MemberStatus

log = logging.getLogger(__name__)
T = TypeVar("T")
HUB_KEY = "hub"
WAKE_CARDS_KEY = "wake_cards"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's wait in seconds (PTB 22 warns on access while it moves from int to timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return float(value.total_seconds() if isinstance(value, timedelta) else value)


def hub_of(context: ContextTypes.DEFAULT_TYPE) -> Hub:
    hub: Hub = context.application.bot_data[HUB_KEY]
    return hub


async def in_db(hub: Hub, fn: Callable[[Session, datetime], T]) -> T:
    """Run ``fn(session, now)`` in one transaction in a worker thread."""

    def work() -> T:
        with hub.transaction() as session:
            return fn(session, hub.clock.now())

    return await asyncio.to_thread(work)


@dataclass(frozen=True)
class Who:
    """The member behind a Telegram user, as plain values."""

    member_id: int
    name: str
    language: str
    status: str
    actor: Actor

    @property
    def active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


def who_in_session(session: Session, telegram_user_id: int) -> Who | None:
    member = session.scalar(select(Member).where(Member.telegram_user_id == telegram_user_id))
    if member is None:
        return None
    return Who(member.id, member.name, member.language or "th", member.status, load_actor(session, member.id))


async def who_is(context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int) -> Who | None:
    return await in_db(hub_of(context), lambda s, _now: who_in_session(s, telegram_user_id))


async def member_or_explain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Who | None:
    """The member behind this update; a non-member is told how to join and gets None."""
    user = update.effective_user
    assert user is not None
    who = await who_is(context, user.id)
    if who is None:
        await reply(update, t("not_member", language_of(None, update)))
    return who


def language_of(who: Who | None, update: Update | None = None) -> str:
    if who is not None:
        return who.language
    code = update.effective_user.language_code if update and update.effective_user else None
    return "en" if code and not code.startswith("th") else "th"


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat the update came from (HTML; no link previews)."""
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                            **kwargs)  # type: ignore[arg-type]


async def reply_error(update: Update, error: HubError, language: str) -> None:
    await reply(update, t("error", language, reason=error.message(language)))


def wake_cards(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask the moderation card sync to run now (an item was submitted or decided here)."""
    wake: Callable[[], None] | None = context.application.bot_data.get(WAKE_CARDS_KEY)
    if wake is not None:
        wake()
