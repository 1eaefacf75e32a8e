"""A volunteer links LINE by a personal invite and sends Thai text + 3 photos through the 1:1 chat
(webhook → stored events → chat steps → free replies), the same submit_item as the bot; then the
approved item reaches a LINE group exactly once. Fake LINE in a thread, the real SDK, both databases."""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from jobs.dispatch import Dispatcher
from network_hub.db.models import LineWebhookEvent, Member, NewsItem, Photo
from network_hub.hub import Hub
from network_hub.line.notices import preference
from network_hub.newsroom.moderation import approve_item
from network_hub.permissions import load_actor, system_actor
from network_hub.roster.invites import create_invite
from network_hub.web.app import create_app
from platform_fakes.line import Channel, FakeLine
from publishers.line import LinePublisher
from publishers.registry import Publishers
from tests.engine.builders import add_outlet
from tests.factories import People, seed_network

USER = "U" + "a1" * 16


@pytest.fixture
def line_fake() -> Iterator[FakeLine]:
    fake = FakeLine().start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture
def world(hub: Hub, line_fake: FakeLine, tmp_path) -> tuple[Channel, People, str]:
    channel = line_fake.add_channel(quota=1000)
    hub.settings.line_channel_secret = channel.secret
    hub.settings.line_channel_access_token = channel.token
    hub.settings.line_api_base_url = line_fake.api_base_url
    hub.settings.line_data_api_base_url = line_fake.data_base_url
    hub.settings.public_base_url = "https://hub.example.test"
    hub.settings.media_dir = tmp_path / "media"
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
        s.get(Member, people.reporter.id).telegram_user_id = None  # a LINE-only volunteer on the roster
        s.flush()
        invite = create_invite(s, role="reporter", area_code="52010101", now=hub.clock.now(), actor=system_actor(),
                               member_id=people.reporter.id)
        code = invite.code
    return channel, people, code


@pytest.fixture
def client(hub: Hub, world) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as test_client:
        yield test_client


def send(client: TestClient, channel: Channel, *events: dict, redelivery: bool = False) -> None:
    sent = [dict(e, deliveryContext={"isRedelivery": redelivery}) for e in events]
    body = json.dumps({"destination": channel.bot_user_id, "events": sent}, ensure_ascii=False).encode()
    response = client.post("/line/webhook", content=body, headers={
        "x-line-signature": FakeLine.sign(channel.secret, body), "content-type": "application/json"})
    assert response.status_code == 200


def last_reply(fake: FakeLine) -> list[dict]:
    replies = [m for m in fake.sent if m.kind == "reply"]
    return replies[-1].messages if replies else []


def buttons(messages: list[dict]) -> list[str]:
    items = (messages[-1].get("quickReply") or {}).get("items") or []
    return [i["action"]["data"] for i in items]


