"""R5: the hub comes back after downtime. Scheduled posts whose time came while it was down go
out once; reminders coalesce (daily rules fold missed days into today's one reminder; a quiet
spell is one reminder) or are skipped visibly (a weekly digest whose time is long past).

Two parts:
- the clock: the jobs ``network-hub run`` starts with (lease sweep, missed-post sweep, a dispatch
  pass, reminder planning) run in-process on an injected clock that stops at Monday 07:55
  Bangkok and resumes after 10 minutes, 10 hours (and 2 days, to show the digest skip), then
  restarts a second time; the posts go to the Telegram fake through the real publisher;
- a real restart: stored schedule times 10 minutes and 10 hours in the past, a real
  ``network-hub run`` process started, stopped and started again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from jobs import sweeps
from jobs.dispatch import Dispatcher
from network_hub.clock import FrozenClock
from network_hub.db.models import Delivery, NewsItem, Notification, ReminderOccurrence
from network_hub.followup.planner import plan_reminders
from network_hub.followup.rules import Thresholds
from network_hub.hub import Hub
from platform_fakes.telegram import FakeTelegram
from publishers.registry import Publishers
from reliability.common import (
    add_items,
    add_outlets,
    count_states,
    fresh_database,
    make_hub,
    receipt,
    seed_people,
    settings_for,
    start_worker,
    wait_until_running,
    worker_env,
)

CHANNEL = -1005000000005
PREFIX = "R5"
# Monday 30 November 2026, 07:55 in Bangkok: five minutes before the weekly digest (Monday 08:00).
DOWN_AT = datetime(2026, 11, 30, 0, 55, tzinfo=UTC)
SCHEDULE_OFFSETS = {"+5 min": timedelta(minutes=5), "+2 h": timedelta(hours=2), "+30 h": timedelta(hours=30)}


@dataclass
class DowntimeRow:
    backend: str
    downtime: str
    posts_per_scheduled: dict[str, int]  # schedule offset → posts on the channel
    states: dict[str, str]  # schedule offset → delivery state
    reminders: dict[str, str]  # rule → "n planned / m skipped" created at restart
    notes: list[str]
    dms_queued: dict[str, int]  # kind → DMs queued at the restart
    second_restart_new_reminders: int
    second_restart_new_posts: int

    @property
    def ok(self) -> bool:
        return (all(n <= 1 for n in self.posts_per_scheduled.values())
                and self.second_restart_new_reminders == 0 and self.second_restart_new_posts == 0)


@dataclass
class RealRestartRow:
    backend: str
    late_by: str
    posts: int
    state: str
    sent_after_restart_s: str  # how long after the process started the post went out


@dataclass
class R5Result:
    rows: list[DowntimeRow] = field(default_factory=list)
    real: list[RealRestartRow] = field(default_factory=list)
    expectations_met: bool = True

    @property
    def ok(self) -> bool:
        return self.expectations_met and all(r.ok for r in self.rows)


def _occurrences(hub: Hub) -> list[tuple[str, str, str | None]]:
    with hub.transaction() as s:
        rows = s.scalars(select(ReminderOccurrence).order_by(ReminderOccurrence.id))
        return [(o.rule, o.state, o.note) for o in rows]


async def _startup_jobs(hub: Hub, pubs: Publishers, th: Thresholds) -> None:
    """What ``network-hub run`` does in its first seconds, in its order."""
    now = hub.clock.now()
    with hub.transaction() as s:
        sweeps.sweep_leases(s, now)
    with hub.transaction() as s:
        sweeps.sweep_missed_posts(s, now)
    await Dispatcher(hub, pubs, owner="r5").run_once()
    with hub.transaction() as s:
        plan_reminders(s, now, th)


async def downtime_row(backend: str, workdir: Path, pg_url: str | None, downtime: timedelta, label: str) -> DowntimeRow:
    async with FakeTelegram() as tg:
        tg.add_channel(CHANNEL)
        with fresh_database(backend, workdir, pg_url) as db:
            settings = settings_for(db, workdir, tg, None)
            clock = FrozenClock(DOWN_AT - timedelta(days=30))
            hub = make_hub(db, settings, clock)
            people = seed_people(hub)  # villages created 30 days ago: quiet since then
            outlet = add_outlets(hub, [CHANNEL], [])[0]
            clock.set(DOWN_AT - timedelta(hours=30))
            with hub.transaction() as s:  # one item waiting for approval for 30 h at the stop
                s.add(NewsItem(receipt_no=receipt(PREFIX, 900), village_code="52010102", author_id=people.reporter2.id,
                               category="event", title="งานวัด", body="งานวัดประจำปี", status="submitted",
                               pdpa_flags=[], consent={}, version=1, submitted_at=clock.now(),
                               created_at=clock.now(), updated_at=clock.now()))
            clock.set(DOWN_AT)
            for n, offset in enumerate(SCHEDULE_OFFSETS.values()):
                add_items(hub, people.reporter.id, [outlet], 1, PREFIX, start=n, due_at=DOWN_AT + offset,
                          status="scheduled")
            th = Thresholds.from_settings(settings)
            pubs = Publishers(settings)
            try:
                await _startup_jobs(hub, pubs, th)  # the hub was running until DOWN_AT
                before = len(_occurrences(hub))
                clock.set(DOWN_AT + downtime)
                await _startup_jobs(hub, pubs, th)  # restart after the downtime
                after = _occurrences(hub)
                created = after[before:]
                posts_now = tg.count(CHANNEL)
                clock.advance(minutes=1)
                await _startup_jobs(hub, pubs, th)  # and a second restart a minute later
                second_new = len(_occurrences(hub)) - len(after)
                second_posts = tg.count(CHANNEL) - posts_now
            finally:
                await pubs.aclose()
            texts = [(m.text or "") for m in tg.posts(CHANNEL)]
            per_rule: dict[str, Counter[str]] = {}
            for rule, state, _note in created:
                per_rule.setdefault(rule, Counter())[state] += 1
            with hub.transaction() as s:
                states = {d.item_id: d.state for d in s.scalars(select(Delivery))}
                items = {i.receipt_no: i.id for i in s.scalars(select(NewsItem))}
                dms = Counter(s.scalars(select(Notification.kind).where(
                    Notification.created_at >= DOWN_AT + downtime)))
            hub.engine.dispose()
            return DowntimeRow(
                backend=backend, downtime=label,
                posts_per_scheduled={k: sum(receipt(PREFIX, n) in t for t in texts)
                                     for n, k in enumerate(SCHEDULE_OFFSETS)},
                states={k: states[items[receipt(PREFIX, n)]] for n, k in enumerate(SCHEDULE_OFFSETS)},
                reminders={rule: " / ".join(f"{c} {st}" for st, c in sorted(cnt.items()))
                           for rule, cnt in sorted(per_rule.items())},
                notes=sorted({note for _r, _s, note in created if note}),
                dms_queued=dict(dms), second_restart_new_reminders=second_new, second_restart_new_posts=second_posts)


def real_restart(backend: str, workdir: Path, pg_url: str | None) -> list[RealRestartRow]:
    """Stored schedule times in the past (the hub was down then); a real ``network-hub run``."""
    rows: list[RealRestartRow] = []
    with FakeTelegram() as tg, fresh_database(backend, workdir, pg_url) as db:
        tg.add_channel(CHANNEL)
        settings = settings_for(db, workdir, tg, None)
        hub = make_hub(db, settings)
        people = seed_people(hub)
        outlet = add_outlets(hub, [CHANNEL], [])[0]
        now = datetime.now(UTC)
        lates = {"10 min": timedelta(minutes=10), "10 h": timedelta(hours=10),
                 "not yet due (+1 h)": -timedelta(hours=1)}
        for n, late in enumerate(lates.values()):
            add_items(hub, people.reporter.id, [outlet], 1, PREFIX, start=n, due_at=now - late, status="scheduled")
        env = worker_env(settings, HUB_DISPATCH_INTERVAL_S="0.5")
        first_start = datetime.now(UTC)
        for run in range(2):  # start, let it work, stop; then start again
            worker = start_worker(env, workdir / f"r5-{backend}-run{run}.log")
            try:
                wait_until_running(worker)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and count_states(hub).get("sent", 0) < 2:
                    time.sleep(0.3)
                time.sleep(2.0)  # a few more ticks: nothing else may go out
            finally:
                worker.terminate()
        texts = [(m.text or "") for m in tg.posts(CHANNEL)]
        with hub.transaction() as s:
            for n, label in enumerate(lates):
                item = s.scalar(select(NewsItem).where(NewsItem.receipt_no == receipt(PREFIX, n)))
                state = s.scalar(select(Delivery.state).where(Delivery.item_id == item.id))
                sent_at = s.scalar(select(Delivery.sent_at).where(Delivery.item_id == item.id))
                after_start = f"{(sent_at - first_start).total_seconds():.1f}" if sent_at else "—"
                rows.append(RealRestartRow(backend, label, sum(receipt(PREFIX, n) in t for t in texts),
                                           f"{state} (item {item.status})", after_start))
        hub.engine.dispose()
    return rows


DOWNTIMES = {"10 minutes": timedelta(minutes=10), "10 hours": timedelta(hours=10), "2 days": timedelta(days=2)}
EXPECTED_POSTS = {"10 minutes": {"+5 min": 1, "+2 h": 0, "+30 h": 0},
                  "10 hours": {"+5 min": 1, "+2 h": 1, "+30 h": 0},
                  "2 days": {"+5 min": 1, "+2 h": 1, "+30 h": 1}}


def run_r5(backend: str, workdir: Path, pg_url: str | None = None, *, real: bool = True,
           downtimes: dict[str, timedelta] | None = None) -> R5Result:
    result = R5Result()
    for label, downtime in (downtimes or DOWNTIMES).items():
        row = asyncio.run(downtime_row(backend, workdir, pg_url, downtime, label))
        result.rows.append(row)
        result.expectations_met &= row.posts_per_scheduled == EXPECTED_POSTS[label]
    if real:
        result.real = real_restart(backend, workdir, pg_url)
        result.expectations_met &= [r.posts for r in result.real] == [1, 1, 0]
    return result
