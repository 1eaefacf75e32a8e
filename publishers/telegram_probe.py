"""Settling Telegram ``unknown`` deliveries without a person: read the channel by message id.

The Bot API cannot list a channel's messages, but a bot that is an administrator can forward one
by id. Message ids in a chat are sequential, so the post of an unknown delivery, if it exists, has
the ids right after the last post the hub knows in that chat (``after_id``) and before the next
known one (``before_id``, when there is one). The probe forwards those ids one by one into a
private chat the hub owns for this (``HUB_TELEGRAM_PROBE_CHAT_ID``), reads the receipt marker
(``รหัสข่าว <receipt>``, in every rendered post) and deletes what it forwarded:

- a message carrying the marker → **found**: the post's ids are the messages from the first one
  after ``after_id`` through the run that contains the marker (parts and caption replies);
- every id after ``after_id`` "not found" for ``span`` ids (past the end of the chat) → **absent**:
  nothing was posted, safe to send again;
- anything else — a message there without the marker (someone else posted), the channel or the
  probe chat unreadable, no probe chat configured, a network error → **undecided**: the delivery
  stays with a person (PublishError AMBIGUOUS, never a guess).

Every forward is a message into the probe chat and, with its delete, two calls against the bot's
30 a second: the caller passes a ``budget`` (an async context manager entered around each forward
and its delete) that charges them to the send ledger and waits, or refuses with
PublishError(RATE_LIMITED) when the window is full; a 429 from Telegram is refused the same way.
A refused probe has settled nothing; what it forwarded so far is already deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, RetryAfter, TelegramError

from network_hub.states import ErrorClass
from publishers.base import PublishError
from publishers.telegram import _retry_after_seconds

log = logging.getLogger(__name__)
DEFAULT_SPAN = 12  # ids looked at past the last known post: the longest post plus others' messages
Budget = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True)
class ProbeResult:
    found_ids: list[str] | None  # None: surely absent


def _not_found(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, BadRequest) and "not found" in text and "message" in text and "chat" not in text


async def probe(bot: Any, *, channel: int | str, probe_chat: int | str, marker: str, after_id: int,
                before_id: int | None = None, span: int = DEFAULT_SPAN, budget: Budget | None = None) -> ProbeResult:
    """Look for ``marker`` in the ids after ``after_id``; see the module's rules."""
    if not str(probe_chat).strip():
        raise PublishError(ErrorClass.AMBIGUOUS, "no probe chat: set HUB_TELEGRAM_PROBE_CHAT_ID to a private chat "
                           "the bot can post in, or a person must look at the channel", code="no_probe_chat")
    seen: list[int] = []  # existing message ids after after_id, in order
    marker_at: int | None = None
    misses = 0
    last = before_id - 1 if before_id is not None else after_id + span
    message_id = after_id
    while message_id < last:
        message_id += 1
        async with budget() if budget is not None else nullcontext():
            try:
                forwarded = await bot.forward_message(chat_id=probe_chat, from_chat_id=channel,
                                                      message_id=message_id, disable_notification=True)
            except RetryAfter as exc:
                wait = _retry_after_seconds(exc)
                raise PublishError(ErrorClass.RATE_LIMITED, f"Telegram flood control while probing {channel}; "
                                   f"try again in {wait:.0f} s", code=429, retry_after=wait) from None
            except TelegramError as exc:
                if _not_found(exc):
                    misses += 1
                    if marker_at is not None:
                        break  # the found post's run ended
                    continue
                raise PublishError(ErrorClass.AMBIGUOUS, f"cannot read channel {channel} by forwarding message "
                                   f"{message_id}: {exc}; a person must look", code="probe_unreadable") from None
            misses = 0
            text = (forwarded.text or "") + (forwarded.caption or "")
            try:
                await bot.delete_message(chat_id=probe_chat, message_id=forwarded.message_id)
            except TelegramError as exc:  # the probe chat keeps a copy; nothing in the channel changes
                log.warning("probe: could not delete forwarded message %s: %s", forwarded.message_id, exc)
        seen.append(message_id)
        if marker in text:
            marker_at = message_id
        elif marker_at is not None:
            seen.pop()  # a message after the post that is not part of it
            break
    if marker_at is not None:
        return ProbeResult([str(i) for i in seen])
    if not seen:
        return ProbeResult(None)
    raise PublishError(ErrorClass.AMBIGUOUS, f"{len(seen)} message(s) after the last known post in {channel} do not "
                       "carry this post's marker; a person must look", code="probe_foreign_messages")
