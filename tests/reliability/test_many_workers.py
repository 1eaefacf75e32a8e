"""Several real ``network-hub run --no-bot --no-web`` processes on one PostgreSQL database deliver
thousands of deliveries: every one is sent, none twice, every ``sent`` row has exactly one post on
the fake; then SIGTERM stops each process cleanly."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from network_hub.db.models import Delivery, NewsItem, Outlet, ProcessHeartbeat
from platform_fakes.telegram import FakeTelegram
from tests.factories import seed_network
from tests.reliability.procs import hub_env, start_network_hub, subprocess_db_url

WORKERS = 4
CHANNELS = 10
ITEMS = 200  # × 10 channels = 2,000 deliveries


def test_four_workers_deliver_thousands_with_no_duplicate(hub, db_url_and_schema, backend) -> None:
    if backend != "postgresql":
        pytest.skip("several hub processes share one PostgreSQL database; SQLite serves one host")
    now = datetime.now(UTC) - timedelta(seconds=5)
    hub.clock.set(now)
    tg = FakeTelegram().start_in_thread()
    try:
        channels = [-1005000000000 - n for n in range(CHANNELS)]
        for chat in channels:
            tg.add_channel(chat)
        s = hub.settings
        s.telegram_bot_token = tg.token
        s.telegram_api_base_url, s.telegram_file_base_url = tg.base_url, tg.file_base_url
        with hub.transaction() as ses:
            people = seed_network(ses, now)
            outlets = [Outlet(platform="telegram", name=f"ช่อง {c}", area_code="52", address=str(c),
                              status="active", created_at=now, updated_at=now) for c in channels]
            ses.add_all(outlets)
            ses.flush()
            item_rows = [{"receipt_no": f"MW-{n:06d}", "village_code": "52010101", "author_id": people.reporter.id,
                          "category": "announcement", "title": f"ข่าว {n}", "body": f"ข่าวลำดับที่ {n}",
                          "status": "approved", "pdpa_flags": [], "consent": {}, "version": 1, "submitted_at": now,
                          "created_at": now, "updated_at": now} for n in range(ITEMS)]
            ids = ses.execute(insert(NewsItem).returning(NewsItem.id), item_rows).scalars().all()
            ses.execute(insert(Delivery), [
                {"item_id": i, "outlet_id": o.id, "state": "pending", "due_at": now, "attempts": 0, "fence": 0,
                 "external_ids": [], "created_at": now, "updated_at": now} for i in ids for o in outlets])
        url, schema = db_url_and_schema
        env = hub_env(s, subprocess_db_url(url, schema), HUB_DISPATCH_CONCURRENCY="8",
                      HUB_TELEGRAM_BOT_PER_SECOND="0", HUB_DISPATCH_INTERVAL_S="0.5",
                      # The fake enforces no per-chat limit here; the 20-a-minute window would cap
                      # 10 channels at 800 messages in the 4-minute budget (this test is about duplicates).
                      HUB_TELEGRAM_CHAT_PER_WINDOW="0")
        logs = [s.data_dir / f"worker-{n}.log" for n in range(WORKERS)]
        s.data_dir.mkdir(parents=True, exist_ok=True)
        procs = [start_network_hub("run", "--no-bot", "--no-web", env=env, log=log) for log in logs]
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and any(p.poll() is None for p in procs):
            with hub.transaction() as ses:
                left = ses.scalar(select(func.count()).select_from(Delivery).where(Delivery.state != "sent"))
            if left == 0:
                break
            time.sleep(0.5)
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p, log in zip(procs, logs, strict=True):
            p.wait(timeout=60)
            assert p.returncode == 0, log.read_text()[-2000:]
        with hub.transaction() as ses:
            beats = ses.scalars(select(ProcessHeartbeat)).all()
            assert len(beats) == WORKERS and all(b.stopped_at is not None for b in beats)
        with hub.transaction() as ses:
            states = Counter(ses.scalars(select(Delivery.state)))
            sent = ses.execute(select(Delivery.item_id, Delivery.outlet_id, Delivery.external_ids)).all()
        assert states == {"sent": ITEMS * CHANNELS}
        posted = Counter((m.chat_id, re.search(r"MW-\d{6}", m.text or "").group()) for c in channels
                         for m in tg.posts(c))
        assert sum(posted.values()) == ITEMS * CHANNELS
        assert max(posted.values()) == 1  # no item twice in any channel
        assert len({(row.outlet_id, tuple(row.external_ids)) for row in sent}) == ITEMS * CHANNELS
    finally:
        tg.stop_thread()
