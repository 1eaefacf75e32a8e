"""What a moderator can do about a flagged photo: publish the item without it.

(Returning the item with the reason "รูปมีข้อมูลส่วนบุคคล" is the newsroom's own ``return_item``
with that reason; the dashboard offers it as one button next to the flagged photo.)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from network_hub.db.models import NewsItem, Photo
from network_hub.errors import Conflict, NotFound
from network_hub.newsroom import moderation
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
