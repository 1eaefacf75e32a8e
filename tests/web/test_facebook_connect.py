"""Connecting a Facebook Page by signing in with Facebook, against the loopback Graph fake's Login
dialog: the happy path (the Page token stored encrypted, checked healthy, used to post), a denied
sign-in, forged/replayed/foreign states, no Pages, a permission left out, token problems warned
about with a reconnect button that works, tokens never in a page or a log line, bad input refused
in Thai with nothing changed, and the page without an app id and secret."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jobs.dispatch import Dispatcher
from network_hub.db.models import FacebookLogin, FacebookPage, Outlet
from network_hub.facebook_pages import SCOPES, StoredPageTokens
from network_hub.newsroom.moderation import approve_item
from network_hub.permissions import load_actor
from network_hub.vault import Vault
from network_hub.web.app import create_app
from platform_fakes.facebook import FakeFacebook
from publishers.registry import Publishers
from tests.web.conftest import CSRF_RE, WebWorld, csrf_of, sign_in

PAGE_A, PAGE_B = "1000001", "1000002"


@dataclass
class FbWorld:
    world: WebWorld
    fake: FakeFacebook
    client: TestClient
    pages_seen: list[str] = field(default_factory=list)  # every HTML answer of the flows, to scan for tokens

    @property
    def settings(self) -> Any:
        return self.world.hub.settings

    def get(self, path: str) -> httpx.Response:
        response = self.client.get(path)
        self.pages_seen.append(response.text)
        return response

    def post(self, path: str, data: Any) -> httpx.Response:
        response = self.client.post(path, data=data)
        self.pages_seen.append(response.text)
        return response

    def through_facebook(self, start: str = "/outlets/facebook/start", *, decision: str = "allow",
                         pages: list[str] | None = None, scopes: tuple[str, ...] = SCOPES) -> httpx.Response:
        """Start, answer Facebook's dialog as the signed-in Facebook user, and follow the callback."""
        started = self.get(start)
        assert started.status_code == 303, started.text
        dialog = started.headers["location"]
        assert dialog.startswith(f"{self.fake.dialog_url}/v25.0/dialog/oauth?")
        query = {k: v[0] for k, v in parse_qs(urlsplit(dialog).query).items()}
        assert query["scope"] == "pages_show_list,pages_manage_posts,pages_read_engagement"
        assert query["client_id"] == self.fake.app_id and query["redirect_uri"].endswith("/outlets/facebook/callback")
        shown = httpx.get(dialog)
        assert shown.status_code == 200 and "ดำเนินการต่อ" in shown.text
        form: dict[str, Any] = {k: query[k] for k in ("client_id", "redirect_uri", "state", "scope", "response_type")}
        form |= {"decision": decision, "grant_page": pages if pages is not None else [PAGE_A, PAGE_B],
                 "grant_scope": list(scopes)}
        back = httpx.post(f"{self.fake.dialog_url}/v25.0/dialog/oauth/decide", data=form)
        assert back.status_code == 302
        location = back.headers["location"]
        assert location.startswith(self.settings.public_base_url + "/outlets/facebook/callback?")
        return self.get(location.removeprefix(self.settings.public_base_url))

    def pick(self, login_id: str, page: str, area: str) -> httpx.Response:
        token = csrf_of(self.client, f"/outlets/facebook/pages?login={login_id}")
        return self.post("/outlets/facebook/pages", {"csrf_token": token, "login": login_id, "page": page,
                                                     "area_hit": area})

    def connect(self, page: str = PAGE_A, area: str = "520101") -> int:
        back = self.through_facebook()
        assert back.status_code == 303, back.text
        login_id = parse_qs(urlsplit(back.headers["location"]).query)["login"][0]
        saved = self.pick(login_id, page, area)
        assert saved.status_code == 303, saved.text
        with self.world.hub.transaction() as s:
            return s.scalar(select(Outlet.id).where(Outlet.address == page))

    def outlets(self) -> list[Outlet]:
        with self.world.hub.transaction() as s:
            return list(s.scalars(select(Outlet).order_by(Outlet.id)))

    def snapshot(self) -> list[tuple[Any, ...]]:
        """What "nothing changed" compares: every outlet's identity, place, credentials and state."""
        return [(o.id, o.platform, o.address, o.area_code, o.token_env, o.token_file, o.status, o.updated_at)
                for o in self.outlets()]

    def logins(self, *, reconnects_only: bool = False) -> int:
        query = select(func.count()).select_from(FacebookLogin)
        if reconnects_only:
            query = query.where(FacebookLogin.outlet_id.is_not(None))
        with self.world.hub.transaction() as s:
            return s.scalar(query) or 0


