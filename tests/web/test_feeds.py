"""Public feeds: Atom (RFC 4287 required elements) and JSON Feed 1.1, photos, withdrawals, caching."""

from __future__ import annotations

import io
import json
import re
from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient
from PIL import Image

from network_hub.newsroom.moderation import withdraw_item
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import load_actor
from tests.web.conftest import WebWorld, approve_and_dispatch

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _photo() -> PhotoInput:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="JPEG")
    return PhotoInput(buffer.getvalue(), "market.jpg")


def _submit_with_photo(world: WebWorld) -> int:
    with world.hub.transaction() as session:
        item = submit_item(session, actor=load_actor(session, world.people.reporter.id),
                           author_id=world.people.reporter.id, village_code="52010101", category="local_product",
                           title="ตลาดนัดผ้าทอ & ของดี <บ้านเวียงเหนือ>",
                           body="วันเสาร์นี้ เชิญชวนชาวบ้านมาเลือกซื้อผ้าทอมือและผลิตภัณฑ์ชุมชน",
                           photos=[_photo()], now=world.hub.clock.now(),
                           media_dir=world.hub.settings.resolved_media_dir)
        return item.id


def _check_atom(document: bytes) -> ET.Element:
    root = ET.fromstring(document)  # well-formed, or this raises
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        element = root.find(f"{A}{name}")
        assert element is not None and (element.text or "").strip(), f"feed lacks {name}"
    assert RFC3339.match(root.findtext(f"{A}updated") or "")
    assert root.find(f"{A}author/{A}name") is not None
    assert any(link.get("rel") == "self" for link in root.findall(f"{A}link"))
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert (entry.findtext(f"{A}{name}") or "").strip(), f"entry lacks {name}"
        assert RFC3339.match(entry.findtext(f"{A}updated") or "")
        assert entry.find(f"{A}author/{A}name") is not None
        assert entry.find(f"{A}content") is not None or any(
            link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{A}link"))
    ids = [e.findtext(f"{A}id") for e in root.findall(f"{A}entry")]
    assert len(ids) == len(set(ids))
    return root


def _check_json_feed(document: bytes) -> dict:
    feed = json.loads(document)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    assert isinstance(feed["items"], list)
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_text" in item or "content_html" in item
        assert RFC3339.match(item["date_published"])
    return feed


def test_published_news_is_in_both_feeds_with_photos_and_thai_dates(client: TestClient, world: WebWorld) -> None:
    item_id = _submit_with_photo(world)
    waiting = world.submit(body="ข่าวที่ยังรออนุมัติ ไม่ควรอยู่ในฟีด")
    approve_and_dispatch(world, item_id)

    atom = client.get("/feeds/5201.atom")
    assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/atom+xml")
    root = _check_atom(atom.content)
    entries = root.findall(f"{A}entry")
    assert len(entries) == 1
    assert entries[0].findtext(f"{A}title") == "ตลาดนัดผ้าทอ & ของดี <บ้านเวียงเหนือ>"
    content = entries[0].findtext(f"{A}content") or ""
    assert "24 พฤศจิกายน 2569" in content  # the displayed date is Thai Buddhist Era
    enclosure = next(link for link in entries[0].findall(f"{A}link") if link.get("rel") == "enclosure")
    photo_path = enclosure.get("href", "").split("/media/", 1)[1]
    assert client.get(f"/media/{photo_path}").headers["content-type"] == "image/jpeg"

    feed = _check_json_feed(client.get("/feeds/52010101.json").content)
    assert [i["title"] for i in feed["items"]] == ["ตลาดนัดผ้าทอ & ของดี <บ้านเวียงเหนือ>"]
    assert feed["items"][0]["attachments"][0]["mime_type"] == "image/jpeg"
    assert feed["items"][0]["date_published"].endswith("Z")
    assert "รออนุมัติ" not in json.dumps(feed, ensure_ascii=False)
    assert waiting

    public_page = client.get(f"/news/{feed['items'][0]['_tambon_pr_hub']['receipt_no']}")
    assert public_page.status_code == 200 and "ผ้าทอมือ" in public_page.text


def test_other_areas_do_not_see_it_and_unknown_areas_are_404(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    approve_and_dispatch(world, item_id)
    assert _check_json_feed(client.get("/feeds/520102.json").content)["items"] == []
    assert len(_check_json_feed(client.get("/feeds/TH.json").content)["items"]) == 1
    assert client.get("/feeds/99.atom").status_code == 404
    assert client.get("/feeds/abc.atom").status_code == 400


def test_withdrawn_news_leaves_the_feed_and_its_photos_stop(client: TestClient, world: WebWorld) -> None:
    item_id = _submit_with_photo(world)
    approve_and_dispatch(world, item_id)
    feed = _check_json_feed(client.get("/feeds/5201.json").content)
    photo_url = feed["items"][0]["image"]
    path = photo_url.split("/media/", 1)[1]
    assert client.get(f"/media/{path}").status_code == 200
    with world.hub.transaction() as session:
        withdraw_item(session, item_id, actor=load_actor(session, world.people.moderator.id),
                      reason="ข้อมูลวันจัดงานผิด", now=world.hub.clock.now())
    assert _check_json_feed(client.get("/feeds/5201.json").content)["items"] == []
    _check_atom(client.get("/feeds/5201.atom").content)
    assert client.get(f"/media/{path}").status_code == 404


def test_unpublished_photos_are_not_public(client: TestClient, world: WebWorld) -> None:
    item_id = _submit_with_photo(world)
    with world.hub.transaction() as session:
        from network_hub.db.models import Photo

        path = session.query(Photo).filter_by(item_id=item_id).one().path
    assert client.get(f"/media/{path}").status_code == 404
    assert client.get("/media/../../etc/passwd").status_code == 404


def test_feeds_answer_conditional_requests(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    approve_and_dispatch(world, item_id)
    first = client.get("/feeds/5201.atom")
    assert first.headers["cache-control"].startswith("public")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/feeds/5201.atom", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feeds/5201.atom", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/feeds/5201.atom", headers={"If-None-Match": '"other"'}).status_code == 200


def test_an_empty_feed_is_still_valid(client: TestClient, world: WebWorld) -> None:
    _check_atom(client.get("/feeds/520101.atom").content)
    assert _check_json_feed(client.get("/feeds/520101.json").content)["items"] == []
