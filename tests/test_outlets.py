"""Outlets: the domain service (both databases) and ``network-hub outlet …`` with a real check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from network_hub import outlets
from network_hub.cli import outlets as outlets_cli
from network_hub.cli.app import main
from network_hub.db.models import AuditEvent, Outlet
from network_hub.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from network_hub.hub import Hub
from network_hub.permissions import load_actor, system_actor
from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeTelegram
from publishers.base import CheckResult
from tests.factories import People, seed_network

CliRun = Callable[..., tuple[int, str, str]]


@pytest.fixture
def people(hub: Hub) -> People:
    with hub.transaction() as session:
        return seed_network(session, hub.clock.now())


def add(hub: Hub, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"platform": "telegram", "area_code": "520101", "address": "-1001234567890"}
    values.update(fields)
    with hub.transaction() as session:
        actor = values.pop("actor", None) or system_actor()
        return outlets.outlet_to_dict(outlets.add_outlet(session, now=hub.clock.now(), actor=actor, **values))


def count_outlets(hub: Hub) -> int:
    with hub.transaction() as session:
        return session.scalar(select(func.count()).select_from(Outlet)) or 0


def test_add_each_platform_with_pacing_and_audit(hub: Hub, people: People) -> None:
    telegram = add(hub, categories=["event", "announcement"], thai_digits=True)
    facebook = add(hub, platform="facebook", address="1000001", token_env="FB_PAGE_TOKEN", area_code="5201")
    sandbox = add(hub, platform="sandbox", address=None, area_code="52010101")
    assert (telegram["min_interval_s"], facebook["min_interval_s"], sandbox["min_interval_s"]) == (3.0, 30.0, 0.0)
    assert telegram["categories"] == ["announcement", "event"] and telegram["thai_digits"]
    assert facebook["token_source"] == "env:FB_PAGE_TOKEN" and telegram["token_source"] is None
    assert sandbox["address"] == "sandbox-52010101" and sandbox["name"].startswith("Sandbox ")
    with hub.transaction() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "outlet.added")) == 3


@pytest.mark.parametrize("fields, error", [
    ({"platform": "line"}, InvalidInput),
    ({"address": "my channel"}, InvalidInput),
    ({"platform": "facebook", "address": "1000001"}, InvalidInput),  # no token source
    ({"platform": "facebook", "address": "1000001", "token_env": "A", "token_file": "/x"}, InvalidInput),
    ({"platform": "facebook", "address": "1000001", "token_env": "BAD NAME"}, InvalidInput),
    ({"platform": "facebook", "address": "my-page", "token_env": "A"}, InvalidInput),
    ({"token_env": "TG"}, InvalidInput),  # Telegram uses the hub's bot token
    ({"platform": "sandbox", "address": "../etc"}, InvalidInput),
    ({"categories": ["gossip"]}, InvalidInput),
    ({"area_code": "99999999"}, NotFound),
])
def test_bad_input_changes_nothing(hub: Hub, people: People, fields: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        add(hub, **fields)
    assert count_outlets(hub) == 0


def test_duplicate_address_is_refused(hub: Hub, people: People) -> None:
    add(hub)
    with pytest.raises(Conflict):
        add(hub, area_code="52")
    assert count_outlets(hub) == 1


def test_only_admins_manage_outlets(hub: Hub, people: People) -> None:
    with hub.transaction() as session:
        moderator = load_actor(session, people.moderator.id)
    with pytest.raises(PermissionDenied):
        add(hub, actor=moderator)
    with hub.transaction() as session:
        admin = load_actor(session, people.admin.id)
    assert add(hub, actor=admin)["id"]


def test_pause_resume_list_and_record_check(hub: Hub, people: People) -> None:
    first = add(hub)
    second = add(hub, platform="sandbox", address="practice", area_code="50")
    now = hub.clock.now()
    with hub.transaction() as session:
        outlets.pause_outlet(session, first["id"], reason="rebuilding the channel", now=now, actor=system_actor())
    with hub.transaction() as session, pytest.raises(Conflict):
        outlets.pause_outlet(session, first["id"], now=now, actor=system_actor())
    with hub.transaction() as session:
        assert [o.id for o in outlets.list_outlets(session, status="paused")] == [first["id"]]
        assert [o.id for o in outlets.list_outlets(session, area_code="52")] == [first["id"]]
        assert [o.id for o in outlets.list_outlets(session, platform="sandbox")] == [second["id"]]
        outlets.resume_outlet(session, first["id"], now=now, actor=system_actor())
        outlets.record_check(session, first["id"], CheckResult(False, "not_admin", "make the bot an admin"), now)
    with hub.transaction() as session, pytest.raises(Conflict):
        outlets.resume_outlet(session, first["id"], now=now, actor=system_actor())
    with hub.transaction() as session:
        row = outlets.outlet_to_dict(outlets.get_outlet(session, first["id"]))
    assert row["status"] == "active" and row["paused_reason"] is None
    assert (row["last_check_ok"], row["last_check_verdict"]) == (False, "not_admin")


# -- the CLI, with `outlet check` against the loopback fakes --------------------------------------------------------


@pytest.fixture
def cli(hub: Hub, people: People, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CliRun:
    monkeypatch.setattr(outlets_cli, "get_hub", lambda: hub)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def fakes(hub: Hub) -> Iterator[tuple[FakeTelegram, FakeFacebook]]:
    with FakeTelegram() as telegram, FakeFacebook() as facebook:  # background threads: the CLI runs its own loop
        hub.settings.telegram_bot_token = telegram.token
        hub.settings.telegram_api_base_url = telegram.base_url
        hub.settings.telegram_file_base_url = telegram.file_base_url
        hub.settings.facebook_graph_url = facebook.graph_url
        hub.settings.facebook_app_id, hub.settings.facebook_app_secret = facebook.app_id, facebook.app_secret
        yield telegram, facebook


def test_cli_add_list_pause_resume(cli: CliRun) -> None:
    code, out, err = cli("outlet", "add", "--platform", "telegram", "--chat", "@pongyangkok_news", "--area", "520101",
                         "--name", "ข่าวตำบลปงยางคก", "--categories", "event,announcement", "--json")
    assert code == 0, err
    created = json.loads(out)
    assert created["address"] == "@pongyangkok_news" and created["name"] == "ข่าวตำบลปงยางคก"
    code, out, _ = cli("outlet", "list", "--json")
    assert [o["id"] for o in json.loads(out)] == [created["id"]]
    assert cli("outlet", "pause", str(created["id"]), "--reason", "test")[0] == 0
    code, _, err = cli("outlet", "pause", str(created["id"]))
    assert code != 0 and "already paused" in err
    assert cli("outlet", "resume", str(created["id"]))[0] == 0
    code, out, _ = cli("outlet", "list")
    assert "ข่าวตำบลปงยางคก" in out and "active" in out


def test_cli_refuses_flags_of_another_platform(cli: CliRun, hub: Hub) -> None:
    code, _, err = cli("outlet", "add", "--platform", "telegram", "--page-id", "1000001", "--area", "520101")
    assert code != 0 and "--page-id" in err and "--chat" in err
    assert count_outlets(hub) == 0


def test_cli_check_telegram_ok_then_not_admin(cli: CliRun, fakes: tuple[FakeTelegram, FakeFacebook]) -> None:
    telegram, _ = fakes
    telegram.add_channel(-1001234567890)
    code, out, err = cli("outlet", "add", "--platform", "telegram", "--chat", "-1001234567890", "--area", "520101",
                         "--json")
    outlet_id = json.loads(out)["id"]
    code, out, err = cli("outlet", "check", str(outlet_id), "--json")
    assert code == 0, err
    assert json.loads(out) == {"id": outlet_id, "ok": True, "verdict": "ok", "detail": json.loads(out)["detail"]}
    telegram.set_bot_rights(-1001234567890, status="member")
    code, out, _ = cli("outlet", "check", str(outlet_id))
    assert code == 1 and "not_admin" in out
    code, out, _ = cli("outlet", "list", "--json")
    assert json.loads(out)[0]["last_check_verdict"] == "not_admin"


def test_cli_check_facebook_token_from_file_and_missing(cli: CliRun, fakes: tuple[FakeTelegram, FakeFacebook],
                                                        tmp_path: Path) -> None:
    _, facebook = fakes
    page = facebook.add_page("1000001")
    token_file = tmp_path / "page.token"
    code, out, err = cli("outlet", "add", "--platform", "facebook", "--page-id", "1000001", "--area", "5201",
                         "--token-file", str(token_file), "--json")
    assert code == 0, err
    outlet_id = json.loads(out)["id"]
    assert page.token not in out
    code, out, _ = cli("outlet", "check", str(outlet_id), "--json")
    assert code == 1 and json.loads(out)["verdict"] == "token_missing"
    token_file.write_text(page.token)  # a new token needs no restart: read at each use
    code, out, _ = cli("outlet", "check", str(outlet_id), "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    facebook.set_token_state(page.token, "expired")
    code, out, _ = cli("outlet", "check", str(outlet_id), "--json")
    assert code == 1 and json.loads(out)["verdict"] == "token_invalid"


def test_cli_check_sandbox(cli: CliRun, hub: Hub, tmp_path: Path) -> None:
    hub.settings.data_dir = tmp_path
    code, out, _ = cli("outlet", "add", "--platform", "sandbox", "--area", "52010101", "--json")
    code, out, _ = cli("outlet", "check", str(json.loads(out)["id"]), "--json")
    assert code == 0 and json.loads(out)["verdict"] == "ok"
    assert (tmp_path / "sandbox" / "sandbox-52010101").is_dir()
