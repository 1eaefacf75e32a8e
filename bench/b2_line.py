"""B2 (LINE row) — quota and rate fidelity: how much of the month's LINE quota the hub uses without
ever going over, and whether it sends anything twice.

The LINE fake (in this process, wall clock) counts every push per recipient against the month's
quota and answers 429 above it. Several groups of the same size, every item routed to every group,
far more work queued than the quota allows. ``network-hub run --no-bot --no-web`` sends until
nothing more fits: each push is estimated first (member count × requests) and a post that does not
fit the quota minus the reserve (``HUB_LINE_QUOTA_RESERVE_PERCENT``) waits whole for next month.

fidelity = messages LINE counted / messages the reserve leaves for ordinary posts;
over-quota sends = pushes LINE refused with 429 (must be 0); duplicates = a receipt posted twice in
a group (must be 0).

    .venv/bin/python -m bench.b2_line            # 6 groups × 150 members, quota 15,000 (Basic plan)
    .venv/bin/python -m bench.b2_line --quick    # 3 groups × 100 members, quota 3,000
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bench import common
from network_hub.db.models import Delivery, Outlet
from network_hub.hub import Hub
from platform_fakes.line import FakeLine
from tests.factories import seed_network

RESERVE_PERCENT = 20.0
IDLE_S = 8.0  # no new send and nothing left that fits: the run is over


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=6)
    parser.add_argument("--members", type=int, default=150)
    parser.add_argument("--quota", type=int, default=15000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.groups, args.members, args.quota = 3, 100, 3000
    usable = int(args.quota * (1 - RESERVE_PERCENT / 100))
    items = usable // (args.members * args.groups) + 10  # more than fits
    fake = FakeLine().start_in_thread()
    try:
        channel = fake.add_channel(quota=args.quota)
        groups = [fake.add_group(channel, members=args.members, name=f"กลุ่ม {n}") for n in range(args.groups)]
        url = common.fresh_database(args.backend, "b2line")
        settings = common.settings_for(
            url, common.WORK_DIR / "b2line-data", None, None, line_channel_access_token=channel.token,
            line_api_base_url=fake.api_base_url, line_data_api_base_url=fake.data_base_url,
            public_base_url="https://hub.example.test", line_quota_reserve_percent=RESERVE_PERCENT,
            dispatch_interval_s=0.5)
        hub = Hub.from_settings(settings)
        now = datetime.now(UTC)
        with hub.transaction() as session:
            people = seed_network(session, now)
            outlets = [Outlet(platform="line", name=f"line {g.id[:8]}", area_code="52", address=g.id,
                              min_interval_s=1.0, status="active", created_at=now, updated_at=now) for g in groups]
            session.add_all(outlets)
            session.flush()
            common.add_approved(session, now, people.reporter.id, outlets, items, prefix="L")
        log_path = common.WORK_DIR / "logs" / "b2line-run.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.time()
        with open(log_path, "wb") as log:
            process = subprocess.Popen([str(common.ROOT / ".venv/bin/network-hub"), "run", "--no-bot", "--no-web",
                                        "--log-level", "WARNING"], cwd=common.ROOT, env=common.hub_env(settings),
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                last, last_change = -1, time.time()
                while time.time() - last_change < IDLE_S:
                    time.sleep(0.5)
                    if process.poll() is not None:
                        raise RuntimeError(f"network-hub run exited early; see {log_path}")
                    if len(fake.sent) != last:
                        last, last_change = len(fake.sent), time.time()
            finally:
                process.terminate()
                process.wait(40)
        elapsed = time.time() - started - IDLE_S
        with hub.transaction() as session:
            states = Counter(session.scalars(select(Delivery.state)))
            held = sum(1 for e in session.scalars(select(Delivery.last_error).where(Delivery.state == "pending"))
                       if e and "โควตาข้อความ LINE" in e)
        hub.close()
        pushes = fake.requests("push")
        receipts = Counter((m.to, re.search(r"รหัสข่าว (\S+)", m.texts[0]).group(1))  # type: ignore[union-attr]
                           for m in fake.sent if m.kind == "push")
        result: dict[str, Any] = {
            "quick": args.quick, "backend": args.backend, "groups": args.groups, "members": args.members,
            "quota": args.quota, "reserve_percent": RESERVE_PERCENT, "usable": usable,
            "items_queued": items, "deliveries_queued": items * args.groups,
            "messages_counted": fake.usage(channel), "fidelity": round(fake.usage(channel) / usable, 3),
            "pushes_accepted": sum(1 for m in fake.sent if m.kind == "push"),
            "over_quota_refusals_429": sum(1 for r in pushes if r.status == 429),
            "duplicates": sum(n - 1 for n in receipts.values() if n > 1),
            "delivery_states": dict(states), "held_for_quota": held, "seconds_to_fill": round(elapsed, 1),
        }
        print(result, flush=True)
        common.save_result("b2_line", result)
    finally:
        fake.stop_thread()


if __name__ == "__main__":
    main()
