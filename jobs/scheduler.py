"""APScheduler wiring: the in-process ticker and cron calculator (memory job store, no durable state).

Every job is safe to run on every process at once: the work it does is claimed or made unique in
the database. ``coalesce`` + ``max_instances=1`` keep a slow job from piling up; cron jobs run in
the hub's time zone (Asia/Bangkok) with named weekdays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from network_hub.hub import Hub

Job = Callable[[], Awaitable[object]]


class Intervals:
    heartbeat = 5.0
    lease_sweep = 15.0
    missed_posts = 30.0
    reconcile = 60.0
    reminders = 60.0
    notifications = 5.0


def build_scheduler(hub: Hub, jobs: dict[str, tuple[Job, float | CronTrigger]]) -> AsyncIOScheduler:
    """One APScheduler job per entry: an interval in seconds or a cron trigger."""
    scheduler = AsyncIOScheduler(
        timezone=hub.settings.tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    for name, (fn, when) in jobs.items():
        trigger = when if isinstance(when, CronTrigger) else IntervalTrigger(seconds=when, timezone=hub.settings.tz)
        first = None if isinstance(when, CronTrigger) else datetime.now(hub.settings.tz) + timedelta(seconds=0.5)
        scheduler.add_job(fn, trigger, id=name, name=name, next_run_time=first, replace_existing=True)
    return scheduler


def daily_at(hub: Hub, hour: int, minute: int = 0) -> CronTrigger:
    return CronTrigger(hour=hour, minute=minute, timezone=hub.settings.tz)
