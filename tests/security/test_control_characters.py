"""Finding 7: C0 control characters are stripped where text enters the hub; the Atom feed stays parseable."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient

from network_hub.areas import add_village
from network_hub.db.models import NewsItem
from network_hub.newsroom.text import normalize_line, normalize_text
from network_hub.textclean import has_controls, strip_controls
from tests.web.conftest import WebWorld, approve_and_dispatch

A = "{http://www.w3.org/2005/Atom}"
NASTY = "ตลาดนัด\x0bวันเสาร์\x1b[31m สีแดง\x00\x07\x7f\x85 จบ\r\nบรรทัดสอง\tแท็บ"


def test_strip_controls_keeps_newline_and_tab_only() -> None:
    assert strip_controls(NASTY) == "ตลาดนัดวันเสาร์[31m สีแดง จบ\nบรรทัดสอง\tแท็บ"
    assert strip_controls("") == "" and not has_controls("ก\nข\tค\r\n")
    assert has_controls("a\x1bb") and has_controls("a\ud800b") and has_controls("\ufffe")
    assert normalize_line("หัวข้อ\x0b\x1bข่าว") == "หัวข้อข่าว"
    assert "\x1b" not in normalize_text(NASTY)


def test_a_submitted_item_loses_its_controls_and_every_feed_parses(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit(body="ข่าว\x0bงานบุญ\x1bประจำปีของหมู่บ้านเวียงเหนือ\x00", title="งานบุญ\x1b\x0bประจำปี")
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None
        assert not has_controls(item.body) and not has_controls(item.title)
    approve_and_dispatch(world, item_id)
    for area in ("52010101", "520101", "5201", "52", "TH"):
        response = client.get(f"/feeds/{area}.atom")
        assert response.status_code == 200, area
        root = ET.fromstring(response.content)  # raises when a control character slipped through
        titles = [e.findtext(f"{A}title") for e in root.findall(f"{A}entry")]
        assert "งานบุญประจำปี" in titles, (area, titles)


def test_a_row_stored_before_the_rule_does_not_break_the_feed(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit(body="ข่าวเก่าที่บันทึกไว้ก่อนมีการกรองอักขระควบคุม")
    approve_and_dispatch(world, item_id)
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None
        item.body = "ข่าวเก่า\x0bที่มี\x1bอักขระควบคุม"  # written straight to the database
    response = client.get("/feeds/520101.atom")
    root = ET.fromstring(response.content)
    contents = [e.findtext(f"{A}content") or "" for e in root.findall(f"{A}entry")]
    assert any("ข่าวเก่าที่มีอักขระควบคุม" in c for c in contents)


def test_a_village_name_loses_its_controls(world: WebWorld) -> None:
    with world.hub.transaction() as session:
        area = add_village(session, "52010109", "บ้าน\x1bทดสอบ\x0b", world.hub.clock.now())
        assert area.name_th == "บ้านทดสอบ"


def test_a_telegram_name_loses_its_controls(world: WebWorld) -> None:
    from datetime import timedelta

    from network_hub.permissions import system_actor
    from network_hub.roster.invites import create_invite, redeem_invite

    with world.hub.transaction() as session:
        code = create_invite(session, role="reporter", area_code="52010101", expires_in=timedelta(days=1),
                             now=world.hub.clock.now(), actor=system_actor()).code
        member, _grant = redeem_invite(session, code, telegram_user_id=777000111, name="สม\x1b[2Jชาย\x0b ใจดี",
                                       now=world.hub.clock.now())
        assert member.name == "สม[2Jชาย ใจดี"
