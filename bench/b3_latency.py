"""B3 — latency from approval to sent on an idle hub, p50/p99 over ≥ 200 items, two paths:

- ``in-process``: the hub (``network_hub.service.Service``, the same object ``network-hub run``
  runs, bot and web off) runs in this process; a moderator approves from another thread, so the
  newsroom's after-commit signal wakes the dispatcher at once (the web dashboard and the bot
  approve this way);
- ``cross-process``: ``network-hub run --no-bot --no-web`` runs as its own process and this process
  approves (like ``network-hub news approve`` from a shell): the approval's transaction announces
  the work (NOTIFY on PostgreSQL, the change counter polled every ``HUB_WAKE_POLL_S`` on SQLite),
  and the other process's listener wakes its dispatcher.

Latency = the moment this process *sees* the delivery ``sent`` in the database (a watcher thread
polls the items in flight every 5 ms; the outcome is committed by then) − the moment the approval's
commit returned. The delivery's own ``sent_at`` is stamped when the platform answered, before the
outcome is committed, so it is reported too (``answered_*``) but not used for the target. The
approvals start only once the hub is serving (its heartbeat row, and on PostgreSQL its LISTEN
session, exist) and has been idle a moment: a slow start on a loaded machine is not latency.
One Telegram channel on the fake (answering at once, windows off), approvals one at a time at
random gaps so they land in every phase of the dispatcher's 2 s tick.

``--trace`` runs the cross-process hub with every stage of each item timestamped (see
``_hub_child``): notification received → dispatcher woken → claim → ``sending`` → publisher call →
outcome committed; the result file gets the per-stage percentiles and the slowest items.

    .venv/bin/python -m bench.b3_latency                     # 200 items per path, both databases
    .venv/bin/python -m bench.b3_latency --quick             # 30 items
    .venv/bin/python -m bench.b3_latency --backends postgresql --paths cross-process --trace
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bench import common
from network_hub.db.models import Delivery, NewsItem, ProcessHeartbeat
from network_hub.hub import Hub
from network_hub.newsroom.moderation import approve_item
from network_hub.permissions import load_actor
from network_hub.service import Service
from tests.factories import seed_network

WATCH_POLL_S = 0.005
READY_TIMEOUT_S = 180.0
IDLE_BEFORE_S = 2.0


def prepare(backend: str, tg: common.FakeProcess, items: int, interval_s: float) -> tuple[Hub, list[int], int]:
    url = common.fresh_database(backend, "b3")
    # the chat window off (the fake answers at once, no limits): this measures the wake-up, not the windows
    settings = common.settings_for(url, common.WORK_DIR / "b3-data", tg, None, dispatch_interval_s=interval_s,
                                   telegram_chat_per_window=0)
    hub = Hub.from_settings(settings)
    now = datetime.now(UTC)
    with hub.transaction() as session:
        people = seed_network(session, now)
        common.add_outlets(session, now, tg, None, area="52", channels=1)
        ids = []
        for n in range(items):
            item = NewsItem(receipt_no=f"L-{n:06d}", village_code="52010101", author_id=people.reporter.id,
                            category="announcement", title=f"ข่าว {n}", body=f"ข่าวดีจากหมู่บ้าน ลำดับที่ {n}",
                            status="submitted", pdpa_flags=[], consent={}, submitted_at=now, created_at=now,
                            updated_at=now)
            session.add(item)
            session.flush()
            ids.append(item.id)
    return hub, ids, people.moderator.id


class Watcher:
    """Polls the approved items still in flight every ``WATCH_POLL_S`` and notes when each is seen
    ``sent`` (committed: this is another connection)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.waiting: set[int] = set()
        self.seen: dict[int, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="b3-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def expect(self, item_id: int) -> None:
        with self._lock:
            self.waiting.add(item_id)

    def _run(self) -> None:
        with self.hub.engine.connect() as conn:
            while not self._stop.is_set():
                with self._lock:
                    waiting = list(self.waiting)
                if waiting:
                    rows = conn.execute(select(Delivery.item_id).where(
                        Delivery.item_id.in_(waiting), Delivery.state == "sent")).scalars().all()
                    conn.rollback()
                    now = time.time()
                    with self._lock:
                        for item_id in rows:
                            if item_id in self.waiting:
                                self.waiting.discard(item_id)
                                self.seen[item_id] = now
                time.sleep(WATCH_POLL_S)

    def wait_all(self, count: int, timeout: float = 180) -> dict[int, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.seen) >= count:
                    self._stop.set()
                    return dict(self.seen)
            time.sleep(0.05)
        self._stop.set()
        raise RuntimeError(f"only {len(self.seen)} of {count} deliveries were sent in time")


def approve_all(hub: Hub, ids: list[int], moderator_id: int, gap_s: float, approved_at: dict[int, float],
                watcher: Watcher) -> None:
    rng = random.Random(3)
    for item_id in ids:
        time.sleep(gap_s * (0.5 + rng.random()))  # spread approvals over the dispatcher's tick phases
        watcher.expect(item_id)
        with hub.transaction() as session:
            approve_item(session, item_id, actor=load_actor(session, moderator_id), now=hub.clock.now(), via="web")
        approved_at[item_id] = time.time()  # committed (NOTIFY is delivered at the commit)


def answered_at(hub: Hub) -> dict[int, float]:
    """Each item's ``sent_at``: when the platform answered (stamped before the commit)."""
    with hub.transaction() as session:
        rows = session.execute(select(Delivery.item_id, Delivery.sent_at).where(Delivery.state == "sent")).all()
    return {item_id: sent_at.timestamp() for item_id, sent_at in rows}


def wait_ready(hub: Hub, timeout: float = READY_TIMEOUT_S) -> float:
    """Until a hub process is serving: its heartbeat row, and on PostgreSQL its LISTEN session."""
    started = time.monotonic()
    postgres = hub.engine.dialect.name == "postgresql"
    while time.monotonic() - started < timeout:
        with hub.transaction() as session:
            beating = session.scalar(select(ProcessHeartbeat.process_id).where(ProcessHeartbeat.stopped_at.is_(None)))
            listening = not postgres or bool(session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query ILIKE 'LISTEN%'")))
        if beating and listening:
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError("the hub did not start serving in time")


def summary(approved_at: dict[int, float], seen_at: dict[int, float], answered: dict[int, float]) -> dict[str, Any]:
    latencies = [(seen_at[i] - approved_at[i]) * 1000 for i in approved_at]
    platform = [(answered[i] - approved_at[i]) * 1000 for i in approved_at]
    first = min(approved_at, key=approved_at.__getitem__)
    pct = common.percentile
    return {"items": len(latencies), "p50_ms": round(pct(latencies, 50), 1), "p90_ms": round(pct(latencies, 90), 1),
            "p99_ms": round(pct(latencies, 99), 1), "max_ms": round(max(latencies), 1),
            "min_ms": round(min(latencies), 1), "first_item_ms": round((seen_at[first] - approved_at[first]) * 1000, 1),
            "answered_p50_ms": round(pct(platform, 50), 1), "answered_p99_ms": round(pct(platform, 99), 1)}


def in_process(backend: str, tg: common.FakeProcess, items: int, gap_s: float, interval_s: float,
               trace: bool = False) -> dict[str, Any]:
    hub, ids, moderator_id = prepare(backend, tg, items, interval_s)
    approved_at: dict[int, float] = {}
    watcher = Watcher(hub)
    seen: dict[int, float] = {}

    async def main() -> None:
        service = Service(hub, with_bot=False, with_web=False)
        running = asyncio.create_task(service.run())
        await asyncio.to_thread(wait_ready, hub)
        await asyncio.sleep(IDLE_BEFORE_S)
        watcher.start()
        await asyncio.to_thread(approve_all, hub, ids, moderator_id, gap_s, approved_at, watcher)
        seen.update(await asyncio.to_thread(watcher.wait_all, items))
        service.stopping.set()
        await running

    asyncio.run(main())
    result = summary(approved_at, seen, answered_at(hub))
    hub.close()
    return result


def cross_process(backend: str, tg: common.FakeProcess, items: int, gap_s: float, interval_s: float,
                  trace: bool = False) -> dict[str, Any]:
    hub, ids, moderator_id = prepare(backend, tg, items, interval_s)
    log_path = common.WORK_DIR / "logs" / f"b3-run-{backend}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    trace_path = common.WORK_DIR / f"b3-trace-{backend}.jsonl"
    env = common.hub_env(hub.settings)
    if trace:
        command = [common.PYTHON, "-m", "bench.b3_latency", "--hub-child"]
        env["B3_TRACE"] = str(trace_path)
    else:
        command = [str(common.ROOT / ".venv/bin/network-hub"), "run", "--no-bot", "--no-web", "--log-level", "WARNING"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=common.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        try:
            startup_s = wait_ready(hub)
            time.sleep(IDLE_BEFORE_S)  # started and idle
            watcher = Watcher(hub)
            watcher.start()
            approved_at: dict[int, float] = {}
            approve_all(hub, ids, moderator_id, gap_s, approved_at, watcher)
            seen = watcher.wait_all(items)
        finally:
            process.terminate()
            process.wait(40)
    result = summary(approved_at, seen, answered_at(hub))
    result["hub_startup_s"] = round(startup_s, 1)
    if trace:
        with hub.transaction() as session:
            item_of = {d: i for d, i in session.execute(select(Delivery.id, Delivery.item_id)).all()}
        result["stages"] = stage_breakdown(trace_path, item_of, approved_at, seen)
    hub.close()
    return result


# -- the traced hub (``--trace``) -------------------------------------------------------------------
STAGES = ("notified", "woken", "claim_started", "claimed", "sending", "publish_started", "answered",
          "committed", "seen")


def stage_breakdown(trace_path: Path, item_of: dict[int, int], approved_at: dict[int, float],
                    seen: dict[int, float]) -> dict[str, Any]:
    """Per item, each stage's moment after the approval's commit (ms); percentiles per stage."""
    events = [json.loads(line) for line in trace_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    notified = sorted(e["t"] for e in events if e["k"] == "notified")
    woken = sorted(e["t"] for e in events if e["k"] == "woken")
    by_delivery: dict[int, dict[str, float]] = {}
    for e in events:
        for delivery_id in e.get("ids", ()):
            stages = by_delivery.setdefault(delivery_id, {})
            if e["k"] == "claim":
                stages.update(claim_started=e["t0"], claimed=e["t1"])
            elif e["k"] == "sending":
                stages["sending"] = e["t1"]
            elif e["k"] == "publish":
                stages.update(publish_started=e["t0"], answered=e["t1"])
            elif e["k"] == "record":
                stages["committed"] = e["t1"]

    def first_after(times: list[float], t: float) -> float | None:
        return next((x for x in times if x >= t - 0.005), None)  # NOTIFY may beat the approver's clock read

    rows = []
    for delivery_id, stages in by_delivery.items():
        item_id = item_of.get(delivery_id)
        if item_id not in approved_at:
            continue
        t0 = approved_at[item_id]
        stages = dict(stages)
        n = first_after(notified, t0)
        if n is not None and n <= stages.get("claimed", n):
            stages["notified"] = n
            w = first_after(woken, n)
            if w is not None and w <= stages.get("claimed", w):
                stages["woken"] = w
        stages["seen"] = seen[item_id]
        rows.append({"item": item_id, **{k: round((stages[k] - t0) * 1000, 1) for k in STAGES if k in stages}})
    pct = common.percentile
    table = {}
    for stage in STAGES:
        values = [r[stage] for r in rows if stage in r]
        if values:
            table[stage] = {"p50": pct(values, 50), "p90": pct(values, 90), "p99": pct(values, 99), "max": max(values)}
    slowest = sorted(rows, key=lambda r: r["seen"], reverse=True)[:5]
    return {"ms_after_approval": table, "slowest_items": slowest}


def _hub_child() -> None:
    """``network-hub run --no-bot --no-web`` with each stage of each delivery written to ``$B3_TRACE``
    (JSON lines). Wraps the stable entry points only, so it follows the engine as it changes."""
    from sqlalchemy import event

    from jobs import dispatch, outcomes
    from network_hub.cli.app import main
    from network_hub.outbox import queries, signals, transitions

    out = open(os.environ["B3_TRACE"], "w", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    lock = threading.Lock()

    def note(kind: str, **values: Any) -> None:
        with lock:
            out.write(json.dumps({"k": kind, "t": time.time(), **values}) + "\n")

    fire = signals.Listener._fire

    def traced_fire(self: signals.Listener) -> None:
        note("notified")
        fire(self)

    signals.Listener._fire = traced_fire  # type: ignore[method-assign]
    wake = dispatch.Dispatcher.wake

    def traced_wake(self: dispatch.Dispatcher) -> None:
        wake(self)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(note, "woken")  # runs right after the event is set

    dispatch.Dispatcher.wake = traced_wake  # type: ignore[method-assign]
    run_once = dispatch.Dispatcher.run_once

    async def traced_run_once(self: dispatch.Dispatcher) -> dispatch.PassReport:
        t0 = time.time()
        report = await run_once(self)
        note("pass", t0=t0, t1=time.time(), claimed=report.claimed)
        return report

    dispatch.Dispatcher.run_once = traced_run_once  # type: ignore[method-assign]
    claim_due = queries.claim_due
    # ``claimed → sending``: the function's name changes as the engine does
    starter = next(n for n in ("start_prepared", "start_sending_batch") if hasattr(transitions, n))
    start_sending = getattr(transitions, starter)

    def traced_claim(*args: Any, **kwargs: Any) -> Any:
        t0 = time.time()
        claims = claim_due(*args, **kwargs)
        note("claim", t0=t0, t1=time.time(), ids=[c.delivery_id for c in claims])
        return claims

    def traced_start(*args: Any, **kwargs: Any) -> Any:
        t0 = time.time()
        jobs = start_sending(*args, **kwargs)
        note("sending", t0=t0, t1=time.time(), ids=[j.delivery_id for j in jobs])
        return jobs

    queries.claim_due = traced_claim  # type: ignore[assignment]
    setattr(transitions, starter, traced_start)
    send = dispatch.Dispatcher._send

    async def traced_send(self: dispatch.Dispatcher, job: Any) -> Any:
        t0 = time.time()
        outcome = await send(self, job)
        note("publish", t0=t0, t1=time.time(), ids=[job.delivery_id])
        return outcome

    dispatch.Dispatcher._send = traced_send  # type: ignore[method-assign]
    apply = outcomes.OutcomeWriter._apply

    def traced_apply(self: outcomes.OutcomeWriter, session: Any, batch: list[Any]) -> Any:
        t0 = time.time()
        states = apply(self, session, batch)
        ids = [o.job.delivery_id for o in batch]
        event.listen(session, "after_commit", lambda _s: note("record", t0=t0, t1=time.time(), ids=ids), once=True)
        return states

    outcomes.OutcomeWriter._apply = traced_apply  # type: ignore[method-assign]
    from network_hub.service import runner

    for factory in ("_db_job", "_async_job"):
        def traced_factory(self: Any, name: str, fn: Any, _make: Any = getattr(runner.Service, factory)) -> Any:
            job = _make(self, name, fn)

            async def run() -> Any:
                t0 = time.time()
                try:
                    return await job()
                finally:
                    note("job", t0=t0, t1=time.time(), name=name)

            return run

        setattr(runner.Service, factory, traced_factory)
    sys.exit(main(["run", "--no-bot", "--no-web", "--log-level", "WARNING"]))


def main() -> None:
    if "--hub-child" in sys.argv:
        _hub_child()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--gap-s", type=float, default=0.25, help="mean pause between approvals")
    parser.add_argument("--backends", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--paths", choices=("in-process", "cross-process", "both"), default="both")
    parser.add_argument("--trace", action="store_true", help="timestamp each stage in the cross-process hub")
    parser.add_argument("--quick", action="store_true", help="30 items per path")
    parser.add_argument("--output", default="b3_latency", help="result file name in bench/results/ (b3_*)")
    args = parser.parse_args()
    if args.quick:
        args.items = 30
    if not args.output.startswith("b3_"):
        parser.error("--output must start with b3_")
    interval_s = 2.0  # the default HUB_DISPATCH_INTERVAL_S
    paths = [("in-process", in_process), ("cross-process", cross_process)]
    if args.paths != "both":
        paths = [p for p in paths if p[0] == args.paths]
    cases = []
    with common.fakes(channels=1) as (tg, _fb):
        for backend in common.backends(args.backends):
            for path, measure in paths:
                tg.reset()
                load_before = os.getloadavg()
                result = {"backend": backend, "path": path,
                          **measure(backend, tg, args.items, args.gap_s, interval_s, args.trace)}
                result["load_avg_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
                print({k: v for k, v in result.items() if k != "stages"}, flush=True)
                if "stages" in result:
                    for stage, figures in result["stages"]["ms_after_approval"].items():
                        print(f"  {stage:>16}: " + "  ".join(f"{k} {v:7.1f}" for k, v in figures.items()), flush=True)
                cases.append(result)
    common.save_result(args.output, {"quick": args.quick, "dispatch_interval_s": interval_s,
                                     "measured": "approval commit → sent seen committed by another connection",
                                     "cases": cases})


if __name__ == "__main__":
    main()
