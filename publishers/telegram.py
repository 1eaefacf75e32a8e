"""Telegram channels and groups through python-telegram-bot 22 (``telegram.Bot``).

Layout of a post (``external_ids`` keep this order, so ``edit`` and ``delete`` can find parts):
- no photo: the text, split into messages of ≤ 4096 visible UTF-16 units at Thai word boundaries;
- one photo: ``sendPhoto``; 2–10 photos: ``sendMediaGroup`` with the caption on the first item;
  the ids of the photo messages come first (one per photo);
- a caption over 1024 units keeps the title, date and footer, and the body follows as reply
  message(s) to the first photo.

Errors (never a blind retry of a send whose outcome is unknown):
``RetryAfter`` → RATE_LIMITED; connect-level failures (ConnectError, ConnectTimeout, PoolTimeout:
the request never left) → RETRYABLE; ``TimedOut``/read errors/5xx after the request was sent →
AMBIGUOUS; ``ChatMigrated`` → RETRYABLE with ``new_chat_id``; ``Forbidden``, revoked token, chat
not found or no posting rights → NEEDS_HUMAN; other ``BadRequest`` → PERMANENT. When a later
message of a multi-message post fails, ``partial_external_ids`` names the ones already posted and
``completed_calls`` where to resume (``publish(..., start_at=...)``); the failure keeps its own
class, so a 429 on part 3 is RATE_LIMITED, not AMBIGUOUS. The calls are the post plan
(``plan()``, built by ``publishers.render.plan_telegram``), the same the previews show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from telegram import Bot, InputMediaPhoto, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from config.settings import Settings
from publishers import redact
from publishers.base import CheckResult, ErrorClass, OutletTarget, Post, PostPhoto, PublishError, PublishResult
from publishers.plan import PlannedCall, PostPlan
from publishers.render import plan_telegram

log = logging.getLogger(__name__)
T = TypeVar("T")

NEEDS_HUMAN_HINTS = (
    "chat not found",
    "not enough rights",
    "need administrator rights",
    "have no rights to send",
    "chat_admin_required",
    "chat_write_forbidden",
    "not a member",
    "bot was kicked",
    "user is deactivated",
    "chat is deactivated",
)
ALREADY_GONE_HINTS = ("message to delete not found", "message can't be deleted for everyone")
STALE_FILE_HINTS = ("wrong file identifier", "file reference", "wrong remote file", "file_id")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def _connect_level(exc: BaseException) -> bool:
    """True when the request surely never reached the server (safe to retry a send)."""
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    text = str(exc)
    return "ConnectError" in text or "Pool timeout" in text


def _retry_after_seconds(exc: RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)  # a timedelta; the public int property is deprecated in 22.2
    if value is not None and hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    return float(exc.retry_after)  # type: ignore[arg-type]


def classify(exc: Exception, *, sends: bool) -> PublishError:
    """Map a python-telegram-bot exception to a PublishError.

    ``sends``: the call creates something (a message); after it was transmitted an unclear
    outcome is AMBIGUOUS. Idempotent calls (edit, delete, reads) are RETRYABLE instead.
    """
    unclear = ErrorClass.AMBIGUOUS if sends else ErrorClass.RETRYABLE
    if isinstance(exc, RetryAfter):
        seconds = _retry_after_seconds(exc)
        return PublishError(
            ErrorClass.RATE_LIMITED, f"Telegram flood control: retry in {seconds:.0f} s", code=429, retry_after=seconds
        )
    if isinstance(exc, ChatMigrated):
        return PublishError(
            ErrorClass.RETRYABLE,
            f"the group became a supergroup; update the outlet to chat {exc.new_chat_id}",
            code="chat_migrated",
            new_chat_id=int(exc.new_chat_id),
        )
    if isinstance(exc, InvalidToken):
        return PublishError(
            ErrorClass.NEEDS_HUMAN,
            "Telegram rejected the bot token (HUB_TELEGRAM_BOT_TOKEN): revoked or mistyped",
            code=401,
        )
    if isinstance(exc, Forbidden):
        return PublishError(
            ErrorClass.NEEDS_HUMAN,
            f"Telegram refused: {exc.message}; add the bot to the chat as an administrator allowed to post",
            code=403,
        )
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if any(hint in text for hint in NEEDS_HUMAN_HINTS):
            return PublishError(
                ErrorClass.NEEDS_HUMAN,
                f"Telegram: {exc.message}; check the outlet's chat id and that the bot is "
                "an administrator allowed to post",
                code=400,
            )
        return PublishError(ErrorClass.PERMANENT, f"Telegram rejected the message: {exc.message}", code=400)
    if isinstance(exc, TimedOut):
        if _connect_level(exc):
            return PublishError(
                ErrorClass.RETRYABLE, f"Telegram not reachable (not sent): {exc.message}", code="connect_timeout"
            )
        return PublishError(
            unclear,
            "no answer from Telegram in time after the request was sent; the message may or may not be posted",
            code="timeout",
        )
    if isinstance(exc, NetworkError):
        if _connect_level(exc):
            return PublishError(
                ErrorClass.RETRYABLE, f"Telegram not reachable (not sent): {exc.message}", code="connect_error"
            )
        return PublishError(
            unclear, f"connection to Telegram failed after sending: {exc.message}", code="network_error"
        )
    if isinstance(exc, TelegramError):
        return PublishError(unclear, f"unexpected answer from Telegram: {exc.message}", code="telegram_error")
    return PublishError(unclear, f"unexpected {type(exc).__name__} while talking to Telegram", code=type(exc).__name__)


class TelegramPublisher:
    platform = "telegram"

    def __init__(
        self,
        settings: Settings,
        *,
        token: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float | None = None,
        media_write_timeout: float = 60.0,
    ) -> None:
        redact.install()
        self._token = token if token is not None else settings.telegram_bot_token
        self._probe_chat_id = getattr(settings, "telegram_probe_chat_id", "")  # unknowns, by forwarding
        read = read_timeout if read_timeout is not None else settings.http_timeout_s
        # Proxy variables (HTTP_PROXY/ALL_PROXY) must not reroute a loopback Bot API (tests, a local
        # server); for the real api.telegram.org the environment is honoured.
        trust_env = not _is_loopback(settings.telegram_api_base_url)

        def request() -> HTTPXRequest:
            return HTTPXRequest(
                connection_pool_size=16,
                connect_timeout=connect_timeout,
                read_timeout=read,
                write_timeout=read,
                pool_timeout=connect_timeout,
                media_write_timeout=media_write_timeout,
                httpx_kwargs={"trust_env": trust_env},
            )

        self._bot: Bot | None = None
        if self._token:
            self._bot = Bot(
                self._token,
                base_url=settings.telegram_api_base_url,
                base_file_url=settings.telegram_file_base_url,
                request=request(),
                get_updates_request=request(),
            )
        self._init_lock = asyncio.Lock()
        self._initialized = False

    # -- plumbing ---------------------------------------------------------------------------------
    async def _ready(self) -> Bot:
        if self._bot is None:
            raise PublishError(
                ErrorClass.NEEDS_HUMAN, "no Telegram bot token configured: set HUB_TELEGRAM_BOT_TOKEN", code="no_token"
            )
        async with self._init_lock:
            if not self._initialized:  # getMe once: validates the token
                try:
                    await self._bot.initialize()
                except Exception as exc:
                    raise classify(exc, sends=False) from None
                self._initialized = True
        return self._bot

    async def _call(self, make: Callable[[], Awaitable[T]], *, sends: bool) -> T:
        try:
            return await make()
        except PublishError:
            raise
        except Exception as exc:
            raise classify(exc, sends=sends) from None

    @staticmethod
    def _chat_id(target: OutletTarget) -> int | str:
        address = target.address.strip()
        return address if address.startswith("@") else int(address)

    @staticmethod
    def _permalink(target: OutletTarget, message_id: int) -> str | None:
        address = target.address.strip()
        if address.startswith("@"):
            return f"https://t.me/{address[1:]}/{message_id}"
        if address.startswith("-100"):
            return f"https://t.me/c/{address[4:]}/{message_id}"  # works for the channel's members
        return None

    # -- plan and publish ----------------------------------------------------------------------------
    def plan(self, post: Post, target: OutletTarget) -> PostPlan:
        """The calls this post becomes, in order, and what each costs (no network)."""
        return plan_telegram(post, thai_digits=target.thai_digits)

    async def publish(
        self,
        post: Post,
        target: OutletTarget,
        *,
        start_at: int = 0,
        prior_external_ids: Sequence[str] = (),
    ) -> PublishResult:
        """Execute ``plan.calls[start_at:]`` in order.

        ``prior_external_ids``: the ids posted by earlier invocations of this post (when resuming),
        so a text part still replies to the post's first message. On failure the PublishError
        carries ``completed_calls`` (plan calls fully done, counted from 0, those before
        ``start_at`` included) and ``partial_external_ids`` (ids posted by this invocation); its
        class is the failing call's own: a 429 or a connect error stays a definite refusal.
        """
        plan = self.plan(post, target)
        posted: list[str] = []
        file_ids: dict[str, str] = {}
        prior = [str(i) for i in prior_external_ids]
        if start_at >= len(plan.calls):  # nothing left to do
            first = (prior or [None])[0]
            return PublishResult(list(prior), self._permalink(target, int(first)) if first else None)
        bot = await self._ready()
        chat_id = self._chat_id(target)
        done = start_at
        try:
            for call in plan.calls[start_at:]:
                anchor = (prior + posted)[:1]
                messages = await self._execute(bot, chat_id, post, call, anchor)
                posted.extend(str(m.message_id) for m in messages)
                for index, message in zip(call.photo_indexes, messages, strict=False):
                    if message.photo:
                        file_ids[post.photos[index].sha256] = message.photo[-1].file_id
                done = call.index + 1
        except PublishError as error:
            error.partial_external_ids = list(posted)
            error.completed_calls = done
            if posted:
                error.message += f" (after {len(posted)} message(s) of this post were posted)"
            raise
        ids = prior + posted
        return PublishResult(external_ids=ids, permalink=self._permalink(target, int(ids[0])), photo_file_ids=file_ids)

    async def _execute(
        self, bot: Bot, chat_id: int | str, post: Post, call: PlannedCall, anchor: list[str]
    ) -> list[Message]:
        """One planned call; a text part replies to the post's first message when there is one."""
        if call.method == "sendMessage":
            reply = ReplyParameters(int(anchor[0])) if anchor else None
            message = await self._call(
                lambda: bot.send_message(
                    chat_id, call.text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                    reply_parameters=reply,
                ),
                sends=True,
            )
            return [message]
        photos = [post.photos[i] for i in call.photo_indexes]
        if len(post.photos) > 10:
            raise PublishError(
                ErrorClass.PERMANENT, f"{len(post.photos)} photos: Telegram albums hold at most 10",
                code="too_many_photos",
            )
        return await self._send_photos(bot, chat_id, photos, call.text)

    async def _send_photos(
        self, bot: Bot, chat_id: int | str, photos: Sequence[PostPhoto], caption: str
    ) -> list[Message]:
        """Send by file_id where known; if Telegram no longer knows an id, upload the file instead."""
        try:
            return await self._send_photos_once(bot, chat_id, photos, caption, reuse_ids=True)
        except PublishError as error:
            stale = error.error_class is ErrorClass.PERMANENT and any(
                hint in error.message.lower() for hint in STALE_FILE_HINTS
            )
            if stale and all(p.path is not None for p in photos):
                log.warning("Telegram refused a stored file_id; uploading the photos again")
                return await self._send_photos_once(bot, chat_id, photos, caption, reuse_ids=False)
            raise

    async def _send_photos_once(
        self, bot: Bot, chat_id: int | str, photos: Sequence[PostPhoto], caption: str, *, reuse_ids: bool
    ) -> list[Message]:
        if len(photos) > 10:
            raise PublishError(
                ErrorClass.PERMANENT, f"{len(photos)} photos: Telegram albums hold at most 10", code="too_many_photos"
            )
        media = [self._media(p, reuse_ids) for p in photos]
        if len(media) == 1:
            message = await self._call(
                lambda: bot.send_photo(chat_id, media[0], caption=caption, parse_mode=ParseMode.HTML), sends=True
            )
            return [message]
        items = [
            InputMediaPhoto(m, caption=caption if i == 0 else None, parse_mode=ParseMode.HTML if i == 0 else None)
            for i, m in enumerate(media)
        ]
        result = await self._call(lambda: bot.send_media_group(chat_id, items), sends=True)
        return list(result)

    @staticmethod
    def _media(photo: PostPhoto, reuse_ids: bool) -> Any:
        if reuse_ids and photo.telegram_file_id:
            return photo.telegram_file_id
        if photo.path is None:
            raise PublishError(
                ErrorClass.PERMANENT,
                f"photo {photo.sha256[:12]} has neither a file nor a file_id",
                code="photo_missing",
            )
        try:
            return photo.path.read_bytes()
        except OSError as exc:
            raise PublishError(
                ErrorClass.PERMANENT, f"cannot read photo file {photo.path}: {exc.strerror}", code="photo_unreadable"
            ) from None

    # -- edit / delete -----------------------------------------------------------------------------
    async def edit(self, external_ids: list[str], post: Post, target: OutletTarget) -> None:
        """Correct a published post in place (same number of messages; extra old ones deleted)."""
        bot = await self._ready()
        chat_id = self._chat_id(target)
        plan = self.plan(post, target)
        photo_count = min(len(post.photos), len(external_ids))
        texts = [call.text for call in plan.calls if call.method == "sendMessage"]
        if photo_count and plan.calls[0].method != "sendMessage":
            caption = plan.calls[0].text
            await self._edit(
                lambda: bot.edit_message_caption(
                    chat_id, int(external_ids[0]), caption=caption, parse_mode=ParseMode.HTML
                )
            )
        text_ids = external_ids[photo_count:]
        if len(texts) > len(text_ids):
            raise PublishError(
                ErrorClass.PERMANENT,
                f"the corrected text needs {len(texts)} message(s) but the post has "
                f"{len(text_ids)}; withdraw it and publish again",
                code="correction_too_long",
            )
        for message_id, text in zip(text_ids, texts, strict=False):
            await self._edit(
                lambda m=message_id, t=text: bot.edit_message_text(
                    t, chat_id, int(m), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                )
            )
        if len(text_ids) > len(texts):
            await self.delete(text_ids[len(texts) :], target)

    async def _edit(self, make: Callable[[], Awaitable[Any]]) -> None:
        try:
            await make()
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return  # the same text again: already corrected
            raise classify(exc, sends=False) from None
        except Exception as exc:
            raise classify(exc, sends=False) from None

    async def delete(self, external_ids: list[str], target: OutletTarget) -> None:
        bot = await self._ready()
        chat_id = self._chat_id(target)
        for message_id in external_ids:
            try:
                await bot.delete_message(chat_id, int(message_id))
            except BadRequest as exc:
                if any(hint in exc.message.lower() for hint in ALREADY_GONE_HINTS):
                    continue  # already deleted: deleting is idempotent
                raise classify(exc, sends=False) from None
            except Exception as exc:
                raise classify(exc, sends=False) from None

    # -- check / reconcile ---------------------------------------------------------------------------
    async def check(self, target: OutletTarget) -> CheckResult:
        try:
            bot = await self._ready()
        except PublishError as error:
            verdict = (
                "not_configured"
                if error.code == "no_token"
                else ("token_invalid" if error.error_class is ErrorClass.NEEDS_HUMAN else "unreachable")
            )
            return CheckResult(False, verdict, error.message)
        try:
            chat_id = self._chat_id(target)
        except ValueError:
            return CheckResult(False, "bad_address", f"{target.address!r} is not a chat id (-100…) or @channelname")
        try:
            chat = await bot.get_chat(chat_id)
            member = await bot.get_chat_member(chat_id, bot.id)
        except ChatMigrated as exc:
            return CheckResult(
                False, "chat_migrated", f"the group became a supergroup: change the outlet's chat to {exc.new_chat_id}"
            )
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                return CheckResult(
                    False,
                    "chat_not_found",
                    f"Telegram does not know chat {target.address} or the bot is not in it: "
                    "add the bot to the channel and check the id",
                )
            return CheckResult(False, "error", f"Telegram: {exc.message}")
        except Forbidden as exc:
            return CheckResult(False, "not_member", f"Telegram: {exc.message}; add the bot to the chat")
        except InvalidToken:
            return CheckResult(False, "token_invalid", "Telegram rejected the bot token (HUB_TELEGRAM_BOT_TOKEN)")
        except Exception as exc:
            error = classify(exc, sends=False)
            verdict = "rate_limited" if error.error_class is ErrorClass.RATE_LIMITED else "unreachable"
            return CheckResult(False, verdict, error.message)
        status = member.status
        if chat.type == "channel":
            if status not in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
                return CheckResult(
                    False,
                    "not_admin",
                    f"the bot is {status} in channel {chat.title or target.address}: make it an "
                    "administrator allowed to post messages",
                )
            if status == ChatMemberStatus.ADMINISTRATOR and not getattr(member, "can_post_messages", False):
                return CheckResult(
                    False,
                    "cannot_post",
                    "the bot is an administrator but may not post messages: turn on "
                    "'Post messages' in its admin rights",
                )
        elif status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED, ChatMemberStatus.RESTRICTED):
            return CheckResult(False, "cannot_post", f"the bot is {status} in {chat.title or target.address}")
        name = chat.title or chat.username or target.address
        return CheckResult(True, "ok", f"bot @{bot.username} may post in {chat.type} {name}")

    async def find_post(self, target: OutletTarget, since: datetime, marker: str) -> PublishResult | None:
        raise PublishError(
            ErrorClass.AMBIGUOUS,
            "the Bot API cannot read a channel's history: a moderator must look at the channel "
            "and answer whether the post is there",
            code="no_history_api",
        )

    async def probe_post(self, target: OutletTarget, marker: str, *, after_id: int, skip_ids: Any = (),
                         span: int = 12, budget: Any = None) -> PublishResult | None:
        """Engine v2 (issue 11): settle an unknown by reading the channel by message id
        (publishers/telegram_probe.py). Found → the post's ids; None → surely absent; raises
        PublishError(AMBIGUOUS) when it cannot tell (RATE_LIMITED when ``budget`` — the send ledger's
        charge around each forward — or Telegram says to wait)."""
        from publishers.telegram_probe import probe

        bot = await self._ready()
        result = await probe(bot, channel=self._chat_id(target), probe_chat=self._probe_chat_id, marker=marker,
                             after_id=after_id, skip_ids=skip_ids, span=span, budget=budget)
        if result.found_ids is None:
            return None
        return PublishResult(external_ids=result.found_ids,
                             permalink=self._permalink(target, int(result.found_ids[0])))

    async def aclose(self) -> None:
        if self._bot is not None:
            try:
                await self._bot.shutdown()
            except Exception as exc:  # closing must never fail the caller
                log.debug("closing the Telegram client: %s", type(exc).__name__)
