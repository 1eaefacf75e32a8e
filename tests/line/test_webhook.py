"""POST /line/webhook: signature on the raw body, de-duplication by webhookEventId, durable
processing; the groups it records are what admins pick LINE outlets from (CLI)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from network_hub.cli import line as line_cli
from network_hub.cli import outlets as outlets_cli
from network_hub.cli.app import main
from network_hub.db.models import AuditEvent, LineGroup, LineWebhookEvent, Outlet
from network_hub.hub import Hub
from network_hub.line.events import process_pending, store_events
from network_hub.web.app import create_app
from platform_fakes.line import Channel, FakeLine
from tests.factories import seed_network


@pytest.fixture
def line_fake() -> Iterator[FakeLine]:
    fake = FakeLine().start_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture
def channel(hub: Hub, line_fake: FakeLine) -> Channel:
    channel = line_fake.add_channel(quota=300)
    hub.settings.line_channel_secret = channel.secret
    hub.settings.line_channel_access_token = channel.token
    hub.settings.line_api_base_url = line_fake.api_base_url
    hub.settings.public_base_url = "https://hub.example.test"
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    return channel


@pytest.fixture
def client(hub: Hub, channel: Channel) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as test_client:
        yield test_client


def post_events(client: TestClient, channel: Channel, events: list[dict], *, signature: str | None = None,
                redelivery: bool = False):
    sent = [dict(e, deliveryContext={"isRedelivery": redelivery}) for e in events]
    body = json.dumps({"destination": channel.bot_user_id, "events": sent}, ensure_ascii=False).encode()
    sig = signature if signature is not None else FakeLine.sign(channel.secret, body)
    return client.post("/line/webhook", content=body, headers={"x-line-signature": sig,
                                                               "content-type": "application/json"})


def counts(hub: Hub) -> tuple[int, int, int]:
    with hub.transaction() as s:
        return (s.scalar(select(func.count()).select_from(LineWebhookEvent)) or 0,
                s.scalar(select(func.count()).select_from(LineGroup)) or 0,
                s.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "line.group_joined")) or 0)


def test_a_join_records_the_group_with_its_name_and_size_once_even_when_repeated(
        hub: Hub, line_fake: FakeLine, channel: Channel, client: TestClient) -> None:
    group = line_fake.add_group(channel, members=87, name="ข่าวหมู่ 3 ปงยางคก")
    join = line_fake.join_event(group)
    assert post_events(client, channel, [join]).status_code == 200
    assert post_events(client, channel, [join], redelivery=True).status_code == 200  # LINE's redelivery
    assert counts(hub) == (1, 1, 1)
    with hub.transaction() as s:
        recorded = s.scalars(select(LineGroup)).one()
        assert (recorded.group_id, recorded.name, recorded.member_count) == (group.id, "ข่าวหมู่ 3 ปงยางคก", 87)
        assert recorded.bot_user_id == channel.bot_user_id
        assert s.get(LineWebhookEvent, join["webhookEventId"]).state == "done"
    # people joining and leaving keep the recorded size (what a push costs) current
    post_events(client, channel, [line_fake.members_event(group, ["U" + "1" * 32, "U" + "2" * 32])])
    post_events(client, channel, [line_fake.members_event(group, ["U" + "1" * 32], joined=False)])
    with hub.transaction() as s:
        assert s.scalars(select(LineGroup)).one().member_count == 88 == group.members
    # a leave marks it; the group drops out of the list admins pick from
    assert post_events(client, channel, [line_fake.leave_event(group)]).status_code == 200
    with hub.transaction() as s:
        assert s.scalars(select(LineGroup)).one().left_at is not None


def test_a_forged_signature_changes_nothing_and_the_body_is_not_logged(
        hub: Hub, line_fake: FakeLine, channel: Channel, client: TestClient,
        caplog: pytest.LogCaptureFixture) -> None:
    group = line_fake.add_group(channel, members=5, name="กลุ่มลับเฉพาะ")
    event = line_fake.join_event(group)
    with caplog.at_level(logging.INFO):
        forged = post_events(client, channel, [event], signature=FakeLine.sign("not-the-secret", b"x"))
        missing = client.post("/line/webhook", content=b'{"destination":"x","events":[]}',
                              headers={"content-type": "application/json"})
    assert forged.status_code == 401 and missing.status_code == 401
    assert counts(hub) == (0, 0, 0)
    assert "refused a LINE webhook" in caplog.text and "กลุ่มลับเฉพาะ" not in caplog.text
    assert group.id not in caplog.text


def test_no_csrf_or_session_needed_but_line_off_without_a_secret(hub: Hub, channel: Channel,
                                                                   client: TestClient) -> None:
    assert post_events(client, channel, []).status_code == 200  # LINE's "verify" call: no events
    hub.settings.line_channel_secret = ""
    assert post_events(client, channel, []).status_code == 404


async def test_stored_events_survive_a_crash_before_processing(hub: Hub, line_fake: FakeLine,
                                                               channel: Channel) -> None:
    group = line_fake.add_group(channel, members=12)
    stored = store_events(hub, channel.bot_user_id, [line_fake.join_event(group)])
    assert stored.new == 1
    # ... the process dies here; a later pass (next webhook or `network-hub line process`) applies it
    assert await process_pending(hub) == 1
    assert await process_pending(hub) == 0
    assert counts(hub)[1:] == (1, 1)


@pytest.fixture
def cli(hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple]:
    monkeypatch.setattr(line_cli, "get_hub", lambda: hub)
    monkeypatch.setattr(outlets_cli, "get_hub", lambda: hub)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_admin_picks_a_recorded_group_for_an_outlet(hub: Hub, line_fake: FakeLine, channel: Channel,
                                                    client: TestClient, cli, tmp_path: Path) -> None:
    group = line_fake.add_group(channel, members=150, name="ข่าวตำบลปงยางคก")
    post_events(client, channel, [line_fake.join_event(group)])
    code, out, err = cli("line", "groups", "--json")
    assert code == 0, err
    [listed] = json.loads(out)
    assert listed["group_id"] == group.id and listed["member_count"] == 150
    code, out, err = cli("outlet", "add", "--platform", "line", "--group", group.id, "--area", "520101", "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["platform"] == "line" and added["address"] == group.id and "ข่าวตำบลปงยางคก" in added["name"]
    code, out, err = cli("outlet", "list", "--platform", "line", "--json")
    assert code == 0 and json.loads(out)[0]["month_use"] == "0 โพสต์ ≈ 0 ข้อความ"
    # a group the bot is not in: a clear error, nothing written
    code, out, err = cli("outlet", "add", "--platform", "line", "--group", "C" + "0" * 32, "--area", "520101")
    assert code != 0 and "network-hub line groups" in err
    code, out, err = cli("outlet", "add", "--platform", "line", "--group", "12345", "--area", "520101")
    assert code != 0
    with hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Outlet)) == 1


def test_another_oa_records_its_groups_and_its_outlets_post_with_its_token(
        hub: Hub, line_fake: FakeLine, channel: Channel, client: TestClient, cli,
        monkeypatch: pytest.MonkeyPatch) -> None:
    other = line_fake.add_channel(quota=None, name="ข่าวตำบลบ้านเสด็จ")
    monkeypatch.setenv("LINE_TOKEN_BANSADET", other.token)
    monkeypatch.setenv("LINE_SECRET_BANSADET", other.secret)
    code, out, err = cli("line", "account-add", "bansadet", "--token-env", "LINE_TOKEN_BANSADET",
                         "--secret-env", "LINE_SECRET_BANSADET", "--json")
    assert code == 0, err
    group = line_fake.add_group(other, members=44, name="กลุ่มบ้านเสด็จ")
    assert post_events(client, other, [line_fake.join_event(group)]).status_code == 200
    with hub.transaction() as s:
        recorded = s.scalars(select(LineGroup)).one()
        # enriched with the other OA's token (the hub's own is not in that group)
        assert (recorded.bot_user_id, recorded.name, recorded.member_count) == (other.bot_user_id, "กลุ่มบ้านเสด็จ", 44)
    code, out, err = cli("outlet", "add", "--platform", "line", "--group", group.id, "--area", "520101", "--json")
    assert code == 0, err
    assert json.loads(out)["token_source"] == "env:LINE_TOKEN_BANSADET"
    code, out, err = cli("line", "accounts", "--json")
    assert json.loads(out)[0]["bot_user_id"] == other.bot_user_id
    # a body signed with neither secret is still refused
    assert post_events(client, other, [line_fake.join_event(group)],
                       signature=FakeLine.sign("guess", b"x")).status_code == 401


async def test_an_event_that_fails_stays_pending_then_is_marked_failed(hub: Hub, line_fake: FakeLine, channel: Channel,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from network_hub.line import chat, events

    def broken(*_args: object, **_kwargs: object) -> list:
        raise RuntimeError("handler bug")

    monkeypatch.setattr(chat, "handle", broken)
    store_events(hub, channel.bot_user_id, [line_fake.text_event("U" + "d4" * 16, "สวัสดี")])
    for attempt in range(1, events.MAX_ATTEMPTS + 1):
        assert await process_pending(hub) == 0
        with hub.transaction() as s:
            row = s.scalars(select(LineWebhookEvent)).one()
            assert row.attempts == attempt and "handler bug" in (row.last_error or "")
            assert row.state == ("failed" if attempt == events.MAX_ATTEMPTS else "pending")


def test_line_budget_cli(hub: Hub, line_fake: FakeLine, channel: Channel, client: TestClient, cli) -> None:
    group = line_fake.add_group(channel, members=10)
    post_events(client, channel, [line_fake.join_event(group)])
    code, out, err = cli("outlet", "add", "--platform", "line", "--group", group.id, "--area", "520101", "--json")
    outlet_id = json.loads(out)["id"]
    code, out, err = cli("line", "budget", str(outlet_id), "240", "--json")
    assert code == 0, err
    assert json.loads(out)["line_monthly_budget"] == 240
    assert cli("line", "budget", str(outlet_id), "lots")[0] != 0
    code, out, err = cli("line", "budget", str(outlet_id), "none", "--json")
    assert code == 0 and json.loads(out)["line_monthly_budget"] is None
    with hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "outlet.line_budget")) == 2
