"""The photo-check job: claim pending checks, read the photos in a thread pool, store findings.

Runs in ``network-hub run`` (registered by the service); each pass is: claim (one short
transaction), OCR with no transaction open (Tesseract subprocesses, ``concurrency`` at a
time), then one short transaction per photo to store its findings and add the PDPA flags to
the item. The submission path never waits for any of this.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import NewsItem
from network_hub.hub import Hub
from network_hub.newsroom.records import OBJECT_TYPE
from network_hub.photo_checks import checks
from network_hub.photo_checks.actions import delete_decided_originals
from network_hub.photo_checks.checks import CheckState, Claimed
from network_hub.photo_checks.detect import check_image
from network_hub.photo_checks.ocr import tesseract_status

log = logging.getLogger(__name__)
INTERVAL_S = 3.0  # how often the service looks for new photos to read
FLAG_ORDER = ("thai_national_id", "phone_number", "minor", "health_or_disability", "bank_account")


OCR_NICE = 10


def lower_priority() -> None:
    """Run this thread, and the Tesseract processes it starts, at a lower CPU priority.

    On Linux the nice value belongs to the thread and is inherited by the processes it spawns;
    on a 2-core office machine OCR at normal priority made submissions (which re-encode photos)
    1.75× slower (bench.photo_submission), so reading waits for the request path instead.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + OCR_NICE))
    except (OSError, AttributeError):  # not on Linux/Unix: run at normal priority
        log.info("photo checks: could not lower the OCR thread's priority")


@dataclass(frozen=True)
class PassReport:
    claimed: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0


class PhotoCheckWorker:
    def __init__(self, hub: Hub, *, owner: str, concurrency: int = 2, batch: int = 8,
                 lease: timedelta = timedelta(minutes=5)) -> None:
        self.hub, self.owner, self.batch, self.lease = hub, owner, batch, lease
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="photo-check",
                                       initializer=lower_priority)
        self.media_dir: Path = hub.settings.resolved_media_dir

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def run_once(self) -> PassReport:
        """One pass: claim up to ``batch`` checks and finish them. Returns what happened."""
        status = tesseract_status()
        with self.hub.transaction() as s:
            now = self.hub.clock.now()
            delete_decided_originals(s, self.media_dir)  # unredacted photos live only until the decision
            if status.available:
                checks.mark_worker_alive(s, now)
            claimed = checks.claim(s, owner=self.owner, now=now, lease=self.lease, limit=self.batch)
        if not claimed:
            return PassReport()
        if not status.available:
            log.warning("photo checks skipped: %s", status.reason)
            with self.hub.transaction() as s:
                for c in claimed:
                    checks.finish(s, c, state=CheckState.SKIPPED, now=self.hub.clock.now(),
                                  error=f"photo checks unavailable: {status.reason}")
            return PassReport(claimed=len(claimed), skipped=len(claimed))
        futures = [(c, self.pool.submit(self._read, c)) for c in claimed]
        done = failed = 0
        for c, future in futures:
            try:
                findings = future.result()
            except Exception as exc:  # one bad photo must not stop the others
                log.warning("photo check %s (photo %s) failed on attempt %s: %s", c.check_id, c.photo_id,
                            c.attempts, exc)
                with self.hub.transaction() as s:
                    final = c.attempts >= checks.MAX_ATTEMPTS
                    checks.finish(s, c, state=CheckState.FAILED if final else CheckState.PENDING,
                                  now=self.hub.clock.now(), error=f"{type(exc).__name__}: {exc}"[:500])
                failed += 1
                continue
            with self.hub.transaction() as s:
                if checks.finish(s, c, state=CheckState.DONE, now=self.hub.clock.now(), findings=findings):
                    self._flag_item(s, c, findings)
            done += 1
        return PassReport(claimed=len(claimed), done=done, failed=failed)

    def _read(self, c: Claimed) -> list[dict[str, object]]:
        with Image.open(self.media_dir / c.path) as image:
            image.load()
            return [f.to_dict() for f in check_image(image)]

    def _flag_item(self, session: Session, c: Claimed, findings: list[dict[str, object]]) -> None:
        if not findings:
            return
        item = session.scalar(select(NewsItem).where(NewsItem.id == c.item_id).with_for_update())
        if item is None:
            return
        new = [str(f["flag"]) for f in findings]
        merged = sorted(set(item.pdpa_flags or []) | set(new), key=lambda f: FLAG_ORDER.index(f)
                        if f in FLAG_ORDER else len(FLAG_ORDER))
        if merged != list(item.pdpa_flags or []):
            item.pdpa_flags = merged
            item.pdpa_confirmed_by = None
        audit.record(session, at=self.hub.clock.now(), action="news.photo_check", object_type=OBJECT_TYPE,
                     object_id=item.id, after={"photo_id": c.photo_id,
                                               "flags": sorted({str(f["flag"]) for f in findings})})


def scheduled_job(hub: Hub, owner: str) -> Callable[[], Awaitable[PassReport]]:
    """The service's ``photo-checks`` job: one pass every ``INTERVAL_S`` in a worker thread."""
    checks.configure(hub.settings.photo_check_wait_s)
    work = PhotoCheckWorker(hub, owner=owner, concurrency=hub.settings.photo_check_concurrency)

    async def run() -> PassReport:
        return await asyncio.to_thread(work.run_once)

    return run
