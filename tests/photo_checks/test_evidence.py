"""Evidence a moderator can act on: the item page's blurred region, the Telegram card line, and
"publish without this photo". The check result is written as the worker writes it (no OCR here)."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from network_hub.bot.cards import card_text, load_card
from network_hub.db.models import AuditEvent, NewsItem, PhotoCheck
from network_hub.newsroom import moderation
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import load_actor
from network_hub.photo_checks import checks
from network_hub.photo_checks.actions import delete_decided_originals
from network_hub.photo_checks.checks import CheckState
from tests.newsroom.conftest import jpeg_bytes
from tests.web.conftest import CSRF_RE, WebWorld, client, password_hash, signed_in, world  # noqa: F401 (fixtures)

BOX = [40, 30, 200, 70]


def striped_jpeg() -> bytes:
    """A photo with sharp detail (a blur visibly changes it), 320×240."""
    image = Image.new("RGB", (320, 240), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, 320, 8):
        draw.rectangle([x, 0, x + 3, 240], fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def flagged_item(world: WebWorld) -> tuple[int, int, int]:  # noqa: F811
    """An item with two photos; the second found to show an ID number. Returns (item, photo, check)."""
    member = world.people.reporter
    with world.hub.transaction() as s:
        item = submit_item(s, actor=load_actor(s, member.id), author_id=member.id, village_code="52010101",
                           category="event", body="ชาวบ้านมาลงทะเบียนรับเบี้ยยังชีพ",
                           photos=[PhotoInput(jpeg_bytes((320, 240), "red"), "a.jpg"),
                                   PhotoInput(striped_jpeg(), "b.jpg")],
                           now=world.hub.clock.now(), media_dir=world.hub.settings.resolved_media_dir)
        first, second = checks.checks_of(s, item.id)
        first.state = CheckState.DONE.value
        second.state = CheckState.DONE.value
        second.findings = [{"flag": "thai_national_id", "label_th": "เลขประจำตัวประชาชน",
                            "evidence": "3 9141 77763 17 5", "box": BOX, "conf": 92.0}]
        item.pdpa_flags = ["thai_national_id"]
        return item.id, second.photo_id, second.id


def test_the_card_names_the_photo(world: WebWorld) -> None:  # noqa: F811
    item_id, _photo, _check = flagged_item(world)
    with world.hub.transaction() as s:
        text = card_text(load_card(s, item_id))
    assert "⚠️ รูปที่ 2: เลขประจำตัวประชาชน" in text


def test_the_card_says_photos_are_being_read(world: WebWorld) -> None:  # noqa: F811
    member = world.people.reporter
    with world.hub.transaction() as s:
        item = submit_item(s, actor=load_actor(s, member.id), author_id=member.id, village_code="52010101",
                           category="event", body="ข่าว", photos=[PhotoInput(jpeg_bytes(), "a.jpg")],
                           now=world.hub.clock.now(), media_dir=world.hub.settings.resolved_media_dir)
        text = card_text(load_card(s, item.id))
    assert "กำลังตรวจรูป… (รูปที่ 1)" in text


def test_the_item_page_shows_a_blurred_region_until_revealed(world: WebWorld,  # noqa: F811
                                                              signed_in: Callable[[str], TestClient]) -> None:  # noqa: F811
    item_id, photo_id, check_id = flagged_item(world)
    browser = signed_in("moderator")
    page = browser.get(f"/items/{item_id}")
    assert page.status_code == 200
    assert "รูปที่ 2" in page.text and "เลขประจำตัวประชาชน" in page.text
    assert f"/items/{item_id}/photo-checks/{check_id}/0.jpg" in page.text
    assert f"/items/{item_id}/photos/{photo_id}/drop" in page.text
    assert 'value="รูปมีข้อมูลส่วนบุคคล"' in page.text
    blurred = browser.get(f"/items/{item_id}/photo-checks/{check_id}/0.jpg")
    revealed = browser.get(f"/items/{item_id}/photo-checks/{check_id}/0.jpg?reveal=1")
    assert blurred.status_code == revealed.status_code == 200
    assert blurred.headers["content-type"] == "image/jpeg" and "no-store" in blurred.headers["cache-control"]
    assert blurred.content != revealed.content
    crop = Image.open(io.BytesIO(revealed.content))
    assert crop.width < 320 and crop.height < 240  # the region with a margin, not the whole photo
    assert browser.get(f"/items/{item_id}/photo-checks/{check_id}/5.jpg").status_code == 404


def test_only_moderators_see_the_region(world: WebWorld, signed_in: Callable[[str], TestClient]) -> None:  # noqa: F811
    item_id, _photo, check_id = flagged_item(world)
    response = signed_in("reporter").get(f"/items/{item_id}/photo-checks/{check_id}/0.jpg?reveal=1")
    assert response.status_code in (403, 404)


def test_publish_without_this_photo(world: WebWorld, signed_in: Callable[[str], TestClient]) -> None:  # noqa: F811
    item_id, photo_id, _check = flagged_item(world)
    browser = signed_in("moderator")
    page = browser.get(f"/items/{item_id}")
    token = CSRF_RE.search(page.text).group(1)
    with world.hub.transaction() as s:
        version = s.get(NewsItem, item_id).version
        path = world.hub.settings.resolved_media_dir / s.get(NewsItem, item_id).photos[1].path
    assert path.exists()
    stale = browser.post(f"/items/{item_id}/photos/{photo_id}/drop", data={"csrf_token": token, "version": version - 1})
    assert stale.status_code == 409
    done = browser.post(f"/items/{item_id}/photos/{photo_id}/drop", data={"csrf_token": token, "version": version})
    assert done.status_code == 303
    with world.hub.transaction() as s:
        item = s.get(NewsItem, item_id)
        assert [p.position for p in item.photos] == [0]
        assert item.pdpa_flags == []  # the ID was only in the dropped photo
        assert item.version == version + 1
        assert len(checks.checks_of(s, item_id)) == 1
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "news.drop_photo")).one()
        assert event.object_id == str(item_id)
    assert not path.exists()  # the photo with personal data is gone from the disk too
    again = browser.post(f"/items/{item_id}/photos/{photo_id}/drop", data={"csrf_token": token,
                                                                             "version": version + 1})
    assert again.status_code == 404


def test_black_out_and_publish_the_redacted_photo(world: WebWorld,  # noqa: F811
                                                  signed_in: Callable[[str], TestClient]) -> None:  # noqa: F811
    item_id, photo_id, check_id = flagged_item(world)
    media = world.hub.settings.resolved_media_dir
    with world.hub.transaction() as s:
        item = s.get(NewsItem, item_id)
        version, original = item.version, item.photos[1].path
    browser = signed_in("moderator")
    token = CSRF_RE.search(browser.get(f"/items/{item_id}").text).group(1)
    done = browser.post(f"/items/{item_id}/photos/{photo_id}/redact", data={"csrf_token": token, "version": version})
    assert done.status_code == 303
    with world.hub.transaction() as s:
        item = s.get(NewsItem, item_id)
        photo = item.photos[1]
        assert s.get(PhotoCheck, check_id).original_path == original
        assert photo.path != original and photo.telegram_file_id is None
        assert item.pdpa_flags == [] and item.version == version + 1
        redacted_path = media / photo.path
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "news.redact_photo")).one()
        assert event.after["regions"] == 1
    with Image.open(redacted_path) as image:
        left, top, right, bottom = BOX
        centre = image.convert("RGB").getpixel(((left + right) // 2, (top + bottom) // 2))
        outside = image.convert("RGB").getpixel((300, 200))
    assert max(centre) < 30  # blacked out (JPEG noise aside)
    assert outside != centre
    assert (media / original).exists()  # kept while the item is undecided
    again = browser.post(f"/items/{item_id}/photos/{photo_id}/redact", data={"csrf_token": token,
                                                                               "version": version + 1})
    assert again.status_code == 409  # nothing left to black out

    # Once decided, the next photo-check pass deletes the unredacted original.
    with world.hub.transaction() as s:
        moderation.reject_item(s, item_id, actor=load_actor(s, world.people.moderator.id), reason="ทดสอบ",
                               now=world.hub.clock.now())
    with world.hub.transaction() as s:
        assert delete_decided_originals(s, media) == 1
    assert not (media / original).exists()
    assert redacted_path.exists()
    with world.hub.transaction() as s:
        assert delete_decided_originals(s, media) == 0
