"""Every dashboard page at 1280 px and 375 px: the menu button, no horizontal overflow, the queue's
first card on the first screen of a phone; screenshots of the admin's pages for docs/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, LiveHub, sign_in

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
ADMIN_PAGES = ("/queue", "/items", "/calendar", "/calendar?view=month", "/deliveries", "/roster", "/outlets",
               "/stats", "/sandbox", "/status")


def every_page(live: LiveHub) -> list[str]:
    """The pages above, the item pages, and every other GET page the app has (found from its routes)."""
    from network_hub.web.app import create_app
    from tests.web.test_no_raw_codes import NOT_PAGES, _routes

    found = [route.path for route in _routes(create_app(live.hub).routes)
             if "GET" in (getattr(route, "methods", None) or set()) and "{" not in route.path
             and route.path != "/" and not NOT_PAGES.search(route.path)]
    items = [f"/items/{i}" for i in live.item_ids.values()]
    return list(dict.fromkeys([*ADMIN_PAGES, *items, *found]))


def shrink(path: str) -> None:
    """Screenshots go into the repository: a 64-colour palette keeps each one small and readable."""
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
ADMIN_PHONE = "0812345605"


def _name(path: str) -> str:
    return path.strip("/").replace("?view=", "-").replace("/", "-") or "home"


def _no_horizontal_overflow(page: Any) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def test_on_a_phone_the_first_queue_card_is_on_the_first_screen(browser: Any, live_hub: LiveHub) -> None:
    context = browser.new_context(locale="th-TH", viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_hub, "0812345603", next_path="/queue")
        first = page.locator("article.item-card").first
        box = first.bounding_box()
        assert box is not None
        # The card's title and its first lines are visible without scrolling.
        assert box["y"] < 300, f"the first card starts at {box['y']}px"
        title = first.locator("h2").bounding_box()
        assert title is not None and title["y"] + title["height"] <= PHONE["height"]
        # The menu is folded away behind one button; the button opens it (no JavaScript needed).
        assert not page.locator("nav.menu a[href='/items']").is_visible()
        button = page.locator("label.menu-button")
        size = button.bounding_box()
        assert size is not None and size["height"] >= 44 and size["width"] >= 44
        button.click()
        link = page.locator("nav.menu a[href='/items']")
        assert link.is_visible()
        link_box = link.bounding_box()
        assert link_box is not None and link_box["height"] >= 44
        link.click()
        page.wait_for_url("**/items")
        # Every button a moderator presses on a card is at least 44 px high.
        page.goto(f"{live_hub.base_url}/queue")
        heights = page.eval_on_selector_all("article.item-card button", "els => els.map(e => e.offsetHeight)")
        assert heights and min(heights) >= 44, heights
        _no_horizontal_overflow(page)
    finally:
        context.close()


def test_the_menu_works_without_javascript(browser: Any, live_hub: LiveHub) -> None:
    context = browser.new_context(locale="th-TH", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_hub, "0812345603", next_path="/queue")
        assert not page.locator("nav.menu a[href='/calendar']").is_visible()
        page.click("label.menu-button")
        assert page.locator("nav.menu a[href='/calendar']").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_every_admin_page_fits_the_screen_and_is_photographed(browser: Any, live_hub: LiveHub,
                                                              viewport: dict[str, int]) -> None:
    context = browser.new_context(locale="th-TH", viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_hub, ADMIN_PHONE, next_path="/status")
        menu_button = page.locator("label.menu-button")
        assert menu_button.is_visible() == (viewport["width"] < 900)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in every_page(live_hub):
            response = page.goto(f"{live_hub.base_url}{path}")
            assert response is not None, path
            if response.status != 200 or "text/html" not in (response.headers.get("content-type") or ""):
                continue  # a JSON helper or a page that needs parameters
            page.wait_for_load_state("load")
            _no_horizontal_overflow(page)
            if path.startswith("/items/"):
                continue  # checked, not photographed (one per page kind is enough)
            target = str(SCREENSHOTS / f"admin-{_name(path)}-{viewport['width']}.png")
            page.screenshot(path=target, full_page=True, type="png")
            shrink(target)
    finally:
        context.close()
