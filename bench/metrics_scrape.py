"""Metrics scrape: how long one ``/metrics`` collection takes on a hub with many deliveries.

    .venv/bin/python -m bench.metrics_scrape                     # 100,000 deliveries, SQLite and PostgreSQL
    .venv/bin/python -m bench.metrics_scrape --quick             # 10,000 deliveries
    .venv/bin/python -m bench.metrics_scrape --compare FILE.py   # also time another metrics module (e.g. the
                                                                 # previous network_hub/metrics.py from git)

The data: ``--deliveries`` deliveries over 40 outlets of four platforms, spread over 90 days, in
the states a hub that has run for months holds (most sent), one attempt per finished delivery and
a retry for one in five, 20,000 direct messages and 10,000 reminder occurrences. Each scrape is the
collector's full ``collect()`` (every series, as ``/metrics`` serves it, without HTTP); the first
scrape of a process is reported apart (it builds the attempt tally), then the median and p95 of
``--scrapes`` more, with 20 new send attempts written between scrapes (as a working hub would).
The database is analysed (PostgreSQL: VACUUM ANALYZE) after loading, as autovacuum keeps a running
hub. Writes bench/results/metrics_scrape.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from bench import common
from config.settings import Settings
from network_hub.db.models import Delivery, DeliveryAttempt, NewsItem, Notification, Outlet, ReminderOccurrence
from network_hub.hub import Hub
from tests.factories import seed_network

PLATFORMS = ("telegram", "facebook", "line", "sandbox")
STATES = (("sent", 0.82), ("pending", 0.04), ("retry_wait", 0.03), ("failed", 0.04), ("unknown", 0.02),
          ("cancelled", 0.05))
OUTCOMES = ("retryable", "rate_limited", "ambiguous", "needs_human", "permanent")


def seed(hub: Hub, deliveries: int, rng: random.Random) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        member_ids = [people.reporter.id, people.moderator.id, people.coordinator.id, people.admin.id]
        outlets = [Outlet(platform=PLATFORMS[n % 4], name=f"outlet {n}", area_code="52", address=f"addr-{n}",
                          status="active", created_at=now, updated_at=now) for n in range(40)]
        s.add_all(outlets)
        s.flush()
        outlet_ids = [o.id for o in outlets]
        per_item = 4
        items = deliveries // per_item
        item_rows = [dict(receipt_no=f"M-{n:07d}", village_code="52010101", author_id=people.reporter.id,
                          category="announcement", title=f"ข่าว {n}", body=f"ข่าวดีจากหมู่บ้าน ลำดับที่ {n}",
                          status="published", pdpa_flags=[], consent={}, version=1, submitted_at=now,
                          decided_at=now, created_at=now, updated_at=now) for n in range(items)]
        for k in range(0, len(item_rows), 1000):
            item_rows[k]["status"] = "submitted"
        item_ids: list[int] = []
        for chunk in _chunks(item_rows, 2000):
            item_ids.extend(s.execute(insert(NewsItem).returning(NewsItem.id), chunk).scalars().all())
        weights = [w for _s, w in STATES]
        delivery_rows = []
        for n, item_id in enumerate(item_ids):
            due = now - timedelta(days=90) + timedelta(days=90 * n / max(1, len(item_ids)))
            for outlet_id in rng.sample(outlet_ids, per_item):
                state = rng.choices([st for st, _w in STATES], weights)[0]
                delivery_rows.append(dict(item_id=item_id, outlet_id=outlet_id, state=state, due_at=due, attempts=1,
                                          fence=1, external_ids=[], created_at=due, updated_at=due))
        delivery_ids: list[tuple[int, str, datetime]] = []
        for chunk in _chunks(delivery_rows, 2000):
            got = s.execute(insert(Delivery).returning(Delivery.id, Delivery.state, Delivery.due_at), chunk).all()
            delivery_ids.extend((i, st, d) for i, st, d in got)
        attempt_rows = []
        for delivery_id, state, due in delivery_ids:
            if state in ("pending", "cancelled"):
                continue
            if rng.random() < 0.2:
                attempt_rows.append(_attempt(delivery_id, 1, due, rng.choice(OUTCOMES)))
            outcome = {"sent": "sent", "failed": "permanent", "unknown": "ambiguous",
                       "retry_wait": "retryable"}[state]
            attempt_rows.append(_attempt(delivery_id, 2, due + timedelta(minutes=1), outcome))
        for chunk in _chunks(attempt_rows, 5000):
            s.execute(insert(DeliveryAttempt), chunk)
        note_rows = [dict(member_id=rng.choice(member_ids), kind="item_status", payload={},
                          state=rng.choice(("sent", "sent", "sent", "failed", "unreachable", "pending")),
                          due_at=now - timedelta(days=rng.random() * 90), attempts=1, created_at=now)
                     for _ in range(20_000)]
        for chunk in _chunks(note_rows, 5000):
            s.execute(insert(Notification), chunk)
        occurrence_rows = [dict(rule=rng.choice(("quiet_village", "pending_approval", "weekly_digest")),
                                member_id=rng.choice(member_ids), subject=f"village:{n}", period=f"p{n}",
                                state=rng.choice(("planned", "sent", "sent", "skipped")), payload={},
                                created_at=now, updated_at=now)
                           for n in range(10_000)]
        for chunk in _chunks(occurrence_rows, 5000):
            s.execute(insert(ReminderOccurrence), chunk)


def settle(hub: Hub, backend: str) -> None:
    """Statistics and visibility as a running hub has them (autovacuum, SQLite's optimize): the
    planner of a freshly bulk-loaded database would otherwise guess 8,000 rows for 100,000."""
    with hub.engine.connect() as conn:
        if backend == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()


def _attempt(delivery_id: int, number: int, at: datetime, outcome: str) -> dict[str, Any]:
    return dict(delivery_id=delivery_id, attempt_no=number, fence=number, worker="bench", started_at=at,
                finished_at=at, outcome=outcome, external_ids=[])


def _chunks(rows: list[dict[str, Any]], size: int) -> Any:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"metrics_under_test_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_attempts(hub: Hub, count: int) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        ids = s.scalars(select(Delivery.id).order_by(Delivery.id.desc()).limit(count)).all()
        s.execute(insert(DeliveryAttempt), [_attempt(i, 9, now, "sent") for i in ids])


def time_module(hub: Hub, module: Any, scrapes: int) -> dict[str, float]:
    collector = module.HubCollector(hub)
    started = time.perf_counter()
    first = list(collector.collect())
    cold = time.perf_counter() - started
    times = []
    for _ in range(scrapes):
        add_attempts(hub, 20)
        started = time.perf_counter()
        families = list(collector.collect())
        times.append(time.perf_counter() - started)
    assert {f.name for f in families} == {f.name for f in first}
    return {"first_ms": round(cold * 1000, 1), "median_ms": round(common.median(times) * 1000, 1),
            "p95_ms": round(common.percentile(times, 95) * 1000, 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    deliveries = 10_000 if args.quick else args.deliveries
    modules = {"current": Path("network_hub/metrics.py")}
    if args.compare:
        modules = {Path(args.compare).stem: Path(args.compare), **modules}
    cases = []
    for backend in common.backends(args.backends):
        url = common.fresh_database(backend, "metrics_scrape")
        settings = Settings(database_url=url, data_dir=common.WORK_DIR / "metrics-data")
        hub = Hub.from_settings(settings)
        started = time.perf_counter()
        seed(hub, deliveries, random.Random(15))
        settle(hub, backend)
        with hub.transaction() as s:
            attempts = s.scalar(select(DeliveryAttempt.id).order_by(DeliveryAttempt.id.desc()).limit(1))
        print(f"{backend}: seeded {deliveries} deliveries, {attempts} attempts in {time.perf_counter() - started:.0f}s")
        case: dict[str, Any] = {"backend": backend, "deliveries": deliveries, "attempts": attempts, "modules": {}}
        for name, path in modules.items():
            case["modules"][name] = time_module(hub, _load(path), args.scrapes)
            print(f"  {name}: {case['modules'][name]}")
        hub.close()
        cases.append(case)
    return {"quick": args.quick, "scrapes": args.scrapes, "cases": cases,
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--backends", default="both", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--compare", help="another metrics module to time on the same data (a file path)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    common.save_result("metrics_scrape", run(args))


if __name__ == "__main__":
    main()
