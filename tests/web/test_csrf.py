"""Every form needs the session's CSRF token; a forged request changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from network_hub.db.models import NewsItem
from tests.web.conftest import WebWorld, csrf_of, sign_in


@pytest.mark.parametrize("token", [None, "", "forged-token-value"])
def test_approve_without_the_session_token_is_refused(client: TestClient, world: WebWorld,
                                                      token: str | None) -> None:
    item_id = world.submit()
    sign_in(client, world.people.moderator.phone)
    data = {"version": "1"} if token is None else {"version": "1", "csrf_token": token}
    response = client.post(f"/items/{item_id}/approve", data=data)
    assert response.status_code == 403
    assert "แบบฟอร์มหมดอายุหรือไม่ถูกต้อง" in response.text
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None and (item.status, item.version) == ("submitted", 1)


def test_a_token_from_another_session_is_refused(world: WebWorld, client: TestClient) -> None:
    from network_hub.web.app import create_app

    item_id = world.submit()
    with TestClient(create_app(world.hub), follow_redirects=False) as attacker:
        stolen = csrf_of(attacker)
    sign_in(client, world.people.moderator.phone)
    response = client.post(f"/items/{item_id}/reject", data={"version": "1", "reason": "x", "csrf_token": stolen})
    assert response.status_code == 403


def test_the_token_seen_before_sign_in_is_worthless_after(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    before = csrf_of(client)
    sign_in(client, world.people.moderator.phone)
    assert client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": before}).status_code == 403


def test_sign_in_form_needs_the_token_too(client: TestClient, world: WebWorld) -> None:
    response = client.post("/login", data={"account": world.people.moderator.phone, "password": "x" * 12})
    assert response.status_code == 403


def test_htmx_header_token_is_accepted(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/queue")
    response = client.post(f"/items/{item_id}/approve", data={"version": "1"},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-status="approved"' in response.text
