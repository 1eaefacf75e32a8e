"""No raw code on any dashboard page in Thai mode.

Signs in as each role, renders every GET page of the dashboard (found from the app's routes, so
new pages are checked too) and scans what a person reads — the text, not attributes, and not the
explicitly technical parts (``<code>``, ``<details class="tech">``) — for the stored values of
every enum in network_hub/states.py and publishers' ErrorClass, for audit action names such as
``news.approve``, and for table cells written only in ASCII letters (an English word or a code).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from network_hub import states
from network_hub.db.models import Delivery, Outlet
from network_hub.newsroom.moderation import return_item
from network_hub.permissions import load_actor, system_actor
from network_hub.roster.invites import create_invite
from publishers.base import ErrorClass
from tests.web.conftest import WebWorld, approve_and_dispatch, sign_in

ROLES = ("reporter", "moderator", "coordinator", "admin")
# Not pages: files, feeds, machine endpoints, sign-in flows.
NOT_PAGES = re.compile(r"\.(csv|png|jpg|json|atom|txt|xml)$|^/(static|media|feeds|healthz|metrics|login|logout|lang|"
                       r"line|telegram|webhook|auth|oauth)")
ENUMS: list[type[StrEnum]] = [c for c in vars(states).values()
                              if isinstance(c, type) and issubclass(c, StrEnum) and c is not StrEnum] + [ErrorClass]
RAW_VALUES = sorted({m.value for enum in ENUMS for m in enum})
RAW_VALUE_RE = re.compile(r"(?<![A-Za-z_\-/.#])(" + "|".join(map(re.escape, RAW_VALUES)) + r")(?![A-Za-z_\-])")
ACTION_RE = re.compile(r"\b(news|item|delivery|outlet|member|invite|grant|area|areas|village|roster)\.[a-z_]+\b")
THAI = re.compile(r"[\u0e00-\u0e7f]")
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")


class ReadableText(HTMLParser):
    """Collects the text a person reads, and every table cell's text, skipping technical parts."""

    SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "code", "template", "head"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.text: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}:
            return
        classes = (dict(attrs).get("class") or "").split()
        self.stack.append((tag, tag in self.SKIP or (tag == "details" and "tech" in classes)))
        if tag in ("td", "th") and not self._skipping():
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, _ = self.stack.pop()
            if name == tag:
                break
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skipping():
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def problems_in(html: str) -> list[str]:
    parser = ReadableText()
    parser.feed(html)
    text = " ".join(" ".join(parser.text).split())
    found = [f"raw code {m.group(1)!r} in “…{text[max(0, m.start() - 40):m.end() + 20]}…”"
             for m in RAW_VALUE_RE.finditer(text)]
    found += [f"audit action {m.group(0)!r}" for m in ACTION_RE.finditer(text)]
    found += [f"ASCII-only table cell {cell!r}" for cell in parser.cells
              if ASCII_WORD.search(cell) and not THAI.search(cell)]
    return found


def test_the_scanner_finds_what_it_should() -> None:
    bad = ("<main><p>สถานะ retry_wait</p><ol><li>news.approve</li></ol><table><tr><th>s</th><td>pending</td>"
           "<td>Telegram</td></tr></table></main>")
    found = problems_in(bad)
    assert any("retry_wait" in p for p in found) and any("news.approve" in p for p in found)
    assert any("'Telegram'" in p for p in found) and any("'pending'" in p for p in found)
    fine = ("<main><p>ส่งแล้ว</p><code>sent</code><details class='tech'><summary>x</summary>failed</details>"
            "<table><tr><td>NH-2569-000001 ข่าว</td><td>12</td></tr></table><a href='/x?status=sent'>ดู</a></main>")
    assert problems_in(fine) == []


def _seed(world: WebWorld) -> dict[str, int]:
    """Something in every state a page can show: submitted, returned, published, a failed delivery,
    a paused outlet and an active invite."""
    hub = world.hub
    now = hub.clock.now()
    waiting = world.submit()
    returned = world.submit(body="ขอเชิญร่วมงานประเพณีลอยกระทงของหมู่บ้าน ณ สระน้ำกลางหมู่บ้าน", category="event")
    published = world.submit(body="กลุ่มแม่บ้านผลิตน้ำพริกตาแดงจำหน่ายที่ร้านค้าชุมชน", category="local_product")
    approve_and_dispatch(world, published)
    with hub.transaction() as session:
        return_item(session, returned, actor=load_actor(session, world.people.moderator.id), reason="ขอภาพเพิ่ม",
                    now=now, via="web")
        delivery = session.query(Delivery).filter(Delivery.item_id == published).first()
        assert delivery is not None
        delivery.state = states.DeliveryState.FAILED.value
        delivery.last_error = "needs_human: chat not found"
        outlet = session.get(Outlet, world.outlet_id)
        assert outlet is not None
        outlet.status = states.OutletStatus.PAUSED.value
        outlet.paused_reason = "ปิดปรับปรุงเพจ"
        create_invite(session, role="reporter", area_code="52010101", max_uses=5,
                      expires_in=__import__("datetime").timedelta(days=7), now=now, actor=system_actor())
    return {"item_id": waiting, "published": published}


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, also inside included routers (FastAPI keeps them as _IncludedRouter wrappers)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def _pages(client: TestClient, ids: dict[str, int]) -> Iterator[str]:
    for route in _routes(client.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, Route) or "GET" not in (route.methods or set()) or NOT_PAGES.search(route.path):
            continue
        path = route.path
        if "{" in path:
            if path.count("{") != 1 or "{item_id}" not in path or not path.endswith("{item_id}"):
                continue
            for key in ("item_id", "published"):
                yield path.replace("{item_id}", str(ids[key]))
            continue
        yield path
    yield "/calendar?view=month"


@pytest.mark.parametrize("role", ROLES)
def test_no_page_shows_a_raw_code_in_thai(client: TestClient, world: WebWorld, role: str) -> None:
    ids = _seed(world)
    sign_in(client, getattr(world.people, role).phone)
    checked, problems = 0, []
    for path in _pages(client, ids):
        response = client.get(path)
        if response.status_code in (303, 403, 404) or "text/html" not in response.headers.get("content-type", ""):
            continue
        checked += 1
        problems += [f"{path}: {p}" for p in problems_in(response.text)]
    assert checked >= (2 if role == "reporter" else 6), f"only {checked} pages rendered for {role}"
    assert problems == [], "\n".join(problems)
