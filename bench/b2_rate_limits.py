"""B2 — rate-limit fidelity: how close the hub comes to Telegram's limits without hitting them.

The Telegram fake enforces about 20 messages a minute per channel and 30 a second per bot (sliding
windows; an album of N photos counts N; over the limit it answers 429 with ``retry_after``). Three
channels, the product's pacing for Telegram outlets (``min_interval_s`` = 3 s), one item in four an
album of three photos, far more work queued than the limits allow. ``network-hub run --no-bot
--no-web`` runs for the whole window in real time (the fake and the hub both use the wall clock).

Achieved = messages the fake accepted in the window that starts at the first message;
allowed = channels × 20/min × window (the steady rate; the sliding window would also allow an
initial burst of 20 per channel, which the hub's even pacing does not take).

    .venv/bin/python -m bench.b2_rate_limits            # 300 s on SQLite
    .venv/bin/python -m bench.b2_rate_limits --quick    # 60 s
"""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from bench import common
from network_hub.hub import Hub
from network_hub.outlets import TELEGRAM_MIN_INTERVAL_S
from tests.factories import seed_network

PER_CHAT_PER_MINUTE = 20
PER_BOT_PER_SECOND = 30
PARAGRAPH = ("เทศบาลตำบลขอเชิญชวนพี่น้องประชาชนร่วมกิจกรรมรณรงค์ทำความสะอาดชุมชน "
             "เพื่อป้องกันโรคไข้เลือดออกในช่วงฤดูฝน โดยพร้อมเพรียงกันที่ศาลาประชาคมหมู่บ้าน "
             "ตั้งแต่เวลา ๐๘.๓๐ น. เป็นต้นไป 🌧️\n")


def mixed_bodies() -> list[str]:
    """Long Thai texts of 2 and 3 Telegram messages, a text long enough to overflow an album's
    caption, and a plain short post (the order items cycle through; every 4th item has an album)."""
    return [
        PARAGRAPH * 28,  # ~5,500 UTF-16 units: 2 messages
        "ประกาศสั้น: งดจ่ายน้ำประปาวันพรุ่งนี้ ๐๙.๐๐-๑๒.๐๐ น.",
        PARAGRAPH * 45,  # ~8,900 units: 3 messages
        PARAGRAPH * 9,  # ~1,800 units: an album's caption overflows into a reply
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--album-every", type=int, default=4, help="one item in N has an album of 3 photos")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="a 60 s window")
    parser.add_argument("--plain", dest="mixed", action="store_false",
                        help="one-line posts only (the old B2); default: long Thai texts, albums with "
                             "long captions and plain posts mixed")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 60
    # enough work that the queue never drains: twice what the window allows
    items = int(2 * PER_CHAT_PER_MINUTE * args.seconds / 60) + 20
    with common.fakes(channels=args.channels) as (tg, _fb):
        tg.config(latency_s=0, rate_limits=True, per_chat_per_minute=PER_CHAT_PER_MINUTE,
                  per_bot_per_second=PER_BOT_PER_SECOND)
        url = common.fresh_database(args.backend, "b2")
        data_dir = common.WORK_DIR / "b2-data"
        settings = common.settings_for(url, data_dir, tg, None)  # the default per-bot budget (30/s) stays on
        hub = Hub.from_settings(settings)
        media = settings.resolved_media_dir
        media.mkdir(parents=True, exist_ok=True)
        photos = common.make_photo_files(media, 3)
        now = datetime.now(UTC)
        with hub.transaction() as session:
            people = seed_network(session, now)
            outlets = common.add_outlets(session, now, tg, None, channels=args.channels,
                                         min_interval_s=TELEGRAM_MIN_INTERVAL_S)
            common.add_approved(session, now, people.reporter.id, outlets, items, prefix="R",
                                photos_every=args.album_every, photo_files=photos, album_size=3,
                                bodies=mixed_bodies() if args.mixed else ())
        hub.close()
        tg.reset()
        log_path = common.WORK_DIR / "logs" / "b2-run.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen([str(common.ROOT / ".venv/bin/network-hub"), "run", "--no-bot", "--no-web",
                                        "--log-level", "WARNING"], cwd=common.ROOT, env=common.hub_env(settings),
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                started = time.time()
                while time.time() < started + args.seconds + 15:
                    time.sleep(5)
                    if process.poll() is not None:
                        raise RuntimeError(f"network-hub run exited early; see {log_path}")
                stats = tg.stats()
            finally:
                process.terminate()
                process.wait(40)
    times = stats["times"]
    first = times[0]
    in_window = [t for t in times if t < first + args.seconds]
    allowed = args.channels * PER_CHAT_PER_MINUTE * args.seconds / 60
    per_channel_max_60s = max_in_any_window(times, 60.0)
    result: dict[str, Any] = {
        "quick": args.quick, "backend": args.backend, "window_s": args.seconds, "channels": args.channels,
        "limits": {"per_chat_per_minute": PER_CHAT_PER_MINUTE, "per_bot_per_second": PER_BOT_PER_SECOND},
        "album_every": args.album_every, "items_queued": items, "mixed_texts": args.mixed,
        "half_posted": half_posted(url),
        "messages_in_window": len(in_window), "allowed_in_window": allowed,
        "fidelity": round(len(in_window) / allowed, 3),
        "status_429": stats["status_429"], "status_counts": stats["status_counts"],
        "posts_total": stats["posts"], "messages_total": stats["messages"], "per_channel": stats["per_target"],
        "duplicated_receipts": stats["duplicated_receipts"],
        "max_messages_in_any_60s_all_channels": per_channel_max_60s,
    }
    print(result, flush=True)
    common.save_result("b2_rate_limits", result)


def half_posted(url: str) -> int:
    """Deliveries left `unknown` with some parts posted (a resident sees half a post)."""
    from sqlalchemy import create_engine, func, select

    from network_hub.db.models import Delivery

    engine = create_engine(common._psycopg(url) if url.startswith("postgres") else url)
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.state == "unknown", func.coalesce(Delivery.parts_done, 0) > 0)) or 0


def max_in_any_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


if __name__ == "__main__":
    main()
