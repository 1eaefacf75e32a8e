"""B4 — national scale: load time, one reminder-planning pass over the whole country, a moderator's
queue and a district's statistics (domain function and web page, p50/p99), and the peak resident
memory of ``network-hub run`` on that database. SQLite and PostgreSQL.

    .venv/bin/python -m bench.b4_national_scale                  # 1,000,000 items, both databases
    .venv/bin/python -m bench.b4_national_scale --scale 0.02     # 2 % of the items and members
    .venv/bin/python -m bench.b4_national_scale --reuse          # measure an already loaded database
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from bench import common, national_data
from network_hub.hub import Hub
from network_hub.newsroom.queries import pending_queue
from network_hub.permissions import load_actor
from network_hub.stats import village_statistics
from network_hub.web.app import create_app

PASSWORD = "bench-password-2569"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def timings(fn: Callable[[], Any], runs: int, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(common.percentile(samples, 50), 2), "p99_ms": round(common.percentile(samples, 99), 2),
            "max_ms": round(max(samples), 2), "runs": runs}


def sign_in(client: TestClient, phone: str) -> None:
    page = client.get("/login")
    match = CSRF_RE.search(page.text)
    assert match, "no CSRF token on /login"
    response = client.post("/login", data={"account": phone, "password": PASSWORD, "csrf_token": match.group(1),
                                           "next": "/"})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in as {phone} failed: {response.status_code}")


def plan_pass(hub: Hub, label: str, timeout_s: float) -> dict[str, Any]:
    """One ``network-hub reminders run --once`` (its own process, so a pass that runs far over the
    target can be stopped and reported as such); the time includes ~1-2 s of CLI start-up."""
    started = time.perf_counter()
    try:
        done = subprocess.run([str(common.ROOT / ".venv/bin/network-hub"), "reminders", "run", "--once", "--json"],
                              cwd=common.ROOT, env=common.hub_env(hub.settings), capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {f"plan_reminders_{label}_pass_s": None,
                f"plan_reminders_{label}_pass_report": f"did not finish within {timeout_s:.0f} s (stopped)"}
    seconds = round(time.perf_counter() - started, 2)
    report: Any = done.stdout.strip()[-400:] if done.returncode == 0 else f"failed: {done.stderr.strip()[-400:]}"
    return {f"plan_reminders_{label}_pass_s": seconds, f"plan_reminders_{label}_pass_report": report}


def measure(hub: Hub, shape: national_data.NationalShape, runs: int, plan_timeout_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in ("first", "second"):
        out.update(plan_pass(hub, label, plan_timeout_s))
    now = hub.clock.now()

    def queue() -> int:
        with hub.transaction() as session:
            return len(pending_queue(session, load_actor(session, shape.moderator_id)))

    def district_stats() -> int:
        with hub.transaction() as session:
            return len(village_statistics(session, area_code=shape.coordinator_district, start=now - timedelta(days=30),
                                          end=now, now=now))

    out["queue_items"] = queue()
    out["district_villages"] = district_stats()
    out["pending_queue"] = timings(queue, runs)
    out["village_statistics"] = timings(district_stats, runs)
    app = create_app(hub)
    with TestClient(app, follow_redirects=False) as moderator, TestClient(app, follow_redirects=False) as coordinator:
        sign_in(moderator, str(shape.moderator_id))
        sign_in(coordinator, str(shape.coordinator_id))

        def queue_page() -> None:
            response = moderator.get("/queue")
            if response.status_code != 200:
                raise RuntimeError(f"/queue answered {response.status_code}")

        def stats_page() -> None:
            response = coordinator.get(f"/stats?area={shape.coordinator_district}")
            if response.status_code != 200:
                raise RuntimeError(f"/stats answered {response.status_code}")

        out["queue_page"] = timings(queue_page, runs)
        out["stats_page"] = timings(stats_page, runs)
    return out


def run_process_rss(settings: Any, seconds: float) -> dict[str, Any]:
    """Start ``network-hub run --no-bot`` (web on) on the loaded database and read its peak RSS."""
    env = common.hub_env(settings)
    env["HUB_WEB_PORT"] = "18931"
    log_path = common.WORK_DIR / "logs" / f"b4-run-{settings.database_url.split(':')[0]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(common.ROOT / ".venv/bin/network-hub"), "run", "--no-bot"], cwd=common.ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        samples = []
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and process.poll() is None:
                time.sleep(1)
                samples.append(common.rss_peak_kib(process.pid))
            peak = common.rss_peak_kib(process.pid) if process.poll() is None else max(samples, default=0)
        finally:
            process.terminate()
            process.wait(60)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    jobs_ran = sorted(set(re.findall(r'Job "([\w-]+) \(trigger', text)))
    return {"peak_rss_mib": round(peak / 1024, 1), "seconds": seconds, "exit_code": process.returncode,
            "log": str(log_path), "jobs_seen": jobs_ran,
            "errors_in_log": len(re.findall(r"Traceback|ERROR", text))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the items and members (villages stay)")
    parser.add_argument("--runs", type=int, default=200, help="samples per latency figure")
    parser.add_argument("--run-seconds", type=float, default=90, help="how long network-hub run is watched")
    parser.add_argument("--plan-timeout-s", type=float, default=180, help="stop a planning pass after this")
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run loaded")
    parser.add_argument("--quick", action="store_true", help="--scale 0.01, 50 runs, 30 s of network-hub run")
    args = parser.parse_args()
    if args.quick:
        args.scale, args.runs, args.run_seconds = 0.01, 50, 30
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    results: dict[str, Any] = {"scale": args.scale, "cases": []}
    for backend in common.backends(args.backends):
        name = "b4" if args.scale == 1.0 else f"b4s{int(args.scale * 1000)}"
        shape = national_data.NationalShape(items=int(national_data.ITEMS * args.scale),
                                            members=max(10_000, int(national_data.MEMBERS * args.scale)))
        url = common.database_url(backend, name) if args.reuse else common.fresh_database(backend, name)
        settings = common.settings_for(url, common.WORK_DIR / "b4-data", None, None)
        hub = Hub.from_settings(settings)
        started = time.perf_counter()
        if args.reuse:
            national_data.add_missing_indexes(hub.engine)  # indexes added to the models since the load
            shape = national_data.describe(hub, shape)
        else:
            shape = national_data.load(hub, datetime.now(UTC), shape, password_hash)
        load_s = round(time.perf_counter() - started, 1)
        print(backend, "loaded in", load_s, "s", shape.counts, flush=True)
        case: dict[str, Any] = {"backend": backend, "load_s": None if args.reuse else load_s,
                                "load_parts_s": {k: round(v, 1) for k, v in shape.seconds.items()},
                                "counts": shape.counts, "moderator_tambon": shape.moderator_tambon,
                                "district": shape.coordinator_district}
        case.update(measure(hub, shape, args.runs, args.plan_timeout_s))
        print(backend, case, flush=True)
        hub.close()
        case["network_hub_run"] = run_process_rss(settings, args.run_seconds)
        print(backend, case["network_hub_run"], flush=True)
        results["cases"].append(case)
    # Keep the other database's figures from an earlier run (each backend can be run on its own).
    previous = common.RESULTS_DIR / "b4_national_scale.json"
    if previous.exists():
        import json

        measured = {c["backend"] for c in results["cases"]}
        kept = [c for c in json.loads(previous.read_text(encoding="utf-8")).get("cases", [])
                if c.get("backend") not in measured and "network_hub_run" in c]
        results["cases"] = kept + results["cases"]
    common.save_result("b4_national_scale", results)


if __name__ == "__main__":
    main()
