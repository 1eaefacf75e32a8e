"""The Telegram bot as a part of ``network-hub run``: built here, run on our own event loop.

Life of the component (``start`` → ``stop``):

1. Build a python-telegram-bot ``Application`` on the configured Bot API base URLs (tests point
   them at the loopback fake), with ``KvPersistence`` so conversations survive a restart.
2. ``bot.initialize()`` (``getMe``), retried until Telegram answers: from then on ``notifier``
   can send DMs in every process.
3. A leadership loop takes the ``telegram-polling`` lease (``network_hub.leases``) and renews it
   every third of its TTL. Only the holder initialises the application (loading the persisted
   conversations), registers the command list (``setMyCommands``), receives updates — long
   polling, or a webhook when ``HUB_TELEGRAM_WEBHOOK_URL`` is set — and posts moderation cards.
   When the holder dies, its lease runs out and another process takes over.
4. ``stop`` stops receiving, lets handlers finish, releases the lease at once (so a successor does
   not wait for the TTL) and closes the HTTP clients.

Updates are handled one at a time (``concurrent_updates`` off: ``ConversationHandler`` needs it);
after each one the persistence is written through, so a process killed between two messages of a
conversation loses nothing the person saw acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import warnings
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from network_hub import leases
from network_hub.bot.common import HUB_KEY, WAKE_CARDS_KEY, in_db, language_of, reply
from network_hub.bot.help import bot_commands, help_handlers
from network_hub.bot.join import join_handlers, reachability_handler
from network_hub.bot.lang import lang_handlers
from network_hub.bot.login import login_handlers
from network_hub.bot.mine import mine_handlers
from network_hub.bot.moderate import CardSync, moderation_handlers
from network_hub.bot.notifier import BotNotifier
from network_hub.bot.persistence import KvPersistence
from network_hub.bot.submit import build_submit_conversation
from network_hub.bot.texts import raw, t
from network_hub.hub import Hub

log = logging.getLogger(__name__)
LEASE_NAME = "telegram-polling"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
CARD_SYNC_INTERVAL_S = 2.0
POLL_TIMEOUT_S = 10
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# ConversationHandler warns that per_message=False tracks buttons per chat, which is what we want.
warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


async def _button_expired(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press no handler took: an old submission button, or forged data. Nothing changes."""
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(Exception):
            await query.answer(raw("button_expired"), show_alert=True)


async def _nothing_to_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, t("nothing_to_cancel", language_of(None, update)))


