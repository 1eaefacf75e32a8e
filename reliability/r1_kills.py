"""R1: SIGKILL real ``network-hub run`` workers at random moments of dispatch, over and over, on
Telegram channels and Facebook pages (the loopback fakes), restarting a worker after every kill.

The surviving and restarted workers run the production jobs on their own: the lease sweep turns
a dead worker's claims back to ``pending`` and its in-flight sends to ``unknown`` (telling the
moderators); reconciliation settles Facebook unknowns by the page's posts and Telegram unknowns by
the probe (forwarding the ids after the last known post into the hub's probe chat,
``HUB_TELEGRAM_PROBE_CHAT_ID``, configured on the fake). At the end the harness runs the same
``reconcile_unknown`` job until it settles nothing more (the grace periods already over), asks the
probe once more why each Telegram unknown still left could not be settled, then does what people
do: a moderator looks at each Telegram channel and answers "posted" or "not posted" for each of
those, and a last worker sends what is left.

The figure of issue 11: Telegram unknowns settled without a person ÷ all Telegram unknowns, where
every episode of ``unknown`` ends either in ``delivery.reconciled_found``/``_absent`` (the engine)
or ``delivery.resolved_posted``/``_not_posted`` (a person) in the audit log. Then the audit:
every delivery sent exactly once on its outlet, none twice, every ``unknown`` was surfaced.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from jobs.reconcile import GRACE, reconcile_unknown
from jobs.sweeps import sweep_leases
from network_hub.db.models import AuditEvent, Delivery, Outlet
from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeTelegram
from publishers.registry import Publishers
from reliability.common import (
    Audit,
    ShiftedClock,
    Worker,
    add_items,
    add_outlets,
    add_probe_chat,
    audit,
    count_states,
    fresh_database,
    make_hub,
    posts_on_fakes,
    resolve_telegram_unknowns,
    seed_people,
    settings_for,
    start_worker,
    wait_until_running,
    worker_env,
)

PREFIX = "R1"
UNSETTLED = ("pending", "retry_wait", "claimed", "sending")


@dataclass
class R1Result:
    backend: str
    kills: int = 0
    workers: int = 0
    outlets: str = ""
    deliveries: int = 0
    seconds: float = 0.0
    kill_moments: dict[str, int] = field(default_factory=dict)  # what the killed worker held
    delay_range_s: tuple[float, float] = (0.0, 0.0)
    states_after_kills: dict[str, int] = field(default_factory=dict)
    before_resolution: Audit | None = None
    fb_reconciled: dict[str, int] = field(default_factory=dict)
    tg_answered_posted: int = 0
    tg_answered_not_posted: int = 0
    # Telegram unknown episodes, by who ended them (audit log), and why the probe left some
    tg_unknowns: int = 0
    tg_settled_by_engine: dict[str, int] = field(default_factory=dict)  # found / absent
    tg_settled_by_person: int = 0
    tg_person_reasons: dict[str, int] = field(default_factory=dict)  # the probe's PublishError code
    probe_forwards: int = 0  # forwardMessage calls the fake answered (every probe, every process)
    warm_up_s: float = 0.0  # until every outlet held a sent post, before the first kill
    final: Audit | None = None

    @property
    def tg_auto_ratio(self) -> float | None:
        """Telegram unknowns settled without a person ÷ all Telegram unknowns (None: there were none)."""
        return sum(self.tg_settled_by_engine.values()) / self.tg_unknowns if self.tg_unknowns else None

    @property
    def ok(self) -> bool:
        return (self.before_resolution is not None and self.final is not None
                and self.before_resolution.duplicated == 0 and self.before_resolution.lost == 0
                and self.before_resolution.unknown_not_surfaced == 0
                and self.before_resolution.sent_without_exactly_one_post == 0
                and self.final.ok and self.final.states == {"sent": self.deliveries})


def _held_by(hub: object, pid: int) -> dict[str, int]:
    with hub.transaction() as s:  # type: ignore[attr-defined]
        return dict(s.execute(select(Delivery.state, func.count())
                              .where(Delivery.lease_owner.like(f"%:{pid}:%"),
                                     Delivery.state.in_(("claimed", "sending")))
                              .group_by(Delivery.state)).all())


def _telegram_settlements(hub: object) -> tuple[dict[str, int], int]:
    """How each Telegram unknown episode ended, from the audit log: (by the engine, by a person)."""
    actions = {"delivery.reconciled_found": "found", "delivery.reconciled_absent": "absent"}
    person = ("delivery.resolved_posted", "delivery.resolved_not_posted")
    with hub.transaction() as s:  # type: ignore[attr-defined]
        telegram = {str(i) for i in s.scalars(select(Delivery.id).join(Outlet, Outlet.id == Delivery.outlet_id)
                                              .where(Outlet.platform == "telegram"))}
        rows = s.execute(select(AuditEvent.action, AuditEvent.object_id)
                         .where(AuditEvent.object_type == "delivery",
                                AuditEvent.action.in_((*actions, *person)))).all()
    engine: Counter[str] = Counter()
    by_person = 0
    for action, object_id in rows:
        if object_id not in telegram:
            continue
        if action in actions:
            engine[actions[action]] += 1
        else:
            by_person += 1
    return dict(engine), by_person


class _Undecided(logging.Handler):
    """Why the reconciler left each Telegram unknown to a person: the code of the PublishError it
    logs ("delivery N: cannot reconcile yet: ambiguous [probe_foreign_messages]: ...")."""

    PATTERN = re.compile(r"^delivery (\d+): cannot reconcile yet: \w+(?: \[([^\]]+)\])?")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.reasons: dict[int, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        found = self.PATTERN.match(record.getMessage())
        if found:
            self.reasons[int(found.group(1))] = found.group(2) or "no code"


def _wait_every_outlet_sent(hub: object, outlet_ids: list[int], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with hub.transaction() as s:  # type: ignore[attr-defined]
            done = set(s.scalars(select(Delivery.outlet_id).where(Delivery.state == "sent").distinct()))
        if done >= set(outlet_ids):
            break
        time.sleep(0.2)
    return round(time.monotonic() - started, 1)


def _wait_settled(hub: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = count_states(hub)  # type: ignore[arg-type]
        if not any(states.get(s) for s in UNSETTLED):
            return True
        time.sleep(0.5)
    return False


def run_r1(backend: str, workdir: Path, pg_url: str | None = None, *, kills: int = 200, workers: int = 3,
           tg_channels: int = 3, fb_pages: int = 2, initial_items: int = 120, items_per_kill: int = 2,
           delay: tuple[float, float] = (0.0, 1.2), latency_s: float = 0.03, seed: int = 1) -> R1Result:
    rng = random.Random(seed)
    result = R1Result(backend=backend, workers=workers, delay_range_s=delay,
                      outlets=f"{tg_channels} Telegram channels + {fb_pages} Facebook pages")
    started = time.monotonic()
    with FakeTelegram() as tg, FakeFacebook() as fb, fresh_database(backend, workdir, pg_url) as db:
        chats = [-1001000000000 - n for n in range(tg_channels)]
        pages = [f"1048576{n:05d}" for n in range(fb_pages)]
        for chat in chats:
            tg.add_channel(chat)
        token_vars = {}
        for page in pages:
            fb.add_page(page)
            var = f"HUB_R1_PAGE_TOKEN_{page}"
            token_vars[var] = fb.issue_token(page)
            os.environ[var] = token_vars[var]  # the harness's own reconciliation reads it too
        tg.latency(latency_s)  # a send takes a moment: kills land while calls are in flight
        fb.latency(latency_s)
        settings = settings_for(db, workdir, tg, fb, probe_chat=add_probe_chat(tg))
        hub = make_hub(db, settings)
        people = seed_people(hub)
        outlet_ids = add_outlets(hub, chats, [(p, f"HUB_R1_PAGE_TOKEN_{p}") for p in pages])
        add_items(hub, people.reporter.id, outlet_ids, initial_items, PREFIX)
        next_item = initial_items
        env = worker_env(settings, **token_vars, HUB_DISPATCH_INTERVAL_S="0.5", HUB_TELEGRAM_BOT_PER_SECOND="0",
                         HUB_DISPATCH_CONCURRENCY="4", HUB_DISPATCH_BATCH="4")
        logs = workdir / f"r1-{backend}"
        spawned = 0

        def spawn() -> Worker:
            nonlocal spawned
            spawned += 1
            return start_worker(env, logs / f"worker-{spawned:03d}.log")

        pool = [spawn() for _ in range(workers)]
        # A hub in service has posted in its channels before: the probe counts message ids from the
        # hub's last known post in a chat, and the very first post in a chat has none. The kills
        # start once every outlet holds a sent post (on a loaded machine the first workers would
        # otherwise die before any send is recorded, leaving only unknowns without an anchor).
        result.warm_up_s = _wait_every_outlet_sent(hub, outlet_ids, timeout=180)
        moments: Counter[str] = Counter()
        try:
            while result.kills < kills:
                running = [n for n, w in enumerate(pool) if w.is_running_loop()]
                if not running:
                    time.sleep(0.05)
                    continue
                victim_index = rng.choice(running)
                victim = pool[victim_index]
                time.sleep(rng.uniform(*delay))
                victim.kill()
                held = _held_by(hub, victim.pid)
                moments["sending" if held.get("sending") else "claimed" if held.get("claimed") else "idle"] += 1
                result.kills += 1
                pool[victim_index] = spawn()
                add_items(hub, people.reporter.id, outlet_ids, items_per_kill, PREFIX, start=next_item)
                next_item += items_per_kill
        finally:
            for w in pool:
                w.terminate()  # the survivors stop cleanly (SIGTERM): in-flight sends finish first
        # Nobody is running now: the lease sweep (the production function) runs with the dead
        # workers' 10 s leases over instead of waiting for them in real time.
        with make_hub(db, settings, ShiftedClock(timedelta(seconds=11))).transaction() as s:
            sweep_leases(s, datetime.now(UTC) + timedelta(seconds=11))
        last = start_worker(env, logs / "worker-drain.log")  # finishes the backlog, as a restart would
        try:
            wait_until_running(last)
            _wait_settled(hub, timeout=180)
        finally:
            last.terminate()
        result.kill_moments = dict(moments)
        result.deliveries = next_item * len(outlet_ids)
        result.states_after_kills = count_states(hub)
        result.before_resolution = audit(hub, posts_on_fakes(tg, fb, chats, pages, PREFIX))

        # The reconciler settles what it can (Facebook by the page's posts, Telegram by the probe),
        # its grace periods over: the unknowns' last change is moved back by them (the probe's bounds
        # come from the send times, which stay as they are); a moderator answers the rest.
        with hub.transaction() as s:
            for d in s.scalars(select(Delivery).where(Delivery.state == "unknown")):
                # Set, not shift: the dead workers' leases were swept with a clock 11 s ahead.
                d.updated_at = hub.clock.now() - GRACE - timedelta(seconds=5)
        publishers = Publishers(settings)

        undecided = _Undecided()

        async def reconcile_all() -> dict[str, int]:
            # One call settles at most 100 per platform (production runs it every minute): call
            # until a pass settles nothing more; the last pass logs why each one is left.
            total: Counter[str] = Counter()
            try:
                for _ in range(1000):
                    undecided.reasons.clear()
                    counts = await reconcile_unknown(hub, publishers)
                    total.update(counts)
                    if not counts["found"] and not counts["absent"] and not counts.get("deferred"):
                        break
                return dict(total)
            finally:
                await publishers.aclose()

        tg.latency(0)  # the kills are over: the delay only made them land mid-send
        reconcile_log = logging.getLogger("jobs.reconcile")
        level = reconcile_log.level
        reconcile_log.addHandler(undecided)
        reconcile_log.setLevel(logging.INFO)
        try:
            result.fb_reconciled = asyncio.run(reconcile_all())
        finally:
            reconcile_log.removeHandler(undecided)
            reconcile_log.setLevel(level)
        with hub.transaction() as s:
            left = set(s.scalars(select(Delivery.id).join(Outlet, Outlet.id == Delivery.outlet_id)
                                 .where(Delivery.state == "unknown", Outlet.platform == "telegram")))
        result.tg_person_reasons = dict(Counter(undecided.reasons.get(d, "not looked at (pass limit)")
                                                for d in left))
        result.tg_answered_posted, result.tg_answered_not_posted = resolve_telegram_unknowns(
            hub, tg, people.moderator.id, PREFIX)
        if any(count_states(hub).get(s) for s in UNSETTLED):
            last = start_worker(env, logs / "worker-final.log")
            try:
                wait_until_running(last)
                _wait_settled(hub, timeout=120)
            finally:
                last.terminate()
        result.final = audit(hub, posts_on_fakes(tg, fb, chats, pages, PREFIX))
        result.tg_settled_by_engine, result.tg_settled_by_person = _telegram_settlements(hub)
        result.tg_unknowns = sum(result.tg_settled_by_engine.values()) + result.tg_settled_by_person
        result.probe_forwards = len(tg.calls("forwardMessage"))
        hub.engine.dispose()
    result.seconds = time.monotonic() - started
    return result
