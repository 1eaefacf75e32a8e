"""Every page and action goes through the one permission function: role, area and own items."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from network_hub.db.models import NewsItem, Outlet
from tests.web.conftest import WebWorld, csrf_of, sign_in


def _status(world: WebWorld, item_id: int) -> str:
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None
        return item.status


@pytest.mark.parametrize("path", ["/queue", "/deliveries", "/stats", "/stats.csv", "/status", "/roster", "/outlets",
                                  "/calendar"])
def test_a_reporter_cannot_open_moderation_pages(client: TestClient, world: WebWorld, path: str) -> None:
    sign_in(client, world.people.reporter.phone)
    response = client.get(path)
    assert response.status_code == 403
    assert "ท่านไม่มีสิทธิ์" in response.text


def test_a_reporter_sees_only_their_own_items_and_cannot_approve(client: TestClient, world: WebWorld) -> None:
    own = world.submit(body="ข่าวของสมศรีเรื่องตลาดนัดชุมชน")
    other = world.submit(body="ข่าวของบุญมีเรื่องผ้าทอมือ", author="reporter2", village="52010102")
    sign_in(client, world.people.reporter.phone)
    listing = client.get("/items").text
    assert "ตลาดนัดชุมชน" in listing and "ผ้าทอมือ" not in listing
    assert client.get(f"/items/{own}").status_code == 200
    assert client.get(f"/items/{other}").status_code == 403
    assert client.get(f"/items/{other}/photos/0").status_code == 403
    token = csrf_of(client, "/items")
    assert client.post(f"/items/{own}/approve", data={"version": "1", "csrf_token": token}).status_code == 403
    assert _status(world, own) == "submitted"


def test_a_moderator_elsewhere_sees_nothing_of_this_area(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.outsider.phone)  # moderator in Chiang Mai
    assert "ชาวบ้านร่วมกัน" not in client.get("/queue").text
    assert client.get(f"/items/{item_id}").status_code == 403
    token = csrf_of(client, "/queue")
    assert client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token}).status_code == 403
    assert client.get("/stats?area=5201").status_code == 403
    assert _status(world, item_id) == "submitted"


def test_nobody_approves_their_own_item(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit(author="moderator", village="52010101")
    sign_in(client, world.people.moderator.phone)
    assert "ชาวบ้านร่วมกัน" not in client.get("/queue").text  # not offered
    token = csrf_of(client, "/queue")
    response = client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token})
    assert response.status_code == 403
    assert "ข่าวของตนเอง" in response.text
    assert _status(world, item_id) == "submitted"


def test_a_coordinator_reads_numbers_but_does_not_moderate(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.coordinator.phone)
    assert client.get("/stats").status_code == 200
    assert client.get("/queue").status_code == 403
    token = csrf_of(client, "/stats")
    assert client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token}).status_code == 403


def test_only_admins_pause_outlets(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.moderator.phone)
    page = client.get("/outlets")
    assert page.status_code == 200 and f"/outlets/{world.outlet_id}/pause" not in page.text
    token = csrf_of(client, "/outlets")
    assert client.post(f"/outlets/{world.outlet_id}/pause", data={"csrf_token": token}).status_code == 403
    client.cookies.clear()
    sign_in(client, world.people.admin.phone)
    token = csrf_of(client, "/outlets")
    assert client.post(f"/outlets/{world.outlet_id}/pause", data={"csrf_token": token, "reason": "ทดสอบ"}
                       ).status_code == 303
    with world.hub.transaction() as session:
        outlet = session.get(Outlet, world.outlet_id)
        assert outlet is not None and outlet.status == "paused"


def test_invites_from_the_dashboard_respect_roles(client: TestClient, world: WebWorld,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/roster")
    made = client.post("/roster/invites", data={"csrf_token": token, "role": "reporter", "area": "52010101"})
    assert made.status_code == 303
    # Without a bot no link or QR code is printed (it would point at a placeholder); the page says how.
    page = client.get("/roster")
    assert "t.me/" not in page.text and "/qr.png" not in page.text and "HUB_TELEGRAM_BOT_TOKEN" in page.text
    monkeypatch.setattr(world.hub.settings, "telegram_bot_token", "123456:test-token")
    monkeypatch.setattr(world.hub.settings, "telegram_bot_username", "tambon_test_bot")
    page = client.get("/roster")
    assert "https://t.me/" in page.text and "/qr.png" in page.text
    code = page.text.split("/roster/invites/")[1].split("/")[0]
    qr = client.get(f"/roster/invites/{code}/qr.png")
    assert qr.status_code == 200 and qr.content.startswith(b"\x89PNG")
    refused = client.post("/roster/invites", data={"csrf_token": token, "role": "admin", "area": "520101"})
    assert refused.status_code == 403
