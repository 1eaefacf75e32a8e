"""Finding 11: no-store on personal pages and private photos; the public /healthz says ok / not ok only."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from jobs.heartbeat import beat
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import load_actor
from tests.web.conftest import WebWorld, sign_in


@pytest.mark.parametrize("path", ["/roster", "/queue", "/items", "/stats", "/status", "/roster.csv"])
def test_signed_in_pages_are_never_stored(client: TestClient, world: WebWorld, path: str) -> None:
    sign_in(client, world.people.admin.phone)
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"] and "private" in response.headers["cache-control"]


def test_the_sign_in_page_is_not_stored_but_static_files_are_cacheable(client: TestClient) -> None:
    assert client.get("/login").headers["cache-control"] == "no-store"
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("cache-control", "")


def test_a_photo_of_an_unpublished_item_is_private_and_not_stored(client: TestClient, world: WebWorld) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(buffer, format="JPEG")
    with world.hub.transaction() as session:
        item = submit_item(session, actor=load_actor(session, world.people.reporter.id),
                           author_id=world.people.reporter.id, village_code="52010101", category="event",
                           body="ภาพงานประจำปีที่ยังไม่ได้อนุมัติของหมู่บ้าน", title=None,
                           photos=[PhotoInput(buffer.getvalue(), "x.jpg")], now=world.hub.clock.now(),
                           media_dir=world.hub.settings.resolved_media_dir)
        item_id = item.id
    sign_in(client, world.people.moderator.phone)
    photo = client.get(f"/items/{item_id}/photos/0")
    assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")
    assert photo.headers["cache-control"] == "private, no-store"


def test_public_healthz_says_only_ok_and_the_details_need_sign_in(client: TestClient, world: WebWorld) -> None:
    with world.hub.transaction() as session:
        beat(session, "host:1:abc", ["dispatcher", "scheduler", "web"], world.hub.clock.now())
    public = client.get("/healthz")
    assert public.status_code == 200 and public.json() == {"ok": True}
    assert client.get("/status.json").status_code == 303  # to the sign-in page
    sign_in(client, world.people.reporter.phone)
    assert client.get("/status.json").status_code == 403
    client.cookies.clear()
    sign_in(client, world.people.admin.phone)
    detailed = client.get("/status.json")
    assert detailed.status_code == 200 and "deliveries_by_state" in detailed.json()
