"""PDPA in photos, the submission side: does reading photos slow down sending news?

Two ratios of the time ``submit_item`` takes for an item with 3 phone photos (SQLite, as on a
small office machine), medians; the hook arms alternate submission by submission, the OCR arms
in rounds of ``--per-arm`` submissions:

- *hook*: with the photo-check rows written at submission vs without them (the only change the
  photo checks make to the request path);
- *busy*: while a photo-check worker reads photos with Tesseract in the same process (one OCR
  at a time, as ``HUB_PHOTO_CHECK_CONCURRENCY=1``, at the worker's lowered priority) vs while it
  is idle: CPU contention on a small machine.

Then the queue under a burst: 50 items with one 12-megapixel-class photo each are submitted at
once, and a worker (concurrency 1 and 2) drains them; reported: the submission time of the burst
and the time until the last check is done.

    .venv/bin/python -m bench.photo_submission
    .venv/bin/python -m bench.photo_submission --burst 10 --rounds 3      # smaller
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select

from bench import common
from config.settings import Settings
from network_hub.db.models import Base, PhotoCheck
from network_hub.hub import Hub
from network_hub.newsroom import photos as photos_module
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import load_actor
from network_hub.photo_checks.detect import check_image
from network_hub.photo_checks.worker import PhotoCheckWorker, lower_priority
from tests.factories import seed_network
from tests.photo_checks.make_set import generate, jpeg_bytes


def make_hub(tmp: Path) -> tuple[Hub, int]:
    settings = Settings(_env_file=None, data_dir=tmp, database_url=f"sqlite:///{tmp / 'hub.sqlite3'}")  # type: ignore[call-arg]
    hub = Hub.from_settings(settings)
    Base.metadata.create_all(hub.engine)
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
        return hub, people.reporter.id


def submit(hub: Hub, author: int, photos: list[bytes]) -> float:
    started = time.perf_counter()
    with hub.transaction() as s:
        submit_item(s, actor=load_actor(s, author), author_id=author, village_code="52010101", category="event",
                    body="ชาวบ้านร่วมกันพัฒนาถนนในหมู่บ้าน", photos=[PhotoInput(p, f"p{i}.jpg") for i, p in
                                                                   enumerate(photos)],
                    now=hub.clock.now(), media_dir=hub.settings.resolved_media_dir)
    return time.perf_counter() - started


def timed_arm(hub: Hub, author: int, photos: list[bytes], count: int, *, hook: bool) -> float:
    original = photos_module.object_session
    if not hook:
        photos_module.object_session = lambda _item: None  # the photo-check rows are not written
    try:
        return statistics.median(submit(hub, author, photos) for _ in range(count))
    finally:
        photos_module.object_session = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-arm", type=int, default=8)
    parser.add_argument("--burst", type=int, default=50)
    args = parser.parse_args()
    cases = [(c, img) for c, img in generate(16, 24) if c.kind in ("sign", "id_card")]
    phone_photos = [jpeg_bytes(img) for _c, img in cases[:3]]
    result: dict[str, Any] = {"rounds": args.rounds, "per_arm": args.per_arm, "photos_per_item": 3}
    with tempfile.TemporaryDirectory() as tmp:
        hub, author = make_hub(Path(tmp))
        hook_on, hook_off, busy, idle = [], [], [], []
        stop = threading.Event()
        stored = Image.open(io.BytesIO(photos_module.prepare_photo(PhotoInput(phone_photos[0])).jpeg))

        def keep_reading() -> None:
            lower_priority()  # as the worker's threads do
            while not stop.is_set():
                check_image(stored)

        for _ in range(args.rounds * args.per_arm):  # interleaved one by one: the machine's load drifts
            hook_on.append(timed_arm(hub, author, phone_photos, 1, hook=True))
            hook_off.append(timed_arm(hub, author, phone_photos, 1, hook=False))
        for _ in range(args.rounds):
            idle.append(timed_arm(hub, author, phone_photos, args.per_arm, hook=True))
            stop.clear()
            reader = threading.Thread(target=keep_reading, daemon=True)
            reader.start()
            time.sleep(0.5)
            busy.append(timed_arm(hub, author, phone_photos, args.per_arm, hook=True))
            stop.set()
            reader.join()
        result["hook"] = {"on_ms": round(statistics.median(hook_on) * 1000, 1),
                          "off_ms": round(statistics.median(hook_off) * 1000, 1),
                          "ratio": round(statistics.median(hook_on) / statistics.median(hook_off), 3)}
        result["busy"] = {"ocr_running_ms": round(statistics.median(busy) * 1000, 1),
                          "ocr_idle_ms": round(statistics.median(idle) * 1000, 1),
                          "ratio": round(statistics.median(busy) / statistics.median(idle), 3)}
        print(result, flush=True)
        hub.close()

    burst_photos = [jpeg_bytes(img) for _c, img in generate(17, args.burst)]
    result["burst"] = []
    for concurrency in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            hub, author = make_hub(Path(tmp))
            started = time.perf_counter()
            for photo in burst_photos:
                submit(hub, author, [photo])
            submitted = time.perf_counter() - started
            worker = PhotoCheckWorker(hub, owner="bench", concurrency=concurrency, batch=concurrency * 2)
            while True:
                report = worker.run_once()
                if report.claimed == 0:
                    break
            drained = time.perf_counter() - started
            worker.close()
            with hub.transaction() as s:
                states = [c.state for c in s.scalars(select(PhotoCheck))]
            result["burst"].append({"concurrency": concurrency, "items": args.burst,
                                    "submit_all_s": round(submitted, 1), "all_checked_s": round(drained, 1),
                                    "done": states.count("done"), "other": len(states) - states.count("done")})
            print(result["burst"][-1], flush=True)
            hub.close()
    common.save_result("photo_submission", result)


if __name__ == "__main__":
    main()
