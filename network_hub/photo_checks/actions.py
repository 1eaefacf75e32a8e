"""What a moderator can do about a flagged photo: publish the item without it, or black out the
found regions and publish the redacted photo.

(Returning the item with the reason "รูปมีข้อมูลส่วนบุคคล" is the newsroom's own ``return_item``
with that reason; the dashboard offers it as one button next to the flagged photo.)
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from network_hub.db.models import NewsItem, Photo, PhotoCheck
from network_hub.errors import Conflict, NotFound
from network_hub.newsroom import moderation
from network_hub.newsroom.photos import PhotoInput, prepare_photo, store_photo
from network_hub.newsroom.records import record_change, snapshot
from network_hub.permissions import Action, Actor
from network_hub.states import ItemStatus

RETURN_REASON_TH = "รูปมีข้อมูลส่วนบุคคล"


def drop_photo(session: Session, item_id: int, photo_id: int, *, actor: Actor, media_dir: Path, now: datetime,
               expected_version: int | None = None, via: str = "web") -> NewsItem:
    """Remove one photo from a submitted item (audited), re-derive the flags, delete the file if unused."""
    item = moderation._open(session, item_id, "edit", actor, Action.MODERATE, expected_version)
    photo = next((p for p in item.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound(f"item {item.receipt_no} has no photo {photo_id}", "ไม่พบรูปนี้ในข่าว")
    if item.status != ItemStatus.SUBMITTED:  # _open checked it; kept explicit for readers
        raise Conflict("only a submitted item's photos can be removed", "ลบรูปได้เฉพาะข่าวที่รอพิจารณา")
    before = snapshot(item)
    position = photo.position
    path = photo.path
    item.photos.remove(photo)  # delete-orphan: the row goes; its photo check goes with it (CASCADE)
    session.flush()
    for other in item.photos:  # keep positions 0..n-1 (the order photos are posted in)
        if other.position > position:
            other.position -= 1
    session.flush()
    moderation._recheck_flags(item)
    item.pdpa_confirmed_by = None
    moderation._bump(item, now)
    record_change(session, item, action="drop_photo", actor=actor, via=via, now=now, before=before,
                  extra={"photo_position": position + 1, "reason": "personal data in the photo"})
    still_used = session.scalar(select(func.count()).select_from(Photo).where(Photo.path == path))
    if not still_used:  # the same photo may belong to another item (files are stored by content)
        (media_dir / path).unlink(missing_ok=True)
    return item


REDACT_PAD = 0.12  # of the region's height, around each found region


def redact_photo(session: Session, item_id: int, photo_id: int, *, actor: Actor, media_dir: Path, now: datetime,
                 expected_version: int | None = None, via: str = "web") -> NewsItem:
    """Black out every region found in the photo and use the redacted photo instead (audited).

    The unredacted file is kept (``PhotoCheck.original_path``) only while the item is undecided:
    ``delete_decided_originals`` removes it once the item is approved, rejected or withdrawn.
    """
    item = moderation._open(session, item_id, "edit", actor, Action.MODERATE, expected_version)
    photo = next((p for p in item.photos if p.id == photo_id), None)
    check = session.scalar(select(PhotoCheck).where(PhotoCheck.photo_id == photo_id)) if photo else None
    if photo is None or check is None:
        raise NotFound(f"item {item.receipt_no} has no checked photo {photo_id}", "ไม่พบรูปนี้ในข่าว")
    boxes = [f["box"] for f in check.findings or [] if not f.get("redacted")]
    if not boxes:
        raise Conflict(f"photo {photo.position + 1} of {item.receipt_no} has nothing found to black out",
                       "รูปนี้ไม่มีจุดที่ต้องปิดทับ")
    before = snapshot(item)
    with Image.open(media_dir / photo.path) as image:
        redacted = image.convert("RGB")
    draw = ImageDraw.Draw(redacted)
    for left, top, right, bottom in boxes:
        pad = int((bottom - top) * REDACT_PAD) + 4
        draw.rectangle([left - pad, top - pad, right + pad, bottom + pad], fill=(0, 0, 0))
    prepared = prepare_photo(PhotoInput(_jpeg(redacted), f"photo {photo.position + 1}"))
    store_photo(prepared, media_dir)
    check.original_path = check.original_path or photo.path
    photo.sha256, photo.path, photo.size_bytes = prepared.sha256, prepared.relative_path, len(prepared.jpeg)
    photo.width, photo.height, photo.telegram_file_id = prepared.width, prepared.height, None
    check.findings = [{**f, "redacted": True} for f in check.findings or []]
    moderation._recheck_flags(item)
    item.pdpa_confirmed_by = None
    moderation._bump(item, now)
    record_change(session, item, action="redact_photo", actor=actor, via=via, now=now, before=before,
                  extra={"photo_position": photo.position + 1, "regions": len(boxes)})
    return item


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def delete_decided_originals(session: Session, media_dir: Path) -> int:
    """Delete the unredacted originals of items no longer undecided. Returns how many were deleted."""
    undecided = (ItemStatus.SUBMITTED.value, ItemStatus.CHANGES_REQUESTED.value)
    rows = session.execute(
        select(PhotoCheck, NewsItem.status).join(NewsItem, NewsItem.id == PhotoCheck.item_id)
        .where(PhotoCheck.original_path.is_not(None), NewsItem.status.not_in(undecided))
    ).all()
    deleted = 0
    for check, _status in rows:
        path = check.original_path
        if not session.scalar(select(func.count()).select_from(Photo).where(Photo.path == path)):
            (media_dir / path).unlink(missing_ok=True)
            deleted += 1
        check.original_path = None
    return deleted
