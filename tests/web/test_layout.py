"""Phone-first layout: a compact header whose menu opens without JavaScript, touch-sized controls."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from network_hub.web.deps import STATIC_DIR


def test_the_menu_is_a_css_only_toggle_that_holds_every_link(signed_in: Callable[[str], TestClient]) -> None:
    page = signed_in("admin").get("/queue").text
    header = page[page.index('<header class="top">'):page.index("</header>")]
    # A checkbox and its label: the menu opens with no script (the CSP allows none inline anyway).
    assert '<input type="checkbox" id="menu-toggle"' in header
    assert '<label for="menu-toggle" class="menu-button"' in header
    panel = header[header.index('class="menu-panel"'):]
    for target in ("/queue", "/items", "/calendar", "/roster", "/outlets", "/stats", "/status"):
        assert f'href="{target}"' in panel, target
    assert 'action="/logout"' in panel
    assert "<script>" not in page and "onclick" not in page


def test_controls_are_touch_sized_and_the_menu_is_hidden_until_opened_on_a_phone() -> None:
    css = (STATIC_DIR / "style.css").read_text(encoding="utf-8")
    flat = re.sub(r"\s+", " ", css)
    assert re.search(r"button, \.button \{[^}]*min-height:44px", flat)
    assert re.search(r"\.menu-panel \{ display:none", flat)
    assert ".menu-toggle:checked ~ .menu-panel { display:block; }" in flat
    assert re.search(r"@media \(min-width: 900px\) \{[^@]*\.menu-button \{ display:none; \}", flat)
