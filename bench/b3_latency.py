"""B3 — latency from approval to sent on an idle hub, p50/p99 over ≥ 200 items, two paths:

- ``in-process``: the hub (``jobs.service.Service``, the same object ``network-hub run`` runs,
  bot and web off) runs in this process; a moderator approves from another thread, so the
  newsroom's after-commit signal wakes the dispatcher at once (the web dashboard and the bot
  approve this way);
- ``cross-process``: ``network-hub run --no-bot --no-web`` runs as its own process and this process
  approves (like ``network-hub news approve`` from a shell): the approval's transaction announces
  the work (engine v2: NOTIFY on PostgreSQL, the change counter polled every ``HUB_WAKE_POLL_S``
  on SQLite), and the other process's listener wakes its dispatcher.

Latency = the delivery's ``sent_at`` (written when the platform answered) − the moment the approval
committed. One Telegram channel on the fake (answering at once, pacing off), one approval at a time.

    .venv/bin/python -m bench.b3_latency            # 200 items per path, both databases
    .venv/bin/python -m bench.b3_latency --quick
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bench import common
from network_hub.db.models import Delivery, NewsItem
from network_hub.hub import Hub
from network_hub.newsroom.moderation import approve_item
from network_hub.permissions import load_actor
from network_hub.service import Service
from tests.factories import seed_network


def prepare(backend: str, tg: common.FakeProcess, items: int, interval_s: float) -> tuple[Hub, list[int], int]:
    url = common.fresh_database(backend, "b3")
    # pacing off (the fake answers at once, no limits): this measures the wake-up, not the windows
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


def approve_all(hub: Hub, ids: list[int], moderator_id: int, gap_s: float, approved_at: dict[int, float]) -> None:
    rng = random.Random(3)
    for item_id in ids:
        time.sleep(gap_s * (0.5 + rng.random()))  # spread approvals over the dispatcher's tick phases
        with hub.transaction() as session:
            approve_item(session, item_id, actor=load_actor(session, moderator_id), now=hub.clock.now(), via="web")
        approved_at[item_id] = time.time()  # committed (the signal fired after the commit)


def wait_sent(hub: Hub, count: int, timeout: float = 120) -> dict[int, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with hub.transaction() as session:
            rows = session.execute(select(Delivery.item_id, Delivery.sent_at).where(Delivery.state == "sent")).all()
        if len(rows) >= count:
            return {item_id: sent_at.timestamp() for item_id, sent_at in rows}
        time.sleep(0.5)
    raise RuntimeError(f"only {len(rows)} of {count} deliveries were sent in time")


def summary(approved_at: dict[int, float], sent_at: dict[int, float]) -> dict[str, Any]:
    latencies = [(sent_at[i] - approved_at[i]) * 1000 for i in approved_at]
    return {"items": len(latencies), "p50_ms": round(common.percentile(latencies, 50), 1),
            "p90_ms": round(common.percentile(latencies, 90), 1), "p99_ms": round(common.percentile(latencies, 99), 1),
            "max_ms": round(max(latencies), 1), "min_ms": round(min(latencies), 1)}


def in_process(backend: str, tg: common.FakeProcess, items: int, gap_s: float, interval_s: float) -> dict[str, Any]:
    hub, ids, moderator_id = prepare(backend, tg, items, interval_s)
    approved_at: dict[int, float] = {}

    async def main() -> None:
        service = Service(hub, with_bot=False, with_web=False)
        running = asyncio.create_task(service.run())
        await asyncio.sleep(2)  # started and idle
        approver = threading.Thread(target=approve_all, args=(hub, ids, moderator_id, gap_s, approved_at))
        approver.start()
        await asyncio.to_thread(approver.join)
        await asyncio.to_thread(wait_sent, hub, items)
        service.stopping.set()
        await running

    asyncio.run(main())
    result = summary(approved_at, wait_sent(hub, items))
    hub.close()
    return result


def cross_process(backend: str, tg: common.FakeProcess, items: int, gap_s: float, interval_s: float) -> dict[str, Any]:
    hub, ids, moderator_id = prepare(backend, tg, items, interval_s)
    log_path = common.WORK_DIR / "logs" / f"b3-run-{backend}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(common.ROOT / ".venv/bin/network-hub"), "run", "--no-bot", "--no-web",
                                    "--log-level", "WARNING"], cwd=common.ROOT, env=common.hub_env(hub.settings),
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            time.sleep(6)  # started and idle
            approved_at: dict[int, float] = {}
            approve_all(hub, ids, moderator_id, gap_s, approved_at)
            sent_at = wait_sent(hub, items)
        finally:
            process.terminate()
            process.wait(40)
    result = summary(approved_at, sent_at)
    hub.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--gap-s", type=float, default=0.25, help="mean pause between approvals")
    parser.add_argument("--backends", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="30 items per path")
    args = parser.parse_args()
    if args.quick:
        args.items = 30
    interval_s = 2.0  # the default HUB_DISPATCH_INTERVAL_S
    cases = []
    with common.fakes(channels=1) as (tg, _fb):
        for backend in common.backends(args.backends):
            for path, measure in (("in-process", in_process), ("cross-process", cross_process)):
                tg.reset()
                result = {"backend": backend, "path": path, **measure(backend, tg, args.items, args.gap_s, interval_s)}
                print(result, flush=True)
                cases.append(result)
    common.save_result("b3_latency", {"quick": args.quick, "dispatch_interval_s": interval_s, "cases": cases})


if __name__ == "__main__":
    main()