def jpeg_with_gps(color: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (320, 240), color)
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (18.0, 47.0, 0.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_volunteer_links_by_invite_and_submits_text_and_three_photos(hub: Hub, line_fake: FakeLine, world,
                                                                     client: TestClient) -> None:
    channel, people, code = world
    send(client, channel, line_fake.follow_event(channel, USER))
    assert "รหัสเชิญส่วนตัว" in last_reply(line_fake)[0]["text"]
    send(client, channel, line_fake.text_event(USER, "WRONG-CODE-123"))
    with hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Member).where(Member.line_user_id.is_not(None))) == 0
    members_before = counts_members(hub)
    send(client, channel, line_fake.text_event(USER, code))
    assert "สมศรี ใจดี" in last_reply(line_fake)[0]["text"]
    with hub.transaction() as s:
        assert s.get(Member, people.reporter.id).line_user_id == USER
    assert counts_members(hub) == members_before  # bound to the roster entry, never a new member

    send(client, channel, line_fake.text_event(USER, "ส่งข่าว"))
    assert "c=event" in buttons(last_reply(line_fake))  # one village: straight to the category
    send(client, channel, line_fake.postback_event(USER, "c=event"))
    send(client, channel, line_fake.text_event(USER, "งานบุญประจำปีบ้านปงยางคก\nเชิญชาวบ้านร่วมทำบุญตักบาตรที่วัด"))
    assert buttons(last_reply(line_fake)) == ["photos=none"]
    send(client, channel, *line_fake.image_events(USER, [jpeg_with_gps((200, 30, 30)), jpeg_with_gps((30, 200, 30)),
                                                       jpeg_with_gps((30, 30, 200))]))
    assert "3 ภาพ" in last_reply(line_fake)[0]["text"]  # one answer for the image set
    send(client, channel, line_fake.postback_event(USER, "photos=done"))
    send(client, channel, line_fake.postback_event(USER, "children=no"))
    send(client, channel, line_fake.postback_event(USER, "people=yes"))
    send(client, channel, line_fake.postback_event(USER, "consent=yes"))
    preview = last_reply(line_fake)
    assert "งานบุญประจำปีบ้านปงยางคก" in preview[1]["text"] and buttons(preview) == ["send", "cancel"]
    confirm = line_fake.postback_event(USER, "send")
    send(client, channel, confirm)
    assert "เลขที่รับ" in last_reply(line_fake)[0]["text"]
    send(client, channel, confirm, redelivery=True)  # LINE repeats the event: nothing new
    with hub.transaction() as s:
        [item] = s.scalars(select(NewsItem)).all()
        assert item.author_id == people.reporter.id and item.category == "event"
        assert item.title == "งานบุญประจำปีบ้านปงยางคก"
        assert item.consent == {"photos_show_children": False, "identifiable_people": True, "consent_given": True}
        photos = s.scalars(select(Photo).where(Photo.item_id == item.id)).all()
        stored = [hub.settings.resolved_media_dir / p.path for p in photos]
        item_id = item.id
        assert s.scalar(select(func.count()).select_from(LineWebhookEvent)) == 14
    assert len(stored) == 3
    for path in stored:
        with Image.open(path) as img:
            assert not img.getexif()  # EXIF and GPS stripped by the photo pipeline
    assert all(m.kind == "reply" for m in line_fake.sent)  # every answer was a free reply
    assert [r for r in line_fake.requests("reply") if r.status != 200] == []

    # a moderator approves; the item reaches the LINE group once (engine in process)
    group = line_fake.add_group(channel, members=60)
    with hub.transaction() as s:
        add_outlet(s, hub.clock.now(), platform="line", address=group.id)
        approve_item(s, item_id, actor=load_actor(s, people.moderator.id), confirm_pdpa=True,
                     now=hub.clock.now(), via="web")

    async def dispatch_twice() -> None:
        pubs = Publishers(hub.settings)
        pubs.put("line", LinePublisher(hub.settings, clock=hub.clock))
        try:
            await Dispatcher(hub, pubs, owner="t", rng=random.Random(1)).run_once()
            await Dispatcher(hub, pubs, owner="t", rng=random.Random(1)).run_once()
        finally:
            await pubs.aclose()

    asyncio.run(dispatch_twice())
    [post] = line_fake.messages_to(group.id)
    assert "งานบุญประจำปีบ้านปงยางคก" in post.texts[0]
    assert [m["type"] for m in post.messages] == ["text", "image", "image", "image"]


def counts_members(hub: Hub) -> int:
    with hub.transaction() as s:
        return s.scalar(select(func.count()).select_from(Member)) or 0


def test_cancel_keeps_nothing_and_unlinked_people_get_no_access(hub: Hub, line_fake: FakeLine, world,
                                                                client: TestClient) -> None:
    channel, _people, code = world
    stranger = "U" + "b2" * 16
    send(client, channel, line_fake.postback_event(stranger, "send"))
    send(client, channel, line_fake.text_event(stranger, "ส่งข่าว"))
    assert "รหัสเชิญ" in last_reply(line_fake)[0]["text"] or "ไม่" in last_reply(line_fake)[0]["text"]
    send(client, channel, line_fake.text_event(USER, code))
    send(client, channel, line_fake.text_event(USER, "ปิดการแจ้งผล"))
    assert "ปิดการแจ้งผลทาง LINE แล้ว" in last_reply(line_fake)[0]["text"]
    with hub.transaction() as s:
        member_id = s.scalar(select(Member.id).where(Member.line_user_id == USER))
        assert preference(s, member_id) == "off"
    send(client, channel, line_fake.text_event(USER, "ส่งข่าว"))
    send(client, channel, line_fake.postback_event(USER, "c=event"))
    send(client, channel, line_fake.text_event(USER, "ยกเลิก"))
    assert "ยกเลิกแล้ว" in last_reply(line_fake)[0]["text"]
    send(client, channel, line_fake.text_event(USER, "ข้อความหลังยกเลิก"))
    with hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(NewsItem)) == 0
    # the invite was personal and single-use: the stranger cannot reuse it
    send(client, channel, line_fake.text_event(stranger, code))
    with hub.transaction() as s:
        assert s.scalar(select(Member.id).where(Member.line_user_id == stranger)) is None
