"""The Graph fake's Facebook Login (the manual flow's documented shapes), the hub's Graph client for
it, the debug_token verdicts, and stored Page tokens reaching the publishers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from config.settings import Settings
from network_hub.facebook_pages import (
    GraphCallError,
    GraphLogin,
    SettingsPageTokens,
    classify_debug,
    login_error_th,
)
from platform_fakes.facebook import LONG_LIVED_S, SHORT_LIVED_S, FakeFacebook
from publishers.base import ErrorClass
from publishers.registry import Publishers, TokenMissing, active_token_source, target_for

REDIRECT = "http://127.0.0.1:8080/outlets/facebook/callback"
SCOPES = "pages_show_list,pages_manage_posts,pages_read_engagement"
NOW = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fb:
        fb.add_page("1000001", name="ข่าวตำบลเวียงเหนือ")
        fb.add_page("1000002", name="ข่าวตำบลพระบาท")
        fb.add_user("7001", "สมศรี", pages=["1000001", "1000002"])
        fb.login_as("7001")
        yield fb


@pytest.fixture
def settings(fake: FakeFacebook, tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", facebook_app_id=fake.app_id,  # type: ignore[call-arg]
                    facebook_app_secret=fake.app_secret, facebook_graph_url=fake.graph_url,
                    facebook_dialog_url=fake.dialog_url)


def _code(fake: FakeFacebook, *, pages: list[str] | None = None, scopes: str = SCOPES, state: str = "s1",
          decision: str = "allow") -> dict[str, list[str]]:
    dialog = httpx.get(f"{fake.dialog_url}/v25.0/dialog/oauth",
                       params={"client_id": fake.app_id, "redirect_uri": REDIRECT, "state": state, "scope": scopes})
    assert dialog.status_code == 200 and "grant_page" in dialog.text and "สมศรี" in dialog.text
    form: dict[str, Any] = {"client_id": fake.app_id, "redirect_uri": REDIRECT, "state": state, "scope": scopes,
                            "decision": decision, "grant_page": pages if pages is not None else ["1000001", "1000002"],
                            "grant_scope": scopes.split(",")}
    back = httpx.post(f"{fake.dialog_url}/v25.0/dialog/oauth/decide", data=form)
    assert back.status_code == 302 and back.headers["location"].startswith(REDIRECT + "?")
    return parse_qs(urlsplit(back.headers["location"]).query)


def _exchange(fake: FakeFacebook, code: str, redirect: str = REDIRECT, secret: str | None = None) -> httpx.Response:
    return httpx.get(f"{fake.graph_url}/v25.0/oauth/access_token",
                     params={"client_id": fake.app_id, "redirect_uri": redirect,
                             "client_secret": secret or fake.app_secret, "code": code})


def test_allow_gives_a_single_use_code_bound_to_the_redirect_uri(fake: FakeFacebook) -> None:
    query = _code(fake)
    assert query["state"] == ["s1"] and query["code"][0]
    code = query["code"][0]
    wrong_redirect = _exchange(fake, code, redirect="http://127.0.0.1:9/elsewhere").json()["error"]
    assert (wrong_redirect["code"], wrong_redirect["error_subcode"]) == (100, 36008)
    wrong_secret = _exchange(fake, code, secret="not-the-secret").json()["error"]
    assert wrong_secret["message"] == "Error validating client secret."
    short = _exchange(fake, code).json()
    assert short["token_type"] == "bearer" and short["expires_in"] == SHORT_LIVED_S
    used = _exchange(fake, code).json()["error"]
    assert (used["code"], used["error_subcode"]) == (100, 36009)
    long = httpx.get(f"{fake.graph_url}/v25.0/oauth/access_token", params={
        "grant_type": "fb_exchange_token", "client_id": fake.app_id, "client_secret": fake.app_secret,
        "fb_exchange_token": short["access_token"]}).json()
    assert long["expires_in"] == LONG_LIVED_S and long["access_token"] != short["access_token"]


def test_deny_redirects_with_the_documented_error_parameters(fake: FakeFacebook) -> None:
    query = _code(fake, decision="deny")
    assert query == {"error_reason": ["user_denied"], "error": ["access_denied"],
                     "error_description": ["Permissions error."], "state": ["s1"]}


def test_dialog_refuses_an_unknown_app_or_unlisted_redirect(fake: FakeFacebook) -> None:
    assert httpx.get(f"{fake.dialog_url}/v25.0/dialog/oauth",
                     params={"client_id": "1", "redirect_uri": REDIRECT}).status_code == 400
    fake.allowed_redirect_uris = {REDIRECT}
    assert httpx.get(f"{fake.dialog_url}/v25.0/dialog/oauth", params={
        "client_id": fake.app_id, "redirect_uri": "http://127.0.0.1:1/x"}).status_code == 400
    fake.login_as(None)
    assert httpx.get(f"{fake.dialog_url}/v25.0/dialog/oauth", params={
        "client_id": fake.app_id, "redirect_uri": REDIRECT}).status_code == 401


def test_hub_client_lists_granted_pages_with_non_expiring_page_tokens(fake: FakeFacebook, settings: Settings) -> None:
    graph = GraphLogin(settings)
    assert graph.dialog_url("st").startswith(f"{fake.dialog_url}/v25.0/dialog/oauth?client_id={fake.app_id}")
    code = _code(fake, pages=["1000002"])["code"][0]
    settings.public_base_url = "http://127.0.0.1:8080"
    short = graph.exchange_code(code)
    assert fake.tokens[short].expires_at > 0 and graph.accounts(short)[0].id == "1000002"
    long = graph.long_lived(short)
    assert graph.me(long) == {"id": "7001", "name": "สมศรี"}
    pages = graph.accounts(long)
    assert [(p.id, p.name) for p in pages] == [("1000002", "ข่าวตำบลพระบาท")]  # only the granted one
    assert "CREATE_CONTENT" in pages[0].tasks and pages[0].token not in repr(pages[0])
    info = graph.debug_token(pages[0].token)
    assert info["type"] == "PAGE" and info["expires_at"] == 0 and info["profile_id"] == "1000002"
    assert classify_debug(info, "1000002", NOW).verdict == "ok"
    user_info = graph.debug_token(long)
    assert user_info["type"] == "USER" and user_info["user_id"] == "7001" and user_info["expires_at"] > 0
    with pytest.raises(GraphCallError) as refused:
        graph.exchange_code(code)
    assert refused.value.subcode == 36009 and "ใช้ไปแล้ว" in login_error_th(refused.value).message("th")


def test_control_endpoints_invalidate_tokens_as_facebook_would(fake: FakeFacebook, settings: Settings) -> None:
    graph = GraphLogin(settings)
    token = graph.long_lived(graph.exchange_code(_code(fake)["code"][0]))
    page_token = graph.accounts(token)[0].token
    assert httpx.post(f"{fake.origin}/_fake/users/7001/password_changed").json() == {"ok": True}
    info = graph.debug_token(page_token)
    assert info["is_valid"] is False and info["error"]["subcode"] == 460
    posted = httpx.post(f"{fake.graph_url}/v25.0/1000001/feed", data={"message": "ข่าว"},
                        headers={"Authorization": f"OAuth {page_token}"}).json()["error"]
    assert (posted["code"], posted["error_subcode"]) == (190, 460)
    assert httpx.post(f"{fake.origin}/_fake/tokens/exploded", json={"token": page_token}).status_code == 400
    assert httpx.post(f"{fake.origin}/_fake/users/nobody/app_removed").status_code == 404


@pytest.mark.parametrize(("data", "verdict", "ok"), [
    ({"is_valid": False, "error": {"code": 190, "subcode": 463}}, "token_expired", False),
    ({"is_valid": False, "error": {"code": 190, "subcode": 460}}, "password_changed", False),
    ({"is_valid": False, "error": {"code": 190, "subcode": 458}}, "app_removed", False),
    ({"is_valid": False, "error": {"code": 190, "subcode": 492}}, "role_removed", False),
    ({"is_valid": False, "error": {"code": 190, "subcode": 467}}, "token_invalid", False),
    ({"is_valid": True, "type": "USER", "scopes": []}, "not_page_token", False),
    ({"is_valid": True, "type": "PAGE", "profile_id": "9", "scopes": []}, "wrong_page", False),
    ({"is_valid": True, "type": "PAGE", "profile_id": "1000001", "scopes": ["pages_show_list"]},
     "missing_permission", False),
    ({"is_valid": True, "type": "PAGE", "profile_id": "1000001",
      "scopes": ["pages_manage_posts", "pages_read_engagement"],
      "granular_scopes": [{"scope": "pages_manage_posts", "target_ids": ["1000002"]}]}, "role_removed", False),
    ({"is_valid": True, "type": "PAGE", "profile_id": "1000001",
      "scopes": ["pages_manage_posts", "pages_read_engagement"],
      "expires_at": int((NOW + timedelta(days=3)).timestamp())}, "token_expiring", True),
    ({"is_valid": True, "type": "PAGE", "profile_id": "1000001",
      "scopes": ["pages_manage_posts", "pages_read_engagement"], "expires_at": 0}, "ok", True),
])
def test_debug_token_answers_become_verdicts(data: dict[str, Any], verdict: str, ok: bool) -> None:
    result = classify_debug(data, "1000001", NOW)
    assert (result.verdict, result.ok) == (verdict, ok)


def test_publishers_read_stored_tokens_only_while_they_live(tmp_path: Path) -> None:
    class Stored:
        def page_token(self, outlet_id: int) -> str | None:
            return "EAAStoredToken" if outlet_id == 9 else None

    @dataclass
    class Row:
        id: int = 9
        platform: str = "facebook"
        address: str = "1000001"
        name: str = "เพจ"
        token_env: str | None = None
        token_file: str | None = None
        thai_digits: bool = False

    publishers = Publishers(Settings(_env_file=None, data_dir=tmp_path), stored_tokens=Stored())  # type: ignore[call-arg]
    assert target_for(Row()).token == "EAAStoredToken"
    with pytest.raises(TokenMissing) as missing:
        target_for(Row(id=10))
    assert missing.value.error_class is ErrorClass.NEEDS_HUMAN and "/outlets/facebook" in missing.value.message
    asyncio.run(publishers.aclose())
    assert not isinstance(active_token_source(), Stored)
    with pytest.raises(TokenMissing):
        target_for(Row())


def test_a_publishers_default_source_reads_nothing_without_a_database(tmp_path: Path) -> None:
    source = SettingsPageTokens(Settings(_env_file=None, data_dir=tmp_path / "none"))  # type: ignore[call-arg]
    assert source.page_token(1) is None
