"""The DM side of the outbox: one short message per notification, in the member's language.

``BotNotifier.send`` never raises. Telegram's answers map to outcomes:

- sent → ``sent``;
- ``Forbidden`` (blocked, never started the bot) or "chat not found" → ``unreachable``, and the
  member is marked unreachable (shown on the dashboard; cleared when they write to the bot);
- ``RetryAfter`` → ``pending`` with Telegram's ``retry_after``;
- connection problems and timeouts → ``pending`` in a minute (a DM is not a public post: a rare
  duplicate DM is better than a lost one);
- anything else (a bad request) → ``failed`` with the reason.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from network_hub.bot import callbacks
from network_hub.bot.common import NO_PREVIEW, retry_after_seconds
from network_hub.bot.texts import raw, t
from network_hub.db.models import Member, Notification
from network_hub.hub import Hub
from network_hub.notifications import NotificationKind, SendOutcome
from network_hub.roster.members import mark_unreachable
from network_hub.states import NotificationState
from network_hub.thai import be_date, be_datetime

log = logging.getLogger(__name__)
K = NotificationKind
UNREACHABLE_WORDS = ("chat not found", "user not found", "bot was blocked", "user is deactivated",
                     "bot can't initiate conversation")
ITEM_KINDS = {
    K.ITEM_RECEIVED: "n_item_received", K.ITEM_APPROVED: "n_item_approved", K.ITEM_SCHEDULED: "n_item_scheduled",
    K.ITEM_PUBLISHED: "n_item_published", K.ITEM_PARTIALLY_PUBLISHED: "n_item_partially_published",
    K.ITEM_FAILED: "n_item_failed", K.ITEM_RETURNED: "n_item_returned", K.ITEM_REJECTED: "n_item_rejected",
    K.ITEM_EDITED: "n_item_edited", K.ITEM_WITHDRAWN: "n_item_withdrawn", K.ITEM_UNSCHEDULED: "n_item_unscheduled",
}
MAX_ENTRIES = 10


def _when(value: Any, language: str) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value))
    return be_datetime(moment) if language == "th" else moment.astimezone(_bangkok()).strftime("%d %b %Y %H:%M")


def _bangkok() -> Any:
    from network_hub.thai import BANGKOK

    return BANGKOK


def _links(payload: dict[str, Any], language: str) -> str:
    lines = []
    for link in payload.get("links") or []:
        target = link.get("permalink") or raw("no_link", language)
        lines.append(f"• {link.get('outlet', '')}: {target}")
    return "\n".join(lines)


def _entries(payload: dict[str, Any], line: Callable[[dict[str, Any]], str]) -> str:
    rows = list(payload.get("entries") or [])[:MAX_ENTRIES]
    text = "\n".join(f"• {line(row)}" for row in rows)
    extra = int(payload.get("count") or len(rows)) - len(rows)
    return text + (f"\n… +{extra}" if extra > 0 else "")


def _reminder(payload: dict[str, Any], language: str) -> str:
    rule = payload.get("rule")
    if rule == "quiet_village":
        return t("n_quiet_village", language, village=payload.get("village_name", payload.get("village", "")),
                 days=payload.get("days", ""))
    if rule == "quiet_villages_escalation":
        return t("n_quiet_escalation", language, count=payload.get("count", 0),
                 entries=_entries(payload, lambda r: f"{r.get('village_name', r.get('village'))} "
                                                     f"({r.get('days')} วัน)"))
    if rule in ("pending_approval", "pending_approval_escalation"):
        return t("n_pending_approval", language, count=payload.get("count", 0),
                 entries=_entries(payload, lambda r: f"{r.get('receipt_no')} {r.get('title', '')} "
                                                     f"({r.get('hours')} ชม.)"))
    if rule == "delivery_problems":
        return t("n_delivery_problems", language, count=payload.get("count", 0),
                 entries=_entries(payload, lambda r: f"{r.get('receipt_no')} → {r.get('outlet')} "
                                                     f"({r.get('state')})"))
    if rule == "outlet_needs_reconnect":
        return t("n_outlet_reconnect", language, outlet=payload.get("outlet", ""),
                 platform=payload.get("platform", ""), reason=payload.get("reason", ""))
    return t("n_reminder", language)


def _digest(payload: dict[str, Any], language: str) -> str:
    totals = payload.get("totals") or {}
    villages = list(payload.get("villages") or [])[:MAX_ENTRIES]
    entries = "\n".join(
        f"• {v.get('village')}: {v.get('submitted', 0)}/{v.get('published', 0)}/{v.get('waiting', 0)}"
        for v in villages)
    start = be_date(datetime.fromisoformat(payload["from"])) if payload.get("from") else ""
    end = be_date(datetime.fromisoformat(payload["to"])) if payload.get("to") else ""
    text = t("n_digest", language, area=payload.get("area", ""), start=start, end=end,
             submitted=totals.get("submitted", 0), published=totals.get("published", 0),
             waiting=totals.get("waiting", 0), entries=entries)
    least = payload.get("least_shared_on_line") or []
    if least:  # LINE hook (issue 14): ask village admins to share these with one tap
        head = "แชร์ไปยัง LINE น้อยที่สุด:" if language == "th" else "Shared least on LINE:"
        text += "\n" + head + "\n" + "\n".join(
            f"• {html.escape(str(e.get('receipt_no', '')))} {html.escape(str(e.get('title', ''))[:60])} "
            f"({e.get('shares', 0)})" for e in least)
    return text


def render_notification(kind: str, payload: dict[str, Any], language: str,
                        item_id: int | None = None) -> tuple[str, InlineKeyboardMarkup | None]:
    """The DM text (HTML) and its buttons for one notification."""
    p = payload or {}
    if kind in ITEM_KINDS:
        text = t(ITEM_KINDS[kind], language, title=p.get("title", ""), receipt=p.get("receipt_no", ""),
                 reason=p.get("reason", ""), when=_when(p.get("scheduled_at"), language), links=_links(p, language))
        markup = None
        if kind == K.ITEM_RETURNED and item_id is not None:  # the version is checked when the edit is sent
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                raw("btn_edit_resubmit", language), callback_data=callbacks.resubmit(item_id, 0))]])
        return text, markup
    if kind == K.REMINDER:
        return _reminder(p, language), None
    if kind == K.DIGEST:
        return _digest(p, language), None
    if kind == K.DELIVERY_NEEDS_PERSON:
        if p.get("state") == "unknown" and p.get("delivery_id"):
            delivery_id = int(p["delivery_id"])
            markup = InlineKeyboardMarkup([[
                InlineKeyboardButton(raw("btn_is_posted", language),
                                     callback_data=callbacks.delivery("p", delivery_id)),
                InlineKeyboardButton(raw("btn_send_again", language),
                                     callback_data=callbacks.delivery("n", delivery_id)),
            ]])
            text = t("n_delivery_unknown", language, receipt=p.get("receipt_no", ""), outlet=p.get("outlet", ""))
            return text, markup
        return t("n_delivery_failed", language, receipt=p.get("receipt_no", ""), outlet=p.get("outlet", ""),
                 error=p.get("error", "")), None
    if kind == K.OUTLET_NEEDS_HUMAN:
        return t("n_outlet_needs_human", language, outlet=p.get("outlet", ""), platform=p.get("platform", ""),
                 reason=p.get("reason", "")), None
    return t("n_generic", language, kind=kind), None


class BotNotifier:
    """Implements ``network_hub.notifications.Notifier`` over the bot's ``Bot``."""

    def __init__(self, hub: Hub, bot: Callable[[], Bot | None]) -> None:
        self.hub = hub
        self._bot = bot  # the application's bot once initialised

    async def send(self, notification: Notification, member: Member) -> SendOutcome:
        try:
            return await self._send(notification, member)
        except Exception as exc:  # the contract: never raise
            log.exception("notification %s could not be sent", notification.id)
            return SendOutcome(NotificationState.PENDING, f"internal error: {exc}"[:300], 60.0)

    async def _send(self, notification: Notification, member: Member) -> SendOutcome:
        bot = self._bot()
        if bot is None:
            return SendOutcome(NotificationState.PENDING, "the bot is not started yet", 10.0)
        if not member.telegram_user_id:
            await self._unreachable(member.id)
            return SendOutcome(NotificationState.UNREACHABLE, "the member has no Telegram account linked")
        language = member.language or "th"
        text, markup = render_notification(notification.kind, dict(notification.payload or {}), language,
                                           notification.item_id)
        try:
            await bot.send_message(member.telegram_user_id, text, parse_mode=ParseMode.HTML,
                                   link_preview_options=NO_PREVIEW, reply_markup=markup)
        except RetryAfter as exc:
            return SendOutcome(NotificationState.PENDING, f"rate limited: {exc.message}",
                               retry_after_seconds(exc) + 0.5)
        except Forbidden as exc:
            await self._unreachable(member.id)
            return SendOutcome(NotificationState.UNREACHABLE, exc.message[:300])
        except ChatMigrated as exc:  # a private chat never migrates; treat as a permanent oddity
            return SendOutcome(NotificationState.FAILED, str(exc)[:300])
        except BadRequest as exc:
            if any(word in exc.message.lower() for word in UNREACHABLE_WORDS):
                await self._unreachable(member.id)
                return SendOutcome(NotificationState.UNREACHABLE, exc.message[:300])
            return SendOutcome(NotificationState.FAILED, exc.message[:300])
        except NetworkError as exc:  # includes TimedOut
            return SendOutcome(NotificationState.PENDING, f"network: {exc.message}"[:300], 60.0)
        except TelegramError as exc:
            return SendOutcome(NotificationState.FAILED, exc.message[:300])
        return SendOutcome(NotificationState.SENT)

    async def _unreachable(self, member_id: int) -> None:
        def mark() -> None:
            with self.hub.transaction() as session:
                mark_unreachable(session, member_id, self.hub.clock.now())

        await asyncio.to_thread(mark)
