"""Deliveries that need a person: answer an unknown, retry a failure."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from network_hub.db.models import Delivery
from tests.web.conftest import WebWorld, approve_and_dispatch, csrf_of, sign_in


def _delivery(world: WebWorld, item_id: int) -> Delivery:
    with world.hub.transaction() as session:
        return session.scalars(select(Delivery).where(Delivery.item_id == item_id)).one()


def _force(world: WebWorld, delivery_id: int, state: str) -> None:
    with world.hub.transaction() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.state, delivery.last_error = state, "read timeout after the request was sent"
        item = delivery.item_id
    from network_hub.db.models import NewsItem

    with world.hub.transaction() as session:
        news = session.get(NewsItem, item)
        assert news is not None
        news.status = "failed" if state == "failed" else "publishing"


def test_moderator_answers_it_is_posted(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    approve_and_dispatch(world, item_id)
    delivery = _delivery(world, item_id)
    _force(world, delivery.id, "unknown")
    sign_in(client, world.people.moderator.phone)
    page = client.get("/deliveries")
    assert f"delivery-{delivery.id}" in page.text and "read timeout" in page.text
    token = csrf_of(client, "/deliveries")
    response = client.post(f"/deliveries/{delivery.id}/resolve", data={"csrf_token": token, "posted": "1"})
    assert response.status_code == 303
    assert _delivery(world, item_id).state == "sent"
    again = client.post(f"/deliveries/{delivery.id}/resolve", data={"csrf_token": token, "posted": "1"})
    assert again.status_code == 409  # a double click changes nothing


def test_failed_delivery_is_retried_and_outsiders_are_refused(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    approve_and_dispatch(world, item_id)
    delivery = _delivery(world, item_id)
    _force(world, delivery.id, "failed")
    sign_in(client, world.people.outsider.phone)
    assert f"delivery-{delivery.id}" not in client.get("/deliveries").text
    token = csrf_of(client, "/deliveries")
    assert client.post(f"/deliveries/{delivery.id}/retry", data={"csrf_token": token}).status_code == 403
    client.cookies.clear()
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/deliveries")
    assert client.post(f"/deliveries/{delivery.id}/retry", data={"csrf_token": token}).status_code == 303
    assert _delivery(world, item_id).state == "pending"
