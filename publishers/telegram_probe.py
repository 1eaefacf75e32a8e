"""Settling Telegram ``unknown`` deliveries without a person: read the channel by message id.

The Bot API cannot list a channel's messages, but a bot that is an administrator can forward one
by id. Message ids in a chat are sequential in the order messages REACHED Telegram — with
overlapping sends (several workers, several deliveries of one pass in flight) not the order the
hub marked its deliveries ``sending``. The probe forwards ids one by one into a private chat the
hub owns for this (``HUB_TELEGRAM_PROBE_CHAT_ID``), reads the receipt markers (``รหัสข่าว
<receipt>``, in the last message of every rendered post: a multi-part post's earlier parts carry
none) and deletes what it forwarded. The caller (``reconcile_queries``) gives:

- ``after_id``, a lower bound surely before the post: the delivery's own known parts, else the
  last id of the hub's posts whose ids were known (``sent_at``) before this send began. There is
  no upper bound: a post started later may land earlier, and an answer lost in flight may land
  late;
- ``skip_ids``, the known ids of the hub's other deliveries in that chat (any state): never
  forwarded, neither this post's nor someone else's; each one skipped widens the scan by one.

From ``after_id + 1`` for ``span`` ids (plus the skipped ones), the existing messages form runs:

- a message with OUR marker → **found**: the post's ids are the run that ends there (the
  unmarked messages since the last boundary: its earlier parts), then any directly following
  messages with our marker; the next other message, skipped id or missing id ends the post;
- a message with ANOTHER receipt's marker is another hub post: it and the unmarked messages
  before it in the current run (its earlier parts) are not ours; it ends the run;
- **absent** (nothing was posted, safe to send again) only when no message carries our marker,
  every existing id scanned is another post's for sure (a skipped id, or a message with another
  marker), and the last id scanned does not exist (the scan went past the end). Unmarked messages
  before another marker are not taken as ours, but they do not prove "absent" either: one may be
  this post's lone first part (its answer lost, the later parts never sent), and sending again
  would post it twice. Once the other post is settled its ids are skipped, and a later pass can
  decide;
- anything else — an unmarked message no marker accounts for (someone else posted, or a part of
  a post still unseen), a busy chat whose scan never reached the end, the channel or the probe
  chat unreadable, no probe chat configured, a network error → **undecided**: the delivery stays
  with a person (PublishError AMBIGUOUS, never a guess). When in doubt, never "absent".

Every forward is a message into the probe chat and, with its delete, two calls against the bot's
30 a second: the caller passes a ``budget`` (an async context manager entered around each forward
and its delete) that charges them to the send ledger and waits, or refuses with
PublishError(RATE_LIMITED) when the window is full; a 429 from Telegram is refused the same way.
A refused probe has settled nothing; what it forwarded so far is already deleted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, RetryAfter, TelegramError

from network_hub.states import ErrorClass
from publishers.base import PublishError
from publishers.render import MARKER_PREFIX
from publishers.telegram import _retry_after_seconds

log = logging.getLogger(__name__)
DEFAULT_SPAN = 12  # ids looked at past the lower bound: the longest post plus others' messages
Budget = Callable[[], AbstractAsyncContextManager[Any]]
_MARKER = re.compile(re.escape(MARKER_PREFIX) + r"\s+(\S+)")


@dataclass(frozen=True)
class ProbeResult:
    found_ids: list[str] | None  # None: surely absent


def _not_found(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, BadRequest) and "not found" in text and "message" in text and "chat" not in text


def receipts_in(text: str) -> set[str]:
    """The receipt numbers of the markers in a message's text (exact tokens: ``NH-2569-000012``
    is not ``NH-2569-0000123``)."""
    return set(_MARKER.findall(text or ""))


async def _read(bot: Any, *, channel: int | str, probe_chat: int | str, message_id: int,
                budget: Budget | None) -> str | None:
    """The text and caption of ``message_id`` in ``channel`` (forwarded, then deleted), or None
    when there is no such message."""
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
                return None
            raise PublishError(ErrorClass.AMBIGUOUS, f"cannot read channel {channel} by forwarding message "
                               f"{message_id}: {exc}; a person must look", code="probe_unreadable") from None
        try:
            await bot.delete_message(chat_id=probe_chat, message_id=forwarded.message_id)
        except TelegramError as exc:  # the probe chat keeps a copy; nothing in the channel changes
            log.warning("probe: could not delete forwarded message %s: %s", forwarded.message_id, exc)
    return (forwarded.text or "") + "\n" + (forwarded.caption or "")


async def probe(bot: Any, *, channel: int | str, probe_chat: int | str, marker: str, after_id: int,
                skip_ids: Collection[int] = (), span: int = DEFAULT_SPAN,
                budget: Budget | None = None) -> ProbeResult:
    """Look for ``marker`` in the ids after ``after_id``; see the module's rules."""
    if not str(probe_chat).strip():
        raise PublishError(ErrorClass.AMBIGUOUS, "no probe chat: set HUB_TELEGRAM_PROBE_CHAT_ID to a private chat "
                           "the bot can post in, or a person must look at the channel", code="no_probe_chat")
    ours = receipts_in(marker)

    def is_ours(text: str, receipts: set[str]) -> bool:
        return bool(receipts & ours) if ours else marker in text

    skip = {int(i) for i in skip_ids if int(i) > after_id}
    run: list[int] = []  # unmarked messages since the last boundary: parts of a post not yet seen
    doubtful: list[int] = []  # unmarked messages before another marker: not ours, not proof of absence
    found: list[int] = []  # our post: the run ending at our marker, then messages with our marker
    last = after_id + span
    last_missing = False  # the last id read does not exist
    message_id = after_id
    while message_id < last:
        message_id += 1
        if message_id in skip:  # another delivery's known message: not ours, not foreign
            last += 1
            if found:
                break
            continue
        text = await _read(bot, channel=channel, probe_chat=probe_chat, message_id=message_id, budget=budget)
        last_missing = text is None
        if text is None:
            if found:
                break  # the found post's run ended
            continue
        receipts = receipts_in(text)
        if is_ours(text, receipts):
            found = [*found, message_id] if found else [*run, message_id]
            run = []
            continue
        if found:
            break  # a message after the post that is not part of it
        if receipts:
            doubtful += run  # another hub post and (most likely) its earlier parts
            run = []
        else:
            run.append(message_id)
    if found:
        return ProbeResult([str(i) for i in found])
    unmarked = run + doubtful
    if not unmarked and last_missing:
        return ProbeResult(None)
    if unmarked:
        raise PublishError(ErrorClass.AMBIGUOUS, f"{len(unmarked)} message(s) after the last known post in "
                           f"{channel} carry no marker and no known post holds them (someone else's, or parts "
                           "of a post not settled yet); a person must look", code="probe_foreign_messages")
    raise PublishError(ErrorClass.AMBIGUOUS, f"the probe read {last - after_id} ids after the last known post in "
                       f"{channel} without reaching the end of the chat or this post's marker; a person must "
                       "look", code="probe_no_end")
