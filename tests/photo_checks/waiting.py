"""For end-to-end tests that run `network-hub run`: wait until its photo-check job has read every photo.

Approval is held ("กำลังตรวจรูป…") while a running hub is still reading an item's photos, as a
moderator would see it; a test that approves right after submitting photos waits here first.
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from network_hub.db.engine import make_engine
from network_hub.db.models import PhotoCheck
from network_hub.photo_checks.checks import OPEN


def wait_for_photo_checks(database_url: str, timeout: float = 90.0) -> None:
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                open_checks = conn.scalar(select(func.count()).select_from(PhotoCheck)
                                          .where(PhotoCheck.state.in_(OPEN)))
            if not open_checks:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{open_checks} photo check(s) still open after {timeout:.0f} s")
            time.sleep(0.2)
    finally:
        engine.dispose()