async def _stray_private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message outside any conversation: point to /news and /help."""
    await reply(update, t("help_reporter", language_of(None, update)))


async def _write_through(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.update_persistence()


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("bot handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        with contextlib.suppress(Exception):
            await reply(update, t("try_later", language_of(None, update)))


class BotComponent:
    name = "bot"

    def __init__(self, hub: Hub, *, process_id: str) -> None:
        settings = hub.settings
        if not settings.telegram_bot_token:
            raise ValueError("HUB_TELEGRAM_BOT_TOKEN is not set")
        self.hub = hub
        self.process_id = process_id
        self.ttl = timedelta(seconds=settings.telegram_lease_seconds)
        self.application = self._build()
        self._bot_ready = False
        self.notifier = BotNotifier(hub, lambda: self.application.bot if self._bot_ready else None)
        self.card_sync = CardSync(hub, lambda: self.application.bot)
        self.application.bot_data.update({HUB_KEY: hub, "card_sync": self.card_sync,
                                          WAKE_CARDS_KEY: self.card_sync.wake})
        self.leading = False
        self._app_initialized = False
        self._loop_task: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._webhook_runner: web.AppRunner | None = None

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        settings = self.hub.settings
        trust_env = not _is_loopback(settings.telegram_api_base_url)

        def request(pool: int, read: float) -> HTTPXRequest:
            return HTTPXRequest(connection_pool_size=pool, connect_timeout=10.0, read_timeout=read,
                                write_timeout=30.0, pool_timeout=10.0, media_write_timeout=60.0,
                                httpx_kwargs={"trust_env": trust_env})

        app = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .base_url(settings.telegram_api_base_url)
            .base_file_url(settings.telegram_file_base_url)
            .request(request(32, 30.0))
            .get_updates_request(request(2, 10.0))
            .persistence(KvPersistence(self.hub))
            .concurrent_updates(False)
            .job_queue(None)
            .build()
        )
        app.add_handler(reachability_handler(), group=-1)
        for handler in moderation_handlers():
            app.add_handler(handler)
        for handler in join_handlers():
            app.add_handler(handler)
        app.add_handler(build_submit_conversation())
        for handlers in (mine_handlers(), help_handlers(), lang_handlers(), login_handlers()):
            for handler in handlers:
                app.add_handler(handler)  # type: ignore[arg-type]
        app.add_handler(CommandHandler("cancel", _nothing_to_cancel))
        app.add_handler(CallbackQueryHandler(_button_expired))
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, _stray_private_message))
        app.add_handler(TypeHandler(Update, _write_through), group=99)
        app.add_error_handler(_on_error)
        return app

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="bot-leadership")

    async def _run(self) -> None:
        delay = 1.0
        while not self._bot_ready:
            try:
                await self.application.bot.initialize()  # getMe: validates the token
                self._bot_ready = True
            except Exception as exc:
                log.warning("Telegram is not reachable yet (%s); trying again in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
        log.info("bot @%s ready (process %s)", self.application.bot.username, self.process_id)
        renew = max(self.ttl.total_seconds() / 3, 0.5)
        while True:
            try:
                holds = await in_db(self.hub, lambda s, now: leases.acquire(
                    s, LEASE_NAME, self.process_id, ttl=self.ttl, now=now))
            except Exception:
                log.exception("could not renew the %s lease", LEASE_NAME)
                holds = False
            if holds and not self.leading:
                await self._lead()
            elif not holds and self.leading:
                log.warning("lost the %s lease; this process stops receiving updates", LEASE_NAME)
                await self._follow()
            await asyncio.sleep(renew)

    async def _lead(self) -> None:
        app = self.application
        if not self._app_initialized:
            await app.initialize()  # loads the persisted conversations, as the last leader left them
            self._app_initialized = True
        await app.start()
        await self._register_commands()
        if self.hub.settings.telegram_webhook_url:
            await self._start_webhook()
        else:
            assert app.updater is not None
            await app.updater.start_polling(timeout=POLL_TIMEOUT_S, allowed_updates=ALLOWED_UPDATES,
                                            error_callback=lambda exc: log.warning("polling: %s", exc))
        self._sync_task = asyncio.create_task(self.card_sync.serve(CARD_SYNC_INTERVAL_S), name="card-sync")
        self.leading = True
        log.info("process %s holds the %s lease and receives Telegram updates", self.process_id, LEASE_NAME)

    async def _follow(self) -> None:
        self.leading = False
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
            self._sync_task = None
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        await self._stop_webhook()
        if app.running:
            await app.stop()

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        was_leading = self.leading
        await self._follow()
        if was_leading:
            with contextlib.suppress(Exception):
                await in_db(self.hub, lambda s, now: leases.release(s, LEASE_NAME, self.process_id, now=now))
        if self._app_initialized:
            await self.application.shutdown()
        elif self._bot_ready:
            await self.application.bot.shutdown()

    async def _register_commands(self) -> None:
        bot = self.application.bot
        try:
            await bot.set_my_commands(bot_commands("th"))
            await bot.set_my_commands(bot_commands("en"), language_code="en")
        except Exception:
            log.warning("could not register the command list", exc_info=True)

    # -- webhook mode ---------------------------------------------------------------------------------
    def _webhook_secret(self) -> str:
        digest = hmac.new(self.hub.settings.telegram_bot_token.encode(), b"webhook", hashlib.sha256).hexdigest()
        return digest[:64]

    async def _start_webhook(self) -> None:
        settings = self.hub.settings
        host, _, port = settings.telegram_webhook_listen.rpartition(":")
        path = urlparse(settings.telegram_webhook_url).path or "/"
        secret = self._webhook_secret()
        app = self.application

        async def receive(request: web.Request) -> web.Response:
            if not hmac.compare_digest(request.headers.get(WEBHOOK_SECRET_HEADER, ""), secret):
                return web.Response(status=403)
            try:
                update = Update.de_json(await request.json(), app.bot)
            except Exception:
                return web.Response(status=400)
            await app.update_queue.put(update)
            return web.Response(text="ok")

        server = web.Application()
        server.router.add_post(path, receive)
        self._webhook_runner = web.AppRunner(server, access_log=None)
        await self._webhook_runner.setup()
        await web.TCPSite(self._webhook_runner, host or "127.0.0.1", int(port)).start()
        await app.bot.set_webhook(settings.telegram_webhook_url, allowed_updates=ALLOWED_UPDATES,
                                  secret_token=secret)
        log.info("receiving Telegram updates by webhook at %s (listening on %s)", settings.telegram_webhook_url,
                 settings.telegram_webhook_listen)

    async def _stop_webhook(self) -> None:
        if self._webhook_runner is not None:
            await self._webhook_runner.cleanup()
            self._webhook_runner = None