@pytest.fixture
def fbw(world: WebWorld) -> Iterator[FbWorld]:
    with FakeFacebook() as fake:
        settings = world.hub.settings
        settings.facebook_app_id, settings.facebook_app_secret = fake.app_id, fake.app_secret
        settings.facebook_graph_url, settings.facebook_dialog_url = fake.graph_url, fake.dialog_url
        fake.add_page(PAGE_A, name="ข่าวตำบลเวียงเหนือ")
        fake.add_page(PAGE_B, name="ข่าวตำบลพระบาท")
        fake.add_user("7001", "สมศรี ดูแลเพจ", pages=[PAGE_A, PAGE_B])
        fake.login_as("7001")
        with TestClient(create_app(world.hub), follow_redirects=False) as client:
            sign_in(client, world.people.admin.phone)
            yield FbWorld(world, fake, client)


def _secrets_of(fbw: FbWorld) -> list[str]:
    return [*fbw.fake.tokens, *fbw.fake.codes, fbw.fake.app_secret]


def test_admin_connects_a_page_it_is_stored_encrypted_checked_and_posted_to(fbw: FbWorld, backend: str,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # network_hub.logs.configure (run by other tests in this worker) quiets httpx to WARNING.
    caplog.set_level(logging.DEBUG, logger="httpx")
    back = fbw.through_facebook()
    assert back.status_code == 303 and back.headers["location"].startswith("/outlets/facebook/pages?login=")
    login_id = parse_qs(urlsplit(back.headers["location"]).query)["login"][0]
    listing = fbw.get(back.headers["location"])
    assert listing.status_code == 200
    assert "ข่าวตำบลเวียงเหนือ" in listing.text and "ข่าวตำบลพระบาท" in listing.text and "สมศรี ดูแลเพจ" in listing.text
    saved = fbw.pick(login_id, PAGE_A, "520101")
    assert saved.status_code == 303, saved.text
    outlet = next(o for o in fbw.outlets() if o.address == PAGE_A)
    assert (outlet.platform, outlet.area_code, outlet.name) == ("facebook", "520101", "ข่าวตำบลเวียงเหนือ")
    assert outlet.token_env is None and outlet.token_file is None
    assert outlet.last_check_ok is True and outlet.last_check_verdict == "ok"
    with fbw.world.hub.transaction() as s:
        row = s.scalar(select(FacebookPage).where(FacebookPage.outlet_id == outlet.id))
        assert row is not None and row.fb_user_id == "7001" and set(SCOPES) <= set(row.scopes)
    stored = Vault.from_settings(fbw.settings).decrypt(row.token_sealed)
    assert stored != row.token_sealed and fbw.fake.tokens[stored].page_id == PAGE_A
    assert fbw.fake.tokens[stored].expires_at == 0  # from a long-lived user token: never expires
    page = fbw.get("/outlets")
    assert "ข่าวตำบลเวียงเหนือ" in page.text and "ใช้งานได้" in page.text and "facebook-warning" not in page.text
    done = fbw.post("/outlets/facebook/pages/done", {"csrf_token": csrf_of(fbw.client, "/outlets"),
                                                     "login": login_id})
    assert done.status_code == 303 and fbw.logins() == 0  # the user token is gone with the sign-in

    # The dispatcher posts with the stored token.
    item_id = fbw.world.submit("ชาวบ้านเวียงเหนือร่วมกันทำความสะอาดลำเหมืองก่อนฤดูทำนา")
    with fbw.world.hub.transaction() as s:
        approve_item(s, item_id, actor=load_actor(s, fbw.world.people.moderator.id), confirm_pdpa=True,
                     now=fbw.world.hub.clock.now(), via="web")

    async def one_pass() -> None:
        # SQLite: what `network-hub run` does, the source made from the settings (the database URL);
        # PostgreSQL tests run in a schema of their own, so the hub's sessions are given.
        stored = None if backend == "sqlite" else StoredPageTokens(fbw.world.hub.sessions, fbw.settings)
        publishers = Publishers(fbw.settings, stored_tokens=stored)
        try:
            await Dispatcher(fbw.world.hub, publishers).run_once()
        finally:
            await publishers.aclose()

    asyncio.run(one_pass())
    posts = fbw.fake.posts(PAGE_A)
    assert len(posts) == 1 and "ลำเหมือง" in posts[0].message
    feed = [r for r in fbw.fake.requests("feed")]
    assert feed and feed[-1].token_location == "header"

    secrets = _secrets_of(fbw)
    leaked = [s for s in secrets for text in fbw.pages_seen if s in text]
    assert not leaked, "a token or the app secret was shown in a page"
    # The hub's own log lines (the test's own requests to the app and to the dialog are not the hub's).
    harness = ("http://testserver", "/dialog/oauth", "/outlets/facebook/callback?")  # the browser's own hops
    logged = "\n".join(r.getMessage() for r in caplog.records if not any(h in r.getMessage() for h in harness))
    assert "oauth/access_token" in logged  # the hub's Graph calls were logged, redacted
    assert not [s for s in secrets if s in logged], "a token or the app secret was written to a log line"


def test_a_denied_sign_in_changes_nothing_and_its_state_cannot_be_reused(fbw: FbWorld) -> None:
    before = fbw.snapshot()
    denied = fbw.through_facebook(decision="deny")
    assert denied.status_code == 400 and "ยกเลิกหรือไม่ได้อนุญาต" in denied.text
    assert fbw.snapshot() == before and fbw.logins() == 0
    # The same callback again (e.g. the back button): the state was used once already.
    replay = fbw.get(urlsplit(str(denied.url)).path + "?" + urlsplit(str(denied.url)).query)
    assert replay.status_code == 400 and "ถูกใช้ไปแล้ว" in replay.text


def test_forged_replayed_and_foreign_states_are_refused(fbw: FbWorld, world: WebWorld) -> None:
    forged = fbw.get("/outlets/facebook/callback?code=AQxyz&state=forged")
    assert forged.status_code == 400 and "ไม่ถูกต้อง" in forged.text
    missing = fbw.get("/outlets/facebook/callback?code=AQxyz")
    assert missing.status_code == 400
    # A sign-in whose callback is replayed after it succeeded:
    started = fbw.get("/outlets/facebook/start")
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
    form: dict[str, Any] = {k: query[k] for k in ("client_id", "redirect_uri", "state", "scope")}
    form |= {"decision": "allow", "grant_page": [PAGE_A], "grant_scope": list(SCOPES)}
    location = httpx.post(f"{fbw.fake.dialog_url}/v25.0/dialog/oauth/decide", data=form).headers["location"]
    callback_url = location.removeprefix(fbw.settings.public_base_url)
    # Another browser session of the same admin cannot use this state.
    with TestClient(create_app(world.hub), follow_redirects=False) as other:
        sign_in(other, world.people.admin.phone)
        foreign = other.get(callback_url)
        assert foreign.status_code == 400 and "ไม่ถูกต้อง" in foreign.text
    first = fbw.get(callback_url)
    assert first.status_code == 303
    again = fbw.get(callback_url)
    assert again.status_code == 400 and "ถูกใช้ไปแล้ว" in again.text
    assert [o for o in fbw.outlets() if o.platform == "facebook"] == []  # nothing connected by any of it


def test_no_pages_granted_says_what_to_do(fbw: FbWorld) -> None:
    back = fbw.through_facebook(pages=[])
    listing = fbw.get(back.headers["location"])
    assert listing.status_code == 200 and "ไม่พบเพจที่ท่านดูแล" in listing.text
    assert 'name="page"' not in listing.text


def test_a_permission_left_out_is_named_in_thai(fbw: FbWorld) -> None:
    refused = fbw.through_facebook(scopes=("pages_show_list", "pages_read_engagement"))
    assert refused.status_code == 400 and "pages_manage_posts" in refused.text and "ไม่ได้อนุญาตสิทธิ์" in refused.text
    assert fbw.logins() == 0 and not [o for o in fbw.outlets() if o.platform == "facebook"]


def test_bad_picks_are_refused_in_thai_and_change_nothing(fbw: FbWorld) -> None:
    back = fbw.through_facebook()
    login_id = parse_qs(urlsplit(back.headers["location"]).query)["login"][0]
    token = csrf_of(fbw.client, f"/outlets/facebook/pages?login={login_id}")
    before = fbw.snapshot()
    no_page = fbw.post("/outlets/facebook/pages", {"csrf_token": token, "login": login_id, "area_hit": "520101"})
    assert no_page.status_code == 400 and "กรุณาเลือกเพจ" in no_page.text
    no_area = fbw.post("/outlets/facebook/pages", {"csrf_token": token, "login": login_id, "page": PAGE_A})
    assert no_area.status_code == 400 and "กรุณาเลือกพื้นที่" in no_area.text
    not_granted = fbw.post("/outlets/facebook/pages", {"csrf_token": token, "login": login_id, "page": "1999999",
                                                       "area_hit": "520101"})
    assert not_granted.status_code == 400 and "กรุณาเลือกเพจจากรายการ" in not_granted.text
    unknown_area = fbw.post("/outlets/facebook/pages", {"csrf_token": token, "login": login_id, "page": PAGE_A,
                                                        "area_hit": "99999999"})
    assert unknown_area.status_code in (400, 404) and "ไม่พบ" in unknown_area.text
    no_login = fbw.post("/outlets/facebook/pages", {"csrf_token": token, "login": "nope", "page": PAGE_A,
                                                    "area_hit": "520101"})
    assert no_login.status_code == 400 and "หมดเวลา" in no_login.text
    assert fbw.snapshot() == before
    assert fbw.pick(login_id, PAGE_A, "520101").status_code == 303
    elsewhere = fbw.pick(login_id, PAGE_A, "520102")
    assert elsewhere.status_code == 409 and "พื้นที่อื่น" in elsewhere.text
    assert next(o for o in fbw.outlets() if o.address == PAGE_A).area_code == "520101"
    bad_outlet = fbw.get("/outlets/facebook/start?outlet=abc")
    assert bad_outlet.status_code == 400 and "หมายเลขช่องทางไม่ถูกต้อง" in bad_outlet.text


@pytest.mark.parametrize(("break_it", "verdict", "thai"), [
    (lambda fake, token: fake.change_password("7001"), "password_changed", "เปลี่ยนรหัสผ่าน"),
    (lambda fake, token: fake.remove_app("7001"), "app_removed", "ลบระบบข่าวออก"),
    (lambda fake, token: fake.remove_role("7001", PAGE_A), "role_removed", "ไม่ได้เป็นผู้ดูแลเพจแล้ว"),
    (lambda fake, token: fake.set_token_state(token, "expired"), "token_expired", "หมดอายุแล้ว"),
    (lambda fake, token: fake.revoke_scope("7001", "pages_manage_posts"), "missing_permission", "สิทธิ์โพสต์"),
])
def test_a_broken_token_is_warned_about_with_a_reconnect_button(fbw: FbWorld, break_it: Any, verdict: str,
                                                                 thai: str) -> None:
    outlet_id = fbw.connect()
    with fbw.world.hub.transaction() as s:
        sealed = s.scalar(select(FacebookPage.token_sealed).where(FacebookPage.outlet_id == outlet_id))
    old_token = Vault.from_settings(fbw.settings).decrypt(sealed)
    break_it(fbw.fake, old_token)
    checked = fbw.post(f"/outlets/{outlet_id}/check", {"csrf_token": csrf_of(fbw.client, "/outlets")})
    assert checked.status_code == 303
    outlet = next(o for o in fbw.outlets() if o.id == outlet_id)
    assert outlet.last_check_ok is False and outlet.last_check_verdict == verdict and outlet.status == "paused"
    page = fbw.get("/outlets")
    assert thai in page.text and "facebook-warning" in page.text
    assert f'href="/outlets/facebook/start?outlet={outlet_id}"' in page.text and "เชื่อมต่อใหม่" in page.text
    status = fbw.get("/status")
    assert "เพจ Facebook ที่ต้องเชื่อมต่อใหม่" in status.text and thai in status.text
    if verdict == "role_removed":
        return  # this user can no longer reconnect it: another admin of the Page must
    if verdict in ("password_changed", "app_removed", "missing_permission"):
        fbw.fake.add_user("7001", "สมศรี ดูแลเพจ", pages=[PAGE_A, PAGE_B])  # signed in again, permissions granted
    back = fbw.through_facebook(f"/outlets/facebook/start?outlet={outlet_id}")
    assert back.status_code == 303 and back.headers["location"].startswith("/outlets?done=reconnected")
    outlet = next(o for o in fbw.outlets() if o.id == outlet_id)
    assert outlet.last_check_ok is True and outlet.status == "active" and outlet.paused_reason is None
    with fbw.world.hub.transaction() as s:
        sealed = s.scalar(select(FacebookPage.token_sealed).where(FacebookPage.outlet_id == outlet_id))
    assert Vault.from_settings(fbw.settings).decrypt(sealed) != old_token
    assert "facebook-warning" not in fbw.get("/outlets").text and fbw.logins(reconnects_only=True) == 0


def test_reconnecting_with_an_account_that_does_not_manage_the_page_changes_nothing(fbw: FbWorld) -> None:
    outlet_id = fbw.connect()
    fbw.fake.add_user("7002", "คนอื่น", pages=[PAGE_B])
    fbw.fake.login_as("7002")
    with fbw.world.hub.transaction() as s:
        before = s.scalar(select(FacebookPage.token_sealed).where(FacebookPage.outlet_id == outlet_id))
    refused = fbw.through_facebook(f"/outlets/facebook/start?outlet={outlet_id}", pages=[PAGE_B])
    assert refused.status_code == 400 and "ไม่ได้ดูแลเพจ" in refused.text
    with fbw.world.hub.transaction() as s:
        assert s.scalar(select(FacebookPage.token_sealed).where(FacebookPage.outlet_id == outlet_id)) == before
    assert fbw.logins(reconnects_only=True) == 0


def test_a_token_file_outlet_of_the_same_page_switches_to_the_stored_token(fbw: FbWorld, tmp_path: Any) -> None:
    from network_hub.outlets import add_outlet
    from network_hub.permissions import system_actor

    token_file = tmp_path / "page-token"
    token_file.write_text(fbw.fake.pages[PAGE_A].token)
    with fbw.world.hub.transaction() as s:
        outlet = add_outlet(s, platform="facebook", area_code="520101", address=PAGE_A, name="เพจเดิม",
                            token_file=str(token_file), now=fbw.world.hub.clock.now(), actor=system_actor())
        outlet_id = outlet.id
    page = fbw.get("/outlets/facebook")
    assert "ใช้ไฟล์หรือตัวแปรโทเคน" in page.text
    assert fbw.connect() == outlet_id
    outlet = next(o for o in fbw.outlets() if o.id == outlet_id)
    assert outlet.token_file is None and outlet.last_check_ok is True
    assert "เชื่อมโดยการเข้าสู่ระบบ Facebook" in fbw.get("/outlets/facebook").text


def test_without_an_app_id_the_page_explains_the_setup_and_the_token_file_way(world: WebWorld, client: TestClient
                                                                            ) -> None:
    sign_in(client, world.people.admin.phone)
    page = client.get("/outlets/facebook")
    assert page.status_code == 200
    assert "HUB_FACEBOOK_APP_ID" in page.text and "HUB_FACEBOOK_APP_SECRET" in page.text
    assert "--token-file" in page.text and "/outlets/facebook/callback" in page.text
    assert "เข้าสู่ระบบด้วย Facebook</a>" not in page.text
    start = client.get("/outlets/facebook/start")
    assert start.status_code == 303 and start.headers["location"] == "/outlets/facebook"


@pytest.mark.parametrize("who", ["moderator", "coordinator", "reporter"])
def test_only_admins_may_connect_pages(world: WebWorld, client: TestClient, who: str) -> None:
    sign_in(client, getattr(world.people, who).phone)
    assert client.get("/outlets/facebook").status_code == 403
    assert client.get("/outlets/facebook/start").status_code == 403
    token = CSRF_RE.search(client.get("/items").text).group(1)  # type: ignore[union-attr]
    assert client.post("/outlets/facebook/pages", data={"csrf_token": token, "login": "x", "page": PAGE_A,
                                                        "area_hit": "520101"}).status_code == 403
