"""The photo_checks queue: created at submission, claimed with a lease and fence, gating approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from network_hub.db.models import AuditEvent, Delivery, NewsItem, PhotoCheck
from network_hub.errors import Conflict, NeedsConfirmation
from network_hub.newsroom import moderation
from network_hub.newsroom.photos import PhotoInput
from network_hub.photo_checks import checks, ocr, worker
from network_hub.photo_checks.checks import CheckState
from network_hub.photo_checks.present import card_lines
from network_hub.photo_checks.worker import PhotoCheckWorker
from tests.newsroom.conftest import Newsroom, jpeg_bytes
from tests.photo_checks.conftest import VALID_ID, Render


def submit_with_photos(newsroom: Newsroom, *photos: bytes) -> int:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, photos=[PhotoInput(p, f"p{i}.jpg") for i, p in enumerate(photos)])
        return item.id


def states(newsroom: Newsroom, item_id: int) -> list[str]:
    with newsroom.hub.transaction() as s:
        return [c.state for c in checks.checks_of(s, item_id)]


def approve(newsroom: Newsroom, item_id: int, **kwargs: object) -> list[Delivery]:
    with newsroom.hub.transaction() as s:
        return moderation.approve_item(s, item_id, actor=newsroom.moderator(s), now=newsroom.now, **kwargs)


def worker_alive(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        checks.mark_worker_alive(s, newsroom.now)


def test_submission_queues_one_pending_check_per_photo_and_reads_nothing(newsroom: Newsroom) -> None:
    item_id = submit_with_photos(newsroom, jpeg_bytes(), jpeg_bytes(color="blue"))
    with newsroom.hub.transaction() as s:
        rows = checks.checks_of(s, item_id)
        assert [(c.state, c.findings, c.attempts) for c in rows] == [("pending", [], 0)] * 2
        assert len({c.photo_id for c in rows}) == 2
    assert states(newsroom, submit_with_photos(newsroom)) == []  # no photos, no checks


def test_approval_waits_while_photos_are_read_then_goes_on_and_says_so(newsroom: Newsroom) -> None:
    item_id = submit_with_photos(newsroom, jpeg_bytes())
    worker_alive(newsroom)
    with pytest.raises(Conflict) as raised:
        approve(newsroom, item_id)
    assert "กำลังตรวจรูป" in raised.value.message_th
    with newsroom.hub.transaction() as s:  # nothing changed
        assert s.get(NewsItem, item_id).status == "submitted"
        assert s.scalars(select(Delivery).where(Delivery.item_id == item_id)).all() == []
    newsroom.hub.clock.advance(seconds=checks.WAIT_LIMIT.total_seconds() + 1)
    worker_alive(newsroom)
    assert approve(newsroom, item_id)  # the time limit passed: approval is allowed
    assert states(newsroom, item_id) == ["timed_out"]
    with newsroom.hub.transaction() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "news.photo_check_timed_out")).one()
        assert event.after == {"photos": [1]} and "ตรวจรูปไม่เสร็จ" in (event.reason or "")
        assert "⚠️ รูปที่ 1: ตรวจรูปไม่เสร็จ" in "\n".join(card_lines(s, item_id))  # on the refreshed card


def test_without_a_worker_approval_is_not_blocked(newsroom: Newsroom) -> None:
    item_id = submit_with_photos(newsroom, jpeg_bytes())
    assert approve(newsroom, item_id)
    assert states(newsroom, item_id) == ["pending"]


def test_without_tesseract_checks_are_skipped_with_the_reason(newsroom: Newsroom,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "tesseract_status", lambda: ocr.TesseractStatus(False, "tesseract is not installed"))
    item_id = submit_with_photos(newsroom, jpeg_bytes())
    newsroom.hub.settings.media_dir = newsroom.media_dir
    report = PhotoCheckWorker(newsroom.hub, owner="w1").run_once()
    assert (report.claimed, report.skipped) == (1, 1)
    with newsroom.hub.transaction() as s:
        [check] = checks.checks_of(s, item_id)
        assert check.state == "skipped"
        assert "tesseract is not installed" in (check.error or "")
        assert not checks.worker_alive(s, newsroom.now)  # a worker that cannot read does not block approval
    assert approve(newsroom, item_id)


def test_a_lost_lease_changes_nothing(newsroom: Newsroom) -> None:
    submit_with_photos(newsroom, jpeg_bytes())
    lease = timedelta(minutes=1)
    with newsroom.hub.transaction() as s:
        [first] = checks.claim(s, owner="a", now=newsroom.now, lease=lease, limit=5)
        assert checks.claim(s, owner="b", now=newsroom.now, lease=lease, limit=5) == []  # leased
    newsroom.hub.clock.advance(minutes=2)
    with newsroom.hub.transaction() as s:
        [second] = checks.claim(s, owner="b", now=newsroom.now, lease=lease, limit=5)
    assert second.check_id == first.check_id and second.fence == first.fence + 1 and second.attempts == 2
    with newsroom.hub.transaction() as s:
        assert not checks.finish(s, first, state=CheckState.DONE, now=newsroom.now, findings=[{"flag": "x"}])
        assert checks.finish(s, second, state=CheckState.DONE, now=newsroom.now, findings=[])
    with newsroom.hub.transaction() as s:
        check = s.get(PhotoCheck, first.check_id)
        assert (check.state, check.findings, check.lease_owner) == ("done", [], None)


def test_an_unreadable_photo_is_retried_then_failed(newsroom: Newsroom) -> None:
    pytest.importorskip("pytesseract")
    item_id = submit_with_photos(newsroom, jpeg_bytes())
    newsroom.hub.settings.media_dir = newsroom.media_dir
    for path in newsroom.media_dir.rglob("*.jpg"):
        path.write_bytes(b"not a jpeg any more")
    work = PhotoCheckWorker(newsroom.hub, owner="w1")
    for attempt in range(1, checks.MAX_ATTEMPTS + 1):
        report = work.run_once()
        assert report.failed == 1
        expected = "failed" if attempt == checks.MAX_ATTEMPTS else "pending"
        assert states(newsroom, item_id) == [expected]
    work.close()
    with newsroom.hub.transaction() as s:
        assert "UnidentifiedImageError" in (checks.checks_of(s, item_id)[0].error or "")


@pytest.mark.usefixtures("tesseract")
def test_the_worker_flags_the_item_and_names_the_photo(newsroom: Newsroom, render: Render) -> None:
    card, _box = render([f"เลขประจำตัวประชาชน {VALID_ID}"])
    item_id = submit_with_photos(newsroom, jpeg_bytes(), card)
    newsroom.hub.settings.media_dir = newsroom.media_dir
    work = PhotoCheckWorker(newsroom.hub, owner="w1")
    report = work.run_once()
    work.close()
    assert (report.claimed, report.done) == (2, 2)
    with newsroom.hub.transaction() as s:
        item = s.get(NewsItem, item_id)
        assert item.pdpa_flags == ["thai_national_id"]
        plain, flagged = checks.checks_of(s, item_id)
        assert (plain.state, plain.findings) == ("done", [])
        assert flagged.state == "done" and flagged.photo.position == 1
        assert [f["flag"] for f in flagged.findings] == ["thai_national_id"]
        assert len(flagged.findings[0]["box"]) == 4
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "news.photo_check")).one()
        assert event.after == {"photo_id": flagged.photo_id, "flags": ["thai_national_id"]}
    worker_alive(newsroom)
    with pytest.raises(NeedsConfirmation):  # the photo's flag needs the moderator's confirmation
        approve(newsroom, item_id)
    # An edit of the text re-checks the text, and keeps the flag found in the photo.
    with newsroom.hub.transaction() as s:
        moderation.edit_item(s, item_id, actor=newsroom.moderator(s), body="ข่าวที่แก้ไขแล้ว", now=newsroom.now)
    with newsroom.hub.transaction() as s:
        assert s.get(NewsItem, item_id).pdpa_flags == ["thai_national_id"]
    assert approve(newsroom, item_id, confirm_pdpa=True)


async def test_the_service_runs_the_checks_as_a_scheduled_job(newsroom: Newsroom,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from jobs.service import Service

    monkeypatch.setattr(worker, "tesseract_status", lambda: ocr.TesseractStatus(False, "tesseract is not installed"))
    monkeypatch.setattr(checks, "WAIT_LIMIT", checks.WAIT_LIMIT)  # restored after the test
    newsroom.hub.settings.media_dir = newsroom.media_dir
    newsroom.hub.settings.photo_check_wait_s = 60
    service = Service(newsroom.hub, with_bot=False, with_web=False)
    jobs = service._jobs()
    assert "photo-checks" in jobs
    assert timedelta(seconds=60) == checks.WAIT_LIMIT  # the setting reached the approval gate
    item_id = submit_with_photos(newsroom, jpeg_bytes())
    run, _interval = jobs["photo-checks"]
    report = await run()
    assert report.skipped == 1 and states(newsroom, item_id) == ["skipped"]
    newsroom.hub.settings.photo_checks_enabled = False
    assert "photo-checks" not in service._jobs()


def test_ocr_threads_run_at_a_lower_priority_than_the_request_path() -> None:
    import os
    import threading

    if not hasattr(os, "getpriority"):
        pytest.skip("no process priorities on this platform")
    seen: list[int] = []

    def probe() -> None:
        worker.lower_priority()
        seen.append(os.getpriority(os.PRIO_PROCESS, 0))

    before = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    assert seen == [min(19, before + worker.OCR_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the calling (request) thread is untouched
