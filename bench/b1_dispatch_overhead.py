"""B1 — dispatch overhead: the hub's Dispatcher against a bare loop of the same publisher calls.

Both arms send the same number of posts, half to a Telegram channel and half to a Facebook Page,
through the same ``Publishers`` (python-telegram-bot, facebook-sdk), with the same concurrency, to
the same fake processes (limits off). The bare arm has no database; the hub arm claims, marks
sending, sends and group-commits outcomes exactly as ``network-hub run`` does. Arms alternate
within each round (the machine is shared and noisy); the figures are medians over rounds. The hub
arm also reports the SQL statements and commits it sent per delivery (the database work, counted
the same way on every commit, so a change to the hot path shows up even when the machine is busy).

    .venv/bin/python -m bench.b1_dispatch_overhead              # 5,000 deliveries, 3 rounds, both DBs
    .venv/bin/python -m bench.b1_dispatch_overhead --quick      # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bench import common
from jobs.dispatch import Dispatcher
from network_hub.areas import attribution
from network_hub.hub import Hub
from publishers.base import OutletTarget, Post
from publishers.registry import Publishers, target_for
from tests.factories import seed_network


async def bare_arm(settings: Any, targets: list[OutletTarget], footer: dict[str, str], count: int,
                   concurrency: int, prefix: str) -> tuple[float, float]:
    """The same publisher calls the dispatcher makes, from a semaphore-bounded loop; no database."""
    publishers = Publishers(settings)
    semaphore = asyncio.Semaphore(concurrency)
    published = datetime.now(UTC)
    failures = 0

    async def one(n: int) -> None:
        nonlocal failures
        target = targets[n % len(targets)]
        item = n // len(targets)
        post = Post(receipt_no=f"{prefix}-{item:07d}", category="announcement", title=f"ข่าวทดสอบ {item}",
                    body=f"ข่าวดีจากหมู่บ้าน ลำดับที่ {item}", attribution=footer, published_at=published)
        async with semaphore:
            try:
                await common_publish(publishers, target, post)
            except Exception:
                failures += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await publishers.aclose()
    if failures:
        raise RuntimeError(f"bare arm: {failures} publish calls failed")
    return wall, cpu


async def common_publish(publishers: Publishers, target: OutletTarget, post: Post) -> None:
    await publishers.get(target.platform).publish(post, target)


async def hub_arm(settings: Any, concurrency: int) -> tuple[float, float, dict[str, int]]:
    """One ``run_once`` pass over the seeded deliveries; also counts the SQL statements and commits
    it sends (``sql`` in the result: the work per delivery, measured the same way before and after)."""
    hub = Hub.from_settings(settings)
    publishers = Publishers(settings)
    dispatcher = Dispatcher(hub, publishers, concurrency=concurrency)
    sql = {"statements": 0, "commits": 0}

    def statement(*_args: Any) -> None:
        sql["statements"] += 1

    def commit(*_args: Any) -> None:
        sql["commits"] += 1

    event.listen(hub.engine, "before_cursor_execute", statement)
    event.listen(hub.engine, "commit", commit)
    cpu, wall = time.process_time(), time.perf_counter()
    report = await dispatcher.run_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    event.remove(hub.engine, "before_cursor_execute", statement)
    event.remove(hub.engine, "commit", commit)
    await publishers.aclose()
    dispatcher._executor.shutdown(wait=True)
    states = common.count_states(hub.engine)
    hub.close()
    if report.sent != sum(states.values()) or set(states) != {"sent"}:
        raise RuntimeError(f"hub arm did not send everything: {report.outcomes} {states}")
    return wall, cpu, {**states, **sql}


def seed(url: str, settings: Any, tg: common.FakeProcess, fb: common.FakeProcess, items: int,
         prefix: str) -> tuple[list[OutletTarget], dict[str, str]]:
    hub = Hub.from_settings(settings)
    now = datetime.now(UTC) - timedelta(seconds=1)
    with hub.transaction() as session:
        people = seed_network(session, now)
        outlets = common.add_outlets(session, now, tg, fb, area="52", channels=1)
        common.add_approved(session, now, people.reporter.id, outlets, items, prefix=prefix)
        targets = [target_for(o) for o in outlets]
        footer = attribution(session, "52010101")
    hub.close()
    return targets, footer


def run(args: argparse.Namespace) -> dict[str, Any]:
    deliveries = args.deliveries
    items = deliveries // 2
    results: dict[str, Any] = {"deliveries_per_arm": items * 2, "rounds": args.rounds,
                               "concurrency": args.concurrency, "cases": []}
    with common.fakes(channels=1) as (tg, fb):
        for latency_ms in args.latency_ms:
            tg.config(latency_s=latency_ms / 1000, rate_limits=False)
            fb.config(latency_s=latency_ms / 1000)
            for backend in common.backends(args.backends):
                case: dict[str, Any] = {"backend": backend, "latency_ms": latency_ms, "rounds": []}
                for round_no in range(args.rounds):
                    url = common.fresh_database(backend, "b1")
                    data_dir = common.WORK_DIR / "b1-data"
                    settings = common.settings_for(url, data_dir, tg, fb, telegram_bot_per_second=0,
                                                   telegram_chat_per_window=0,
                                                   dispatch_concurrency=args.concurrency,
                                                   dispatch_batch=args.batch)
                    targets, footer = seed(url, settings, tg, fb, items, prefix=f"H{round_no}")
                    figures: dict[str, Any] = {}
                    order = ("bare", "hub") if round_no % 2 == 0 else ("hub", "bare")
                    for arm in order:
                        tg.reset()
                        fb.reset()
                        if arm == "bare":
                            wall, cpu = asyncio.run(bare_arm(settings, targets, footer, items * 2,
                                                             args.concurrency, prefix=f"B{round_no}"))
                        else:
                            wall, cpu, counted = asyncio.run(hub_arm(settings, args.concurrency))
                        seen_tg, seen_fb = tg.stats(), fb.stats()
                        posted = seen_tg["posts"] + seen_fb["posts"]
                        duplicates = seen_tg["duplicated_receipts"] + seen_fb["duplicated_receipts"]
                        if posted != items * 2 or duplicates:
                            raise RuntimeError(f"{arm}: the fakes saw {posted} posts, {duplicates} duplicated")
                        figures[arm] = {"seconds": round(wall, 3), "per_s": round(items * 2 / wall, 1),
                                        "cpu_ms_per_delivery": round(cpu * 1000 / (items * 2), 3)}
                        if arm == "hub":
                            figures[arm]["sql_statements_per_delivery"] = round(counted["statements"] / (items * 2), 2)
                            figures[arm]["commits_per_delivery"] = round(counted["commits"] / (items * 2), 3)
                    figures["ratio"] = round(figures["hub"]["per_s"] / figures["bare"]["per_s"], 3)
                    figures["order"] = list(order)
                    print(backend, f"{latency_ms}ms", f"round {round_no}:", figures, flush=True)
                    case["rounds"].append(figures)
                case["median_bare_per_s"] = round(common.median([r["bare"]["per_s"] for r in case["rounds"]]), 1)
                case["median_hub_per_s"] = round(common.median([r["hub"]["per_s"] for r in case["rounds"]]), 1)
                case["median_ratio"] = round(common.median([r["ratio"] for r in case["rounds"]]), 3)
                case["median_cpu_ms_bare"] = common.median([r["bare"]["cpu_ms_per_delivery"] for r in case["rounds"]])
                case["median_cpu_ms_hub"] = common.median([r["hub"]["cpu_ms_per_delivery"] for r in case["rounds"]])
                case["median_sql_statements_per_delivery"] = common.median(
                    [r["hub"]["sql_statements_per_delivery"] for r in case["rounds"]])
                case["median_commits_per_delivery"] = common.median(
                    [r["hub"]["commits_per_delivery"] for r in case["rounds"]])
                results["cases"].append(case)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=5000, help="deliveries per arm (half each platform)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="the default HUB_DISPATCH_CONCURRENCY")
    parser.add_argument("--batch", type=int, default=20, help="the default HUB_DISPATCH_BATCH")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50])
    parser.add_argument("--backends", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="400 deliveries, 1 round (smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.deliveries, args.rounds = 400, 1
    common.save_result("b1_dispatch_overhead", {"quick": args.quick, **run(args)})


if __name__ == "__main__":
    main()
