"""Finding 3: an author who is a moderator may not correct their own published item (nor self-confirm PDPA)."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from jobs.dispatch import Dispatcher
from network_hub.db.models import Delivery, NewsItem
from network_hub.newsroom.moderation import approve_item
from network_hub.permissions import load_actor
from publishers.registry import Publishers
from tests.web.conftest import WebWorld, csrf_of, sign_in


def _publish_as_admin(world: WebWorld, item_id: int) -> None:
    with world.hub.transaction() as session:
        approve_item(session, item_id, actor=load_actor(session, world.people.admin.id), confirm_pdpa=True,
                     now=world.hub.clock.now(), via="web")

    async def one_pass() -> None:
        publishers = Publishers(world.hub.settings)
        try:
            await Dispatcher(world.hub, publishers).run_once()
        finally:
            await publishers.aclose()

    asyncio.run(one_pass())


def _item(world: WebWorld, item_id: int) -> NewsItem:
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None
        session.expunge(item)
        return item


def test_a_moderator_cannot_correct_their_own_published_item(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit(body="ข่าวของผู้ดูแลเรื่องงานวัดประจำปีของหมู่บ้าน", author="moderator")
    _publish_as_admin(world, item_id)
    published = _item(world, item_id)
    assert published.status == "published"

    sign_in(client, world.people.moderator.phone)
    page = client.get(f"/items/{item_id}")
    assert page.status_code == 200 and f"/items/{item_id}/correct" not in page.text  # not offered
    token = csrf_of(client, f"/items/{item_id}")
    refused = client.post(f"/items/{item_id}/correct", data={
        "csrf_token": token, "version": str(published.version), "confirm_pdpa": "1",
        "body": "ข่าวของผู้ดูแล ติดต่อ 0812345678 เลขบัตร 1101700230705"})
    assert refused.status_code == 403 and "ผู้ดูแลท่านอื่น" in refused.text
    after = _item(world, item_id)
    assert (after.body, after.version, after.pdpa_confirmed_by) == (published.body, published.version,
                                                                     published.pdpa_confirmed_by)
    with world.hub.transaction() as session:
        assert all(d.followup_action is None for d in session.query(Delivery).filter_by(item_id=item_id))

    # A second person (here the admin) corrects it and confirms the PDPA warning themselves.
    client.cookies.clear()
    sign_in(client, world.people.admin.phone)
    token = csrf_of(client, f"/items/{item_id}")
    done = client.post(f"/items/{item_id}/correct", data={
        "csrf_token": token, "version": str(published.version), "confirm_pdpa": "1",
        "body": "ข่าวของผู้ดูแลเรื่องงานวัดประจำปีของหมู่บ้าน (แก้ไขวันที่)"})
    assert done.status_code == 303, done.text
    corrected = _item(world, item_id)
    assert corrected.body.endswith("(แก้ไขวันที่)") and corrected.version == published.version + 1


def test_the_author_may_still_withdraw_their_own_item(client: TestClient, world: WebWorld) -> None:
    item_id = world.submit(body="ข่าวของผู้ดูแลเรื่องตลาดนัดวันเสาร์ของหมู่บ้าน", author="moderator")
    _publish_as_admin(world, item_id)
    version = _item(world, item_id).version
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, f"/items/{item_id}")
    done = client.post(f"/items/{item_id}/withdraw", data={"csrf_token": token, "version": str(version),
                                                            "reason": "ลงวันที่ผิด"})
    assert done.status_code == 303
    assert _item(world, item_id).status == "withdrawn"
