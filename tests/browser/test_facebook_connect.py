"""An admin connects a Facebook Page by signing in with Facebook, in real Chromium at 1280 px and
375 px, against the loopback Graph fake's Login dialog: the Page shows as healthy; then its user
changes their Facebook password (the fake's control endpoint, as another process would), the
admin checks the outlet and sees the Thai warning with the "เชื่อมต่อใหม่" button, which signs in
again and makes the Page healthy once more."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from network_hub.db.models import FacebookPage, Outlet
from platform_fakes.facebook import FakeFacebook
from tests.browser.conftest import SCREENSHOTS, LiveHub, sign_in

PAGE_ID = "1000001"


@pytest.fixture
def graph(live_hub: LiveHub) -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        settings = live_hub.hub.settings
        settings.facebook_app_id, settings.facebook_app_secret = fake.app_id, fake.app_secret
        settings.facebook_graph_url, settings.facebook_dialog_url = fake.graph_url, fake.dialog_url
        fake.allowed_redirect_uris = {f"{live_hub.base_url}/outlets/facebook/callback"}
        fake.add_page(PAGE_ID, name="ข่าวตำบลเวียงเหนือ")
        fake.add_page("1000002", name="ข่าวตำบลพระบาท")
        fake.add_user("7001", "สมศรี ดูแลเพจ", pages=[PAGE_ID, "1000002"])
        fake.login_as("7001")
        yield fake


def _shot(page: Any, name: str, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


WIDE_ELEMENTS = ("() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
                 "document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 8)")


def _fits(page: Any, width: int) -> None:
    page.wait_for_load_state("networkidle")  # the area picker's suggestions have arrived
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (f"{page.url} is {overflow}px wider than a {width}px screen: "
                           f"{page.evaluate(WIDE_ELEMENTS)}")


def _outlet_card(page: Any, outlet_id: int) -> Any:
    return page.locator(f"#outlet-{outlet_id}")


@pytest.mark.parametrize("width", [1280, 375])
def test_admin_connects_a_page_sees_it_healthy_then_warned_after_the_token_is_revoked(
        browser: Any, live_hub: LiveHub, graph: FakeFacebook, width: int) -> None:
    phone = width < 500
    context = browser.new_context(locale="th-TH", viewport={"width": width, "height": 812 if phone else 900},
                                  is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_hub, "0812345605", next_path="/outlets")  # the national admin
        page.click("a[href='/outlets/facebook']")
        page.wait_for_load_state()
        assert "เชื่อมเพจ Facebook" in page.inner_text("h1")
        _fits(page, width)
        _shot(page, "admin-facebook-connect", width)

        page.click("a.facebook-login")  # to Facebook's Login dialog (the fake, on another port)
        page.wait_for_selector("#allow")
        assert page.url.startswith(f"{graph.dialog_url}/v25.0/dialog/oauth?")
        assert "สมศรี ดูแลเพจ" in page.inner_text("#who")
        page.click("#allow")
        page.wait_for_url(f"{live_hub.base_url}/outlets/facebook/pages?login=*")
        assert "ข่าวตำบลเวียงเหนือ" in page.inner_text("main") and "ข่าวตำบลพระบาท" in page.inner_text("main")
        page.check(f"input[name=page][value='{PAGE_ID}']")
        # The area by name, with the picker's suggestions (JavaScript).
        page.fill("input[name=area_q]", "เวียงเหนือ")
        page.wait_for_selector("select[name=area_hit] option[value='520101']", state="attached")
        page.select_option("select[name=area_hit]", "520101")
        _fits(page, width)
        _shot(page, "admin-facebook-pages", width)
        page.click("form[action='/outlets/facebook/pages'] button:not([name=step])[type=submit]")
        page.wait_for_load_state()
        assert "เชื่อมเพจเรียบร้อย" in page.inner_text("main")
        page.click("form[action='/outlets/facebook/pages/done'] button[type=submit]")
        page.wait_for_url(f"{live_hub.base_url}/outlets?done=connected")

        with live_hub.hub.transaction() as s:
            outlet = s.scalar(select(Outlet).where(Outlet.address == PAGE_ID))
            assert outlet is not None and outlet.area_code == "520101"
            assert s.scalar(select(FacebookPage.page_name).where(FacebookPage.outlet_id == outlet.id)) \
                == "ข่าวตำบลเวียงเหนือ"
        card = _outlet_card(page, outlet.id)
        assert "ข่าวตำบลเวียงเหนือ" in card.inner_text() and "ใช้งานได้" in card.inner_text()
        assert card.locator(".facebook-warning").count() == 0
        _fits(page, width)
        _shot(page, "admin-outlets-facebook-healthy", width)
        body = page.content()
        assert not [t for t in graph.tokens if t in body], "a token is in the outlets page"

        # The Page's admin changes their Facebook password (another process: the fake's control endpoint).
        assert httpx.post(f"{graph.origin}/_fake/users/7001/password_changed").json() == {"ok": True}
        card.locator("form[action$='/check'] button[type=submit]").click()
        page.wait_for_load_state()
        card = _outlet_card(page, outlet.id)
        warning = card.locator(".facebook-warning").inner_text()
        assert "เปลี่ยนรหัสผ่าน Facebook" in warning and "ไม่ตกหล่น" in warning
        reconnect = card.locator(f"a[href='/outlets/facebook/start?outlet={outlet.id}']")
        assert reconnect.inner_text() == "เชื่อมต่อใหม่" and reconnect.is_visible()
        _fits(page, width)
        _shot(page, "admin-outlets-facebook-warning", width)
        page.goto(f"{live_hub.base_url}/status")
        assert "เพจ Facebook ที่ต้องเชื่อมต่อใหม่" in page.inner_text("main")
        _shot(page, "admin-status-facebook-warning", width)

        # Reconnect: sign in with Facebook again (a new session after the password change).
        page.goto(f"{live_hub.base_url}/outlets")
        _outlet_card(page, outlet.id).locator("a.facebook-reconnect").click()
        page.wait_for_selector("#allow")
        page.click("#allow")
        page.wait_for_url(f"{live_hub.base_url}/outlets?done=reconnected*")
        card = _outlet_card(page, outlet.id)
        assert "ใช้งานได้" in card.inner_text() and card.locator(".facebook-warning").count() == 0
        with live_hub.hub.transaction() as s:
            assert s.get(Outlet, outlet.id).status == "active"  # type: ignore[union-attr]
    finally:
        context.close()
