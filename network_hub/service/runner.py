"""``network-hub run``: the long-running service.

It assembles the parts in one asyncio process: the dispatcher loop (woken at once by approvals
in this process and, through ``outbox.signals``, by work announced in other processes; otherwise it
looks again after ``HUB_DISPATCH_INTERVAL_S`` or at the next due moment), the maintenance jobs
(lease sweep, missed-post sweep, Facebook reconciliation, reminder planning, DM sending, daily
outlet checks, heartbeat), and the optional components — the Telegram bot when a token is set,
the web dashboard. SIGTERM/SIGINT stop claiming, let in-flight sends finish within a deadline,
hand back unstarted claims and mark the process stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy.exc import InterfaceError, OperationalError

from jobs import heartbeat, reconcile, sweeps
from jobs.dispatch import Dispatcher, PublisherSource, process_identity
from jobs.notify import NotificationSender
from jobs.scheduler import Intervals, build_scheduler, daily_at
from network_hub import outlet_checks
from network_hub.followup.planner import plan_reminders
from network_hub.followup.rules import Thresholds
from network_hub.hub import Hub
from network_hub.newsroom import events
from network_hub.notifications import Notifier
from network_hub.outbox import signals
from publishers.registry import Publishers

log = logging.getLogger(__name__)
SHUTDOWN_DEADLINE_S = 20.0


class Component(Protocol):
    """A part that joins the service (the bot, the web dashboard)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Service:
    def __init__(self, hub: Hub, publishers: PublisherSource | None = None, *, with_bot: bool = True,
                 with_web: bool = True, process_id: str | None = None) -> None:
        self.hub = hub
        self.process_id = process_id or process_identity()
        self.publishers = publishers or Publishers(hub.settings)
        self.dispatcher = Dispatcher(hub, self.publishers, owner=self.process_id)
        self.thresholds = Thresholds.from_settings(hub.settings)
        self.components: list[Component] = []
        self.notifier: Notifier | None = None
        self.with_bot, self.with_web = with_bot, with_web
        self.roles = ["dispatcher", "scheduler"]
        self.stopping = asyncio.Event()

    # -- jobs -------------------------------------------------------------------------------
    def _db_job(self, name: str, fn: Callable[..., object]) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            def work() -> object:
                with self.hub.transaction() as s:
                    return fn(s, self.hub.clock.now())

            try:
                return await asyncio.to_thread(work)
            except Exception:
                log.exception("job %s failed; it runs again at its next tick", name)
                return None

        return run

    def _async_job(self, name: str, fn: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            try:
                return await fn()
            except Exception:
                log.exception("job %s failed; it runs again at its next tick", name)
                return None

        return run

    def _jobs(self) -> dict[str, tuple[Callable[[], Awaitable[object]], float | object]]:
        s = self.hub.settings
        jobs: dict[str, tuple[Callable[[], Awaitable[object]], float | object]] = {
            "heartbeat": (self._db_job("heartbeat", lambda ses, now: heartbeat.beat(
                ses, self.process_id, self.roles, now)), Intervals.heartbeat),
            "lease-sweep": (self._db_job("lease-sweep", sweeps.sweep_leases), Intervals.lease_sweep),
            "missed-posts": (self._db_job("missed-posts", sweeps.sweep_missed_posts), Intervals.missed_posts),
            "reconcile-unknown": (self._async_job("reconcile-unknown", lambda: reconcile.reconcile_unknown(
                self.hub, self.publishers)), Intervals.reconcile),
            "plan-reminders": (self._db_job("plan-reminders", lambda ses, now: plan_reminders(
                ses, now, self.thresholds)), Intervals.reminders),
            "outlet-health": (self._async_job("outlet-health", lambda: outlet_checks.check_all_outlets(
                self.hub, self.publishers)), daily_at(self.hub, 6)),
        }
        if s.backup_dir is not None:  # PROD hook: the daily backup with retention (network_hub/backup.py)
            from network_hub.backup import scheduled_job

            jobs["daily-backup"] = (self._async_job("daily-backup", scheduled_job(self.hub)),
                                    daily_at(self.hub, s.backup_hour))
        if s.photo_checks_enabled:  # PHOTOS hook (issue 16): PDPA text checks of stored photos, off the request path
            from network_hub.photo_checks import worker as photo_checks

            jobs["photo-checks"] = (self._async_job("photo-checks", photo_checks.scheduled_job(
                self.hub, self.process_id)), photo_checks.INTERVAL_S)
        if s.line_channel_secret:  # LINE hook (issue 14): webhook events left pending by a crash
            from network_hub.line import startup as line_startup

            jobs["line-events"] = (self._async_job("line-events", line_startup.scheduled_job(self.hub)),
                                   line_startup.EVENTS_INTERVAL_S)
        if s.line_channel_access_token:  # LINE hook (issue 14): volunteers' daily status summary
            from network_hub.line import startup as line_startup

            jobs["line-daily-summary"] = (self._async_job("line-daily-summary", line_startup.summary_job(self.hub)),
                                          daily_at(self.hub, line_startup.SUMMARY_HOUR))
        if self.notifier is not None:
            sender = NotificationSender(self.hub, self.notifier, owner=self.process_id)
            jobs["send-notifications"] = (self._async_job("send-notifications", sender.run_once),
                                          Intervals.notifications)
        return jobs

    # -- components -----------------------------------------------------------------------
    def _build_components(self) -> None:
        from network_hub.line.startup import announce as announce_line

        announce_line(self.hub.settings)  # LINE hook (issue 14): "LINE is off" / not-HTTPS warnings
        if self.with_web:
            from network_hub.web.component import WebComponent

            self.components.append(WebComponent(self.hub))
            self.roles.append("web")
        if self.with_bot and self.hub.settings.telegram_bot_token:
            from network_hub.bot.component import BotComponent

            bot = BotComponent(self.hub, process_id=self.process_id)
            self.components.append(bot)
            self.notifier = bot.notifier
            self.roles.append("bot")

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Signal handlers need the main thread on Unix (tests run the service in a thread,
            # Windows has none): there, the caller stops the service through ``stopping``.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stopping.set)
        self._build_components()
        events.on_item_approved(self._wake)
        events.on_followup_requested(self._wake)
        # Work announced by other processes (a CLI approval, a second worker): LISTEN/NOTIFY on
        # PostgreSQL, the change counter on SQLite.
        listener = signals.Listener(self.hub.engine, self.dispatcher.wake, poll_s=self.hub.settings.wake_poll_s)
        listener.start()
        # Before serving: what the first delivery would otherwise set up inside its claim. (Not the
        # Thai word splitter: its dictionary costs ~80 MB of memory, and only long posts need it.)
        await asyncio.to_thread(self._warm_up_publishers)
        await asyncio.to_thread(self._beat)
        for component in self.components:
            await component.start()
        scheduler = build_scheduler(self.hub, self._jobs())  # type: ignore[arg-type]
        scheduler.start()
        # No scheduler tick for the dispatcher: its loop looks again after the interval by itself,
        # and a second, unaligned tick only doubled the empty passes an approval could land in.
        dispatch_loop = asyncio.create_task(self.dispatcher.serve(self.hub.settings.dispatch_interval_s))
        log.info("hub process %s running (%s)", self.process_id, ", ".join(self.roles))
        try:
            await self.stopping.wait()
        finally:
            log.info("stopping: no new claims; waiting up to %.0fs for in-flight sends", SHUTDOWN_DEADLINE_S)
            scheduler.shutdown(wait=False)
            listener.stop()
            await self.dispatcher.stop(SHUTDOWN_DEADLINE_S)
            dispatch_loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatch_loop
            for component in reversed(self.components):
                try:
                    await component.stop()
                except Exception:
                    log.exception("component %s did not stop cleanly", component.name)
            events.clear()
            close = getattr(self.publishers, "aclose", None)
            if close is not None:
                await close()
            await asyncio.to_thread(self._stopped)
            log.info("hub process %s stopped", self.process_id)

    def _wake(self, _item_id: int) -> None:
        self.dispatcher.wake()

    def _warm_up_publishers(self) -> None:
        """Build the publisher of every platform with an active outlet before the dispatcher
        serves. A publisher is otherwise made on first use — inside the first claim's transaction
        (the claim asks it for the post's plan), where its HTTP clients' TLS set-up (about 0.2 s
        each, more on a loaded machine) held the outlet's row lock and delayed the first delivery
        after every start (B3: 0.4 of the 1.0 s the first item took)."""
        from sqlalchemy import select

        from network_hub.db.models import Outlet
        from network_hub.states import OutletStatus

        try:
            with self.hub.transaction() as s:
                platforms = sorted(set(s.scalars(select(Outlet.platform).where(
                    Outlet.status == OutletStatus.ACTIVE.value))))
        except Exception as exc:  # the dispatcher reports database trouble itself
            log.debug("publisher warm-up skipped: %s", exc)
            return
        for platform in platforms:
            try:
                self.publishers.get(platform)
            except Exception as exc:  # an unknown platform fails its deliveries with a clear error
                log.debug("publisher warm-up: %s: %s", platform, exc)

    def _beat(self) -> None:
        def beat() -> None:
            with self.hub.transaction() as s:
                heartbeat.beat(s, self.process_id, self.roles, self.hub.clock.now())

        _retry_on_lost_connection(beat)

    def _stopped(self) -> None:
        def stopped() -> None:
            with self.hub.transaction() as s:
                heartbeat.stopped(s, self.process_id, self.hub.clock.now())

        _retry_on_lost_connection(stopped)


def _retry_on_lost_connection(fn: Callable[[], None], delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)) -> None:
    """Start-up and shutdown writes survive a database connection dropped at that moment (a
    restarted or failed-over server, an administrator's pg_terminate_backend); a process that
    died there would leave its work to the lease sweep for no reason."""
    for delay in (*delays, None):
        try:
            fn()
            return
        except (OperationalError, InterfaceError) as exc:
            if delay is None:
                raise
            log.warning("database connection lost (%s); trying again in %.1fs", type(exc.orig).__name__, delay)
            time.sleep(delay)


def run_service(hub: Hub, *, with_bot: bool = True, with_web: bool = True,
                publishers: PublisherSource | None = None) -> None:
    """Run until SIGTERM/SIGINT."""
    asyncio.run(Service(hub, publishers, with_bot=with_bot, with_web=with_web).run())
