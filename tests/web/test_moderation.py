"""Moderating from the dashboard: approve, schedule, return, reject, PDPA confirmation, stale pages."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from network_hub.db.models import Delivery, NewsItem
from tests.web.conftest import WebWorld, csrf_of, sign_in


def _item(world: WebWorld, item_id: int) -> NewsItem:
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None
        return item


def test_approve_from_the_queue_writes_the_delivery(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/queue")
    response = client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token, "next": "/queue"})
    assert response.status_code == 303 and response.headers["location"] == "/queue?done=approve"
    assert _item(world, item_id).status == "approved"
    with world.hub.transaction() as session:
        deliveries = list(session.scalars(select(Delivery).where(Delivery.item_id == item_id)))
    assert [(d.outlet_id, d.state) for d in deliveries] == [(world.outlet_id, "pending")]
    detail = client.get(f"/items/{item_id}").text
    assert "อนุมัติข่าว" in detail and "news.approve" not in detail and "ข่าวอำเภอเมืองลำปาง" in detail


def test_two_moderators_cannot_both_decide(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/queue")
    # A second moderator (the admin) returned the item while this page was open.
    first = client.post(f"/items/{item_id}/return", data={"version": "1", "csrf_token": token,
                                                           "reason": "ขอภาพเพิ่ม"})
    assert first.status_code == 303
    stale = client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token})
    assert stale.status_code == 409
    assert "ถูกเปลี่ยนแปลงไปแล้ว" in stale.text
    item = _item(world, item_id)
    assert (item.status, item.version) == ("changes_requested", 2)


def test_return_and_reject_need_a_reason(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/queue")
    for verb in ("return", "reject"):
        response = client.post(f"/items/{item_id}/{verb}", data={"version": "1", "csrf_token": token, "reason": " "})
        assert response.status_code == 400
        assert "กรุณาระบุเหตุผล" in response.text
    assert _item(world, item_id).status == "submitted"
    assert client.post(f"/items/{item_id}/reject", data={"version": "1", "csrf_token": token,
                                                         "reason": "ซ้ำกับข่าวเมื่อวาน"}).status_code == 303
    assert _item(world, item_id).decision_reason == "ซ้ำกับข่าวเมื่อวาน"


def test_schedule_then_move_then_cancel(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/queue")
    client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token, "at": "2026-11-25T09:00"})
    item = _item(world, item_id)
    assert item.status == "scheduled" and item.scheduled_at is not None
    assert item.scheduled_at.isoformat() == "2026-11-25T02:00:00+00:00"  # 09:00 Bangkok
    calendar = client.get("/calendar?view=week&day=2026-11-25").text
    assert "09.00" in calendar and f"/items/{item_id}" in calendar
    assert client.post(f"/items/{item_id}/reschedule", data={"version": "2", "csrf_token": token,
                                                             "at": "2026-11-26T08:30"}).status_code == 303
    assert client.post(f"/items/{item_id}/unschedule", data={"version": "3", "csrf_token": token}).status_code == 303
    assert _item(world, item_id).status == "submitted"


def test_a_time_in_the_past_is_refused_and_changes_nothing(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit()
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/queue")
    response = client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token,
                                                              "at": "2026-11-20T09:00"})
    assert response.status_code == 400 and "ผ่านไปแล้ว" in response.text
    assert _item(world, item_id).status == "submitted"


def test_pdpa_flags_need_explicit_confirmation(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit(body="ด.ช. สมชาย ได้รับรางวัลเรียนดี ติดต่อ 081-234-5678")
    sign_in(client, world.people.moderator.phone)
    queue = client.get("/queue").text
    assert "คำเตือน PDPA" in queue and 'name="confirm_pdpa"' in queue
    token = csrf_of(client, "/queue")
    refused = client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token})
    assert refused.status_code == 409 and "ข้อมูลส่วนบุคคล" in refused.text
    assert _item(world, item_id).status == "submitted"
    ok = client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token, "confirm_pdpa": "1"})
    assert ok.status_code == 303
    assert _item(world, item_id).pdpa_confirmed_by == world.people.moderator.id


def test_an_unknown_item_is_a_clear_404(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.moderator.phone)
    response = client.get("/items/9999")
    assert response.status_code == 404 and "ไม่พบข่าว" in response.text
