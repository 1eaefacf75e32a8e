"""Submitting news on both databases: the item, its receipt, photos and every refusal (which writes nothing)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, NewsItem, Notification, Photo
from network_hub.errors import HubError, InvalidInput, NotFound, PermissionDenied
from network_hub.newsroom.pdpa import Consent
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import load_actor, system_actor
from tests.newsroom.conftest import Newsroom, jpeg_bytes


def test_submit_creates_a_submitted_item_with_receipt_and_audit(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, body="  ปลูกป่าชุมชนบ้านเวียงเหนือ  \r\nมีผู้ร่วมงาน ๕๐ คน\u200b  ")
    assert item.receipt_no == f"NH-2569-{item.id:06d}"
    assert item.status == "submitted" and item.version == 1
    assert item.title == "ปลูกป่าชุมชนบ้านเวียงเหนือ"  # the first line
    assert item.body == "ปลูกป่าชุมชนบ้านเวียงเหนือ\nมีผู้ร่วมงาน ๕๐ คน"  # Thai digits kept, ZWSP gone
    assert item.submitted_at == newsroom.now
    with newsroom.hub.transaction() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "news.submit")).one()
        assert event.after["receipt_no"] == item.receipt_no and event.actor_id == newsroom.people.reporter.id
        # The author submitted it themselves (the bot shows the receipt): no DM about it.
        assert s.scalar(select(func.count()).select_from(Notification)) == 0


def test_receipt_numbers_are_unique(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        receipts = {newsroom.submit(s, body=f"ข่าวที่ {n}").receipt_no for n in range(5)}
    assert len(receipts) == 5


def test_text_normalisation_nfc_and_split_sara_am(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, body="น\u0e4d\u0e32ผลผลิตมาขาย cafe\u0301 👨\u200d👩\u200d👧", title="ข่าว\u200cดี")
    # NFC composes e + combining acute; the joiner inside the family emoji is kept.
    assert item.body == "นำผลผลิตมาขาย caf\u00e9 👨\u200d👩\u200d👧"
    assert item.title == "ข่าวดี"


def test_submit_on_behalf_tells_the_author(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = submit_item(s, actor=system_actor(), author_id=newsroom.people.reporter.id, village_code="52010101",
                           category="local_product", body="ผ้าทอลายน้ำไหล", now=newsroom.now,
                           media_dir=newsroom.media_dir)
        note = s.scalars(select(Notification)).one()
        assert (note.kind, note.member_id, note.payload["receipt_no"]) == (
            "item_received", newsroom.people.reporter.id, item.receipt_no)


def test_photos_are_stored_stripped_with_rows(newsroom: Newsroom) -> None:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (18.0, 17.0, 30.0)
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "yellow").save(buffer, "JPEG", exif=exif)
    photos = [PhotoInput(buffer.getvalue(), "a.jpg", telegram_file_id="AgAD1"), PhotoInput(jpeg_bytes(), "b.jpg")]
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, photos=photos, consent=Consent(identifiable_people=True, consent_given=True))
    with newsroom.hub.transaction() as s:
        rows = s.scalars(select(Photo).where(Photo.item_id == item.id).order_by(Photo.position)).all()
        assert [r.position for r in rows] == [0, 1]
        assert rows[0].telegram_file_id == "AgAD1" and rows[0].content_type == "image/jpeg"
        for row in rows:
            stored = Image.open(newsroom.media_dir / row.path)
            assert row.path == f"{row.sha256[:2]}/{row.sha256}.jpg"
            assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert (stored.width, stored.height) == (row.width, row.height)
        assert s.get(NewsItem, item.id).consent == {"photos_show_children": False, "identifiable_people": True,
                                                    "consent_given": True}


def _bad_cases(nr: Newsroom) -> list[tuple[str, dict[str, Any], type[HubError], str]]:
    good_photo = PhotoInput(jpeg_bytes())
    return [
        ("empty body", {"body": " \n\u200b "}, InvalidInput, "empty"),
        ("body over 20,000 UTF-16 units", {"body": "😀" * 10_001}, InvalidInput, "20,000"),
        ("title over 200", {"title": "ก" * 201}, InvalidInput, "title is 201"),
        ("unknown category", {"category": "gossip"}, InvalidInput, "not a category"),
        ("tambon code, not a village", {"village": "520101"}, InvalidInput, "not a village code"),
        ("unknown village", {"village": "52010199"}, NotFound, "village add 52010199"),
        ("village outside the author's grants", {"village": "52010102"}, PermissionDenied, "submit"),
        ("eleven photos", {"photos": [good_photo] * 11}, InvalidInput, "at most 10"),
        ("a non-image among good photos", {"photos": [good_photo, PhotoInput(b"%PDF-1.4 not a photo", "x.jpg")]},
         InvalidInput, "not an image"),
    ]


def test_every_bad_submission_is_refused_and_writes_nothing(newsroom: Newsroom) -> None:
    for label, kwargs, error, message in _bad_cases(newsroom):
        with newsroom.hub.transaction() as s:
            with pytest.raises(error, match=message) as err:
                newsroom.submit(s, **kwargs)
            assert err.value.message_th and err.value.message_th != err.value.message_en, label
            # Refused before any write: the same (committing) transaction holds nothing new.
            s.flush()
            for model in (NewsItem, Photo, AuditEvent, Notification):
                assert s.scalar(select(func.count()).select_from(model)) == 0, (label, model)
    assert not newsroom.media_dir.exists() or not any(newsroom.media_dir.rglob("*.jpg"))


def test_body_of_exactly_20000_units_is_accepted(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, body="😀" * 10_000)
    assert len(item.body) == 10_000


def test_suspended_author_cannot_submit(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        s.get(type(newsroom.people.reporter), newsroom.people.reporter.id).status = "suspended"
    with newsroom.hub.transaction() as s, pytest.raises(InvalidInput, match="suspended"):
        submit_item(s, actor=system_actor(), author_id=newsroom.people.reporter.id, village_code="52010101",
                    category="event", body="ข่าว", now=newsroom.now, media_dir=newsroom.media_dir)


def test_a_reporter_cannot_submit_on_someone_elses_behalf(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s, pytest.raises(PermissionDenied):
        submit_item(s, actor=load_actor(s, newsroom.people.reporter2.id), author_id=newsroom.people.reporter.id,
                    village_code="52010101", category="event", body="ข่าว", now=newsroom.now,
                    media_dir=newsroom.media_dir)
