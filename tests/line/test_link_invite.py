"""A member already on Telegram links LINE with a personal invite: the same member, never a second
one; a LINE account of someone else is refused in Thai and nothing changes (webhook → chat, both databases)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, Invite, Member
from network_hub.errors import Conflict
from network_hub.hub import Hub
from network_hub.permissions import system_actor
from network_hub.roster.invites import ensure_personal_invite, redeem_invite
from network_hub.web.app import create_app
from platform_fakes.line import Channel, FakeLine
from tests.factories import People, seed_network

USER = "U" + "b2" * 16
OTHER_USER = "U" + "c3" * 16


@pytest.fixture
def line_fake() -> Iterator[FakeLine]:
    fake = FakeLine().start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture
def world(hub: Hub, line_fake: FakeLine, tmp_path) -> tuple[Channel, People]:
    channel = line_fake.add_channel(quota=1000)
    hub.settings.line_channel_secret = channel.secret
    hub.settings.line_channel_access_token = channel.token
    hub.settings.line_api_base_url = line_fake.api_base_url
    hub.settings.line_data_api_base_url = line_fake.data_base_url
    hub.settings.public_base_url = "https://hub.example.test"
    hub.settings.media_dir = tmp_path / "media"
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
        assert people.reporter.telegram_user_id is not None  # on Telegram already
    return channel, people


@pytest.fixture
def client(hub: Hub, world) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as test_client:
        yield test_client


def personal_code(hub: Hub, member_id: int) -> str:
    with hub.transaction() as s:
        return ensure_personal_invite(s, member_id, now=hub.clock.now(), actor=system_actor()).code


def send_text(client: TestClient, fake: FakeLine, channel: Channel, user: str, text: str) -> str:
    event = dict(fake.text_event(user, text), deliveryContext={"isRedelivery": False})
    body = json.dumps({"destination": channel.bot_user_id, "events": [event]}, ensure_ascii=False).encode()
    response = client.post("/line/webhook", content=body, headers={
        "x-line-signature": FakeLine.sign(channel.secret, body), "content-type": "application/json"})
    assert response.status_code == 200
    replies = [m for m in fake.sent if m.kind == "reply"]
    return replies[-1].messages[0]["text"]


def state(hub: Hub) -> tuple[int, list[tuple[int, int | None, str | None]], int]:
    with hub.transaction() as s:
        members = s.execute(select(Member.id, Member.telegram_user_id, Member.line_user_id).order_by(Member.id)).all()
        uses = s.scalar(select(func.sum(Invite.uses))) or 0
        return len(members), [tuple(m) for m in members], uses


def test_a_telegram_member_links_line_to_the_same_member(hub: Hub, line_fake: FakeLine, world,
                                                         client: TestClient) -> None:
    channel, people = world
    telegram_id = people.reporter.telegram_user_id
    code = personal_code(hub, people.reporter.id)
    members_before = state(hub)[0]

    reply = send_text(client, line_fake, channel, USER, code)
    assert "เชื่อมบัญชี LINE กับคุณสมศรี ใจดี แล้ว" in reply
    with hub.transaction() as s:
        reporter = s.get(Member, people.reporter.id)
        assert (reporter.telegram_user_id, reporter.line_user_id) == (telegram_id, USER)  # both, one member
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "member.link_line", AuditEvent.object_id == str(people.reporter.id))) == 1
    assert state(hub)[0] == members_before

    # Sending it again, or the same person tapping it in Telegram, changes nothing.
    again = state(hub)
    assert "สมศรี ใจดี" in send_text(client, line_fake, channel, USER, code)
    with hub.transaction() as s:
        member, _grant = redeem_invite(s, code, telegram_user_id=telegram_id, name="x", now=hub.clock.now())
        assert member.id == people.reporter.id
    assert state(hub) == again
    # Another Telegram account cannot take the member over with it.
    with hub.transaction() as s, pytest.raises(Conflict):
        redeem_invite(s, code, telegram_user_id=987654321, name="คนอื่น", now=hub.clock.now())
    assert state(hub) == again


def test_a_line_account_of_another_member_is_refused_in_thai(hub: Hub, line_fake: FakeLine, world,
                                                             client: TestClient) -> None:
    channel, people = world
    with hub.transaction() as s:
        s.get(Member, people.moderator.id).line_user_id = USER  # USER is the moderator's LINE account
    code = personal_code(hub, people.reporter.id)
    before = state(hub)

    reply = send_text(client, line_fake, channel, USER, code)
    assert reply.startswith("บัญชี LINE นี้ผูกกับคุณ") and people.moderator.name in reply
    assert state(hub) == before  # no link, no use of the invite

    # The reporter's LINE is linked by their own account; a third account sending the code is refused.
    assert "สมศรี ใจดี" in send_text(client, line_fake, channel, OTHER_USER, code)
    linked = state(hub)
    reply = send_text(client, line_fake, channel, "U" + "d4" * 16, personal_code(hub, people.reporter2.id))
    assert "สมศรี" not in reply  # reporter2's own code links reporter2, not a duplicate of anyone
    with hub.transaction() as s:
        assert s.get(Member, people.reporter2.id).line_user_id == "U" + "d4" * 16
    # A used code of the reporter sent from yet another account: refused, the member keeps their LINE.
    reply = send_text(client, line_fake, channel, "U" + "e5" * 16, code)
    assert "ถูกใช้เชื่อมกับบัญชี LINE อื่นแล้ว" in reply
    with hub.transaction() as s:
        assert s.get(Member, people.reporter.id).line_user_id == OTHER_USER
        assert s.scalar(select(func.count()).select_from(Member)) == linked[0]


def test_a_member_linked_on_both_gets_no_new_invite(hub: Hub, world) -> None:
    _channel, people = world
    with hub.transaction() as s:
        s.get(Member, people.reporter.id).line_user_id = USER
    with hub.transaction() as s, pytest.raises(Conflict) as refused:
        ensure_personal_invite(s, people.reporter.id, now=hub.clock.now(), actor=system_actor())
    assert "Telegram และ LINE แล้ว" in refused.value.message("th")
