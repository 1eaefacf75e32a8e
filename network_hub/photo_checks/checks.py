"""The photo_checks queue: created with the photos, claimed with a lease, gating approval.

A check is created ``pending`` for every stored photo (``attach_photos``). A worker
(``photo_checks.worker``) claims pending checks with a lease and a fence (the same pattern as
the delivery engine's ``outbox.queries``: an expired lease makes the check claimable again, and
a result is written only where the fence is still the worker's own).

Approval waits for the checks (``require_photos_checked``), but never forever:

- while a worker is alive (it refreshes a key in ``kv_store`` every pass) and the oldest open
  check is younger than ``WAIT_LIMIT``, approving raises ``Conflict`` "กำลังตรวจรูป…";
- after the limit approval goes on; the open checks become ``timed_out`` (audited), and the card
  and item page tell the moderator "ตรวจรูปไม่เสร็จ … กรุณาดูรูปด้วยตนเอง" for those photos;
- with no worker running (no ``network-hub run``, or Tesseract missing: checks are ``skipped``)
  approval is not blocked; item pages say the photos were not checked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import KeyValue, NewsItem, Photo, PhotoCheck
from network_hub.errors import Conflict

log = logging.getLogger(__name__)
WAIT_LIMIT = timedelta(minutes=5)  # HUB_PHOTO_CHECK_WAIT_S; set by ``configure`` in the service
MAX_ATTEMPTS = 3
WORKER_NAMESPACE = "photo-checks"
WORKER_KEY = "worker"
WORKER_ALIVE_FOR = timedelta(minutes=2)  # a worker refreshes its key every pass (seconds apart)


class CheckState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"


OPEN = (CheckState.PENDING.value, CheckState.RUNNING.value)
STATE_TH = {
    CheckState.PENDING: "กำลังตรวจรูป…", CheckState.RUNNING: "กำลังตรวจรูป…", CheckState.DONE: "ตรวจรูปแล้ว",
    CheckState.FAILED: "ตรวจรูปไม่สำเร็จ", CheckState.TIMED_OUT: "ตรวจรูปไม่เสร็จ",
    CheckState.SKIPPED: "ไม่ได้ตรวจรูป (เครื่องไม่มีโปรแกรมอ่านตัวอักษร)",
}


def configure(wait_seconds: int) -> None:
    """Set the approval time limit (from ``Settings.photo_check_wait_s``)."""
    global WAIT_LIMIT
    WAIT_LIMIT = timedelta(seconds=wait_seconds)


def new_check(item_id: int, now: datetime) -> PhotoCheck:
    return PhotoCheck(item_id=item_id, state=CheckState.PENDING.value, attempts=0, fence=0, findings=[],
                      created_at=now)


@dataclass(frozen=True)
class Claimed:
    check_id: int
    fence: int
    photo_id: int
    item_id: int
    path: str  # relative to the media directory
    attempts: int


def claim(session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` pending checks (or running ones whose lease expired). Commit before OCR."""
    q = (
        select(PhotoCheck.id)
        .where(or_(PhotoCheck.state == CheckState.PENDING.value,
                   and_(PhotoCheck.state == CheckState.RUNNING.value, PhotoCheck.lease_until < now)))
        .order_by(PhotoCheck.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    ids = list(session.scalars(q))
    if not ids:
        return []
    T = PhotoCheck.__table__
    rows = session.execute(
        update(T)
        .where(T.c.id.in_(ids), or_(T.c.state == CheckState.PENDING.value,
                                    and_(T.c.state == CheckState.RUNNING.value, T.c.lease_until < now)))
        .values(state=CheckState.RUNNING.value, lease_owner=owner, lease_until=now + lease, fence=T.c.fence + 1,
                attempts=T.c.attempts + 1)
        .returning(T.c.id, T.c.fence, T.c.photo_id, T.c.item_id, T.c.attempts)
    ).all()
    paths = dict(session.execute(select(Photo.id, Photo.path).where(Photo.id.in_([r.photo_id for r in rows]))).all())
    return [Claimed(r.id, r.fence, r.photo_id, r.item_id, paths[r.photo_id], r.attempts) for r in rows
            if r.photo_id in paths]


def finish(session: Session, claimed: Claimed, *, state: CheckState, now: datetime,
           findings: list[dict[str, Any]] | None = None, error: str | None = None) -> bool:
    """Write a result if the lease is still ours (fence); False when another worker took over."""
    T = PhotoCheck.__table__
    result = session.execute(
        update(T)
        # timed_out too: the approval limit passed while we read; a late result is still worth showing.
        .where(T.c.id == claimed.check_id, T.c.fence == claimed.fence,
               T.c.state.in_((CheckState.RUNNING.value, CheckState.TIMED_OUT.value)))
        .values(state=state.value, findings=findings or [], error=error, lease_owner=None, lease_until=None,
                finished_at=now if state is not CheckState.PENDING else None)
    )
    return result.rowcount == 1


def mark_worker_alive(session: Session, now: datetime) -> None:
    row = session.get(KeyValue, (WORKER_NAMESPACE, WORKER_KEY))
    if row is None:
        session.add(KeyValue(namespace=WORKER_NAMESPACE, key=WORKER_KEY, value={}, expires_at=now + WORKER_ALIVE_FOR,
                             updated_at=now))
    else:
        row.expires_at, row.updated_at = now + WORKER_ALIVE_FOR, now


def worker_alive(session: Session, now: datetime) -> bool:
    row = session.get(KeyValue, (WORKER_NAMESPACE, WORKER_KEY))
    return row is not None and row.expires_at is not None and row.expires_at > now


def checks_of(session: Session, item_id: int) -> list[PhotoCheck]:
    return list(session.scalars(select(PhotoCheck).where(PhotoCheck.item_id == item_id).order_by(PhotoCheck.id)))


def require_photos_checked(session: Session, item: NewsItem, *, now: datetime) -> None:
    """The approval gate (see the module docstring). Raises, or returns when approval may go on."""
    open_checks = [c for c in checks_of(session, item.id) if c.state in OPEN]
    if open_checks and worker_alive(session, now):
        oldest = min(c.created_at for c in open_checks)
        if now - oldest < WAIT_LIMIT:
            minutes = max(1, round((WAIT_LIMIT - (now - oldest)).total_seconds() / 60))
            raise Conflict(
                f"item {item.receipt_no}: {len(open_checks)} photo(s) are still being checked for personal data; "
                f"try again in a minute (at most {minutes} min). Nothing was changed.",
                f"กำลังตรวจรูป… ระบบกำลังตรวจข้อมูลส่วนบุคคลในรูปของข่าว {item.receipt_no} "
                f"กรุณาลองอนุมัติอีกครั้งในอีกสักครู่ (ไม่เกิน {minutes} นาที)",
            )
        session.execute(
            update(PhotoCheck).where(PhotoCheck.id.in_([c.id for c in open_checks]),
                                     PhotoCheck.state.in_(OPEN))
            .values(state=CheckState.TIMED_OUT.value, finished_at=now,
                    error=f"not finished within {int(WAIT_LIMIT.total_seconds())} s of submission")
            .execution_options(synchronize_session=False)
        )
        for check in open_checks:
            session.refresh(check)
        numbers = sorted(c.photo.position + 1 for c in open_checks)
        audit.record(session, at=now, action="news.photo_check_timed_out", object_type="news_item",
                     object_id=item.id, after={"photos": numbers},
                     reason=f"ตรวจรูปไม่เสร็จ (รูปที่ {', '.join(map(str, numbers))}) อนุมัติได้ กรุณาดูรูปด้วยตนเอง")
        log.warning("approving item %s with %d photo check(s) unfinished after %s", item.receipt_no,
                    len(open_checks), WAIT_LIMIT)


def photo_flags(session: Session, item_id: int) -> list[str]:
    """The PDPA flags raised by the item's finished photo checks."""
    flags: list[str] = []
    for check in checks_of(session, item_id):
        for finding in check.findings or []:
            if not finding.get("redacted") and finding.get("flag") not in flags:
                flags.append(finding["flag"])
    return flags
