"""How photo checks are shown: lines on the Telegram card, rows on the item page, region previews."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter
from sqlalchemy.orm import Session

from network_hub.newsroom.labels import PDPA_FLAG_TH
from network_hub.photo_checks.checks import OPEN, STATE_TH, CheckState, checks_of

PREVIEW_PAD = 0.15  # of the region's size, on every side: enough context to recognise the spot
PREVIEW_MAX = 640
BLUR_RADIUS = 12


@dataclass
class PhotoCheckView:
    check_id: int
    photo_id: int
    number: int  # 1-based, as moderators count photos
    state: str
    state_th: str
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.state in OPEN


def views(session: Session, item_id: int) -> list[PhotoCheckView]:
    out = []
    for check in checks_of(session, item_id):
        out.append(PhotoCheckView(check.id, check.photo_id, check.photo.position + 1, check.state,
                                  STATE_TH.get(CheckState(check.state), check.state), list(check.findings or [])))
    return sorted(out, key=lambda v: v.number)


def card_lines(session: Session, item_id: int) -> list[str]:
    """Thai lines for the moderators' Telegram card: which photo has what, or that reading is not done."""
    lines = []
    checks = views(session, item_id)
    reading = [v.number for v in checks if v.open]
    if reading:
        lines.append(f"🔎 กำลังตรวจรูป… (รูปที่ {', '.join(map(str, reading))})")
    for v in checks:
        if v.findings:
            labels = ", ".join(dict.fromkeys(PDPA_FLAG_TH.get(f["flag"], f["flag"]) for f in v.findings))
            done = " (ปิดทับแล้ว)" if all(f.get("redacted") for f in v.findings) else ""
            lines.append(f"⚠️ รูปที่ {v.number}: {labels}{done}")
        elif v.state in (CheckState.TIMED_OUT, CheckState.FAILED):
            lines.append(f"⚠️ รูปที่ {v.number}: ตรวจรูปไม่เสร็จ กรุณาดูรูปด้วยตนเอง")
    return lines


def region_preview(path: Path, box: list[int] | tuple[int, ...], *, reveal: bool) -> bytes:
    """A JPEG of the region around ``box`` (padded), blurred unless ``reveal``."""
    with Image.open(path) as image:
        image.load()
        left, top, right, bottom = (int(v) for v in box)
        pad_w, pad_h = int((right - left) * PREVIEW_PAD) + 8, int((bottom - top) * PREVIEW_PAD) + 8
        crop = image.convert("RGB").crop((max(0, left - pad_w), max(0, top - pad_h),
                                          min(image.width, right + pad_w), min(image.height, bottom + pad_h)))
    crop.thumbnail((PREVIEW_MAX, PREVIEW_MAX))
    if not reveal:
        crop = crop.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
