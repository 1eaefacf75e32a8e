"""B5 — scaling out: 1, 2 and 4 ``network-hub run --no-bot --no-web`` processes on one PostgreSQL
database, the fakes adding 50 ms to every call (a realistic platform), per-bot limit off.

The deliveries are seeded due a few seconds in the future, so every process is up and idle when
they fall due; throughput is deliveries ÷ (last ``sent_at`` − due time), read from the database.
Duplicates are counted on the fakes: posts per receipt number.

    .venv/bin/python -m bench.b5_scale_out             # 3,000 deliveries per run, 2 rounds of 1, 2, 4
    .venv/bin/python -m bench.b5_scale_out --quick
"""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from bench import common
from network_hub.hub import Hub
from tests.factories import seed_network

START_DELAY_S = 12.0  # time for the processes to start before the work falls due


def one_run(processes: int, deliveries: int, tg: common.FakeProcess, fb: common.FakeProcess,
            channels: int, run_no: int) -> dict[str, Any]:
    url = common.fresh_database("postgresql", "b5")
    settings = common.settings_for(url, common.WORK_DIR / "b5-data", tg, fb, telegram_bot_per_second=0,
                                   telegram_chat_per_window=0)
    hub = Hub.from_settings(settings)
    now = datetime.now(UTC)
    due = now + timedelta(seconds=START_DELAY_S)
    with hub.transaction() as session:
        people = seed_network(session, now)
        outlets = common.add_outlets(session, now, tg, fb, channels=channels)
        items = deliveries // len(outlets)
        common.add_approved(session, now, people.reporter.id, outlets, items, prefix=f"S{run_no}")
        session.execute(text("UPDATE deliveries SET due_at = :due"), {"due": due})
    total = items * len(outlets)
    tg.reset()
    fb.reset()
    env = common.hub_env(settings)
    logs = common.WORK_DIR / "logs"
    children = []
    for n in range(processes):
        log = open(logs / f"b5-{processes}-{n}.log", "wb")  # noqa: SIM115 - closed below
        children.append((subprocess.Popen([str(common.ROOT / ".venv/bin/network-hub"), "run", "--no-bot", "--no-web",
                                           "--log-level", "WARNING"], cwd=common.ROOT, env=env, stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), log))
    try:
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        busy_before = common.cpu_times()
        cpu_before = sum(common.process_cpu_s(p.pid) for p, _ in children)
        deadline = time.monotonic() + 600
        busy, hub_cpu = float("nan"), float("nan")
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with hub.engine.connect() as conn:
                left = conn.execute(text("SELECT count(*) FROM deliveries WHERE state <> 'sent'")).scalar_one()
            if not left:
                busy = common.busy_fraction(busy_before, common.cpu_times())
                hub_cpu = sum(common.process_cpu_s(p.pid) for p, _ in children) - cpu_before
                break
            if any(p.poll() is not None for p, _ in children):
                raise RuntimeError("a network-hub process exited early; see the b5 logs")
        with hub.engine.connect() as conn:
            states = dict(conn.execute(text("SELECT state, count(*) FROM deliveries GROUP BY state")).all())
            last_sent = conn.execute(text("SELECT max(sent_at) FROM deliveries")).scalar_one()
            first_sent = conn.execute(text("SELECT min(sent_at) FROM deliveries")).scalar_one()
            by_owner = conn.execute(text(
                "SELECT count(DISTINCT worker) FROM delivery_attempts")).scalar_one()
            attempts = conn.execute(text("SELECT count(*) FROM delivery_attempts")).scalar_one()
    finally:
        for process, _log in children:
            process.terminate()
        for process, log in children:
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        hub.close()
    seen_tg, seen_fb = tg.stats(), fb.stats()
    seconds = (last_sent - due).total_seconds()
    return {
        "processes": processes, "deliveries": total, "states": states,
        "seconds_from_due_to_last_sent": round(seconds, 2),
        "first_sent_after_due_s": round((first_sent - due).total_seconds(), 2),
        "per_s": round(total / seconds, 1),
        "workers_that_sent": by_owner, "attempts": attempts,
        "machine_busy_fraction": busy, "hub_cpu_ms_per_delivery": round(hub_cpu * 1000 / total, 2),
        "posts_on_fakes": seen_tg["posts"] + seen_fb["posts"],
        "duplicated_receipts": seen_tg["duplicated_receipts"] + seen_fb["duplicated_receipts"],
        "status_429": seen_tg["status_429"] + seen_fb["status_429"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2, help="each round runs 1, 2, 4 (then 4, 2, 1) processes")
    parser.add_argument("--channels", type=int, default=7, help="Telegram channels (plus one Facebook Page)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="600 deliveries, one round")
    args = parser.parse_args()
    if args.quick:
        args.deliveries, args.rounds = 600, 1
    if not common.backends("postgresql"):
        raise SystemExit("B5 needs PostgreSQL (HUB_BENCH_PG_URL)")
    runs: list[dict[str, Any]] = []
    with common.fakes(channels=args.channels) as (tg, fb):
        tg.config(latency_s=args.latency_ms / 1000, rate_limits=False)
        fb.config(latency_s=args.latency_ms / 1000)
        run_no = 0
        for round_no in range(args.rounds):
            order = (1, 2, 4) if round_no % 2 == 0 else (4, 2, 1)
            for processes in order:
                result = one_run(processes, args.deliveries, tg, fb, args.channels, run_no)
                run_no += 1
                print(result, flush=True)
                runs.append(result)
    medians = {k: common.median([r["per_s"] for r in runs if r["processes"] == k]) for k in (1, 2, 4)}
    common.save_result("b5_scale_out", {
        "quick": args.quick, "latency_ms": args.latency_ms, "channels": args.channels, "runs": runs,
        "median_per_s": medians,
        "ratio_2_to_1": round(medians[2] / medians[1], 2), "ratio_4_to_1": round(medians[4] / medians[1], 2),
        "duplicates_total": sum(r["duplicated_receipts"] for r in runs),
        "lost_total": sum(r["deliveries"] - r["states"].get("sent", 0) for r in runs),
    })


if __name__ == "__main__":
    main()
