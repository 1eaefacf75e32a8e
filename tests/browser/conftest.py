"""Browser tests: real Chromium (Debian's package) driven by Playwright against a live uvicorn server.

The server runs in a background thread on 127.0.0.1 and a random free port, over its own SQLite
file. Without /usr/bin/chromium (or Playwright) every test here is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from PIL import Image

from config.settings import Settings
from network_hub.db.models import Base
from network_hub.hub import Hub
from network_hub.newsroom.moderation import approve_item
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.outlets import add_outlet
from network_hub.permissions import load_actor, system_actor
from network_hub.web.app import create_app
from tests.factories import People, seed_network

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PASSWORD = "browser-password-2569"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _skip_reason() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"browser tests skipped: Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests skipped: the playwright package is not installed (pip install -e .[dev])"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _jpeg(colour: tuple[int, int, int]) -> PhotoInput:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buffer, format="JPEG")
    return PhotoInput(buffer.getvalue(), "photo.jpg")


@dataclass
class LiveHub:
    hub: Hub
    people: People
    base_url: str
    item_ids: dict[str, int]

    def dispatch_once(self) -> None:
        from jobs.dispatch import Dispatcher
        from publishers.registry import Publishers

        async def one_pass() -> None:
            publishers = Publishers(self.hub.settings)
            try:
                await Dispatcher(self.hub, publishers).run_once()
            finally:
                await publishers.aclose()

        # In a thread of its own: Playwright's sync API owns this thread's event loop.
        worker = threading.Thread(target=lambda: asyncio.run(one_pass()))
        worker.start()
        worker.join(timeout=60)


def _seed(hub: Hub) -> tuple[People, dict[str, int]]:
    now = hub.clock.now()
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    items: dict[str, int] = {}
    with hub.transaction() as session:
        people = seed_network(session, now)
        for member in (people.reporter, people.reporter2, people.moderator, people.coordinator, people.admin):
            session.merge(member).password_hash = cheap
        add_outlet(session, platform="sandbox", area_code="5201", address="lampang-muang",
                   name="เพจข่าวอำเภอเมืองลำปาง (ทดลอง)", now=now, actor=system_actor())
        stories = (
            ("main", people.reporter, "52010101", "community_charm", "ชาวบ้านเวียงเหนือปลูกต้นไม้ริมถนน",
             "ชาวบ้านเวียงเหนือกว่า 80 คนร่วมกันปลูกต้นราชพฤกษ์ริมถนนสายหลัก เนื่องในวันพ่อแห่งชาติ", [(90, 160, 80)]),
            ("pdpa", people.reporter2, "52010102", "event", "เด็กนักเรียนบ้านป่าขามรับทุนการศึกษา",
             "ด.ญ. มะลิ และ ด.ช. ต้นกล้า ได้รับทุนการศึกษาจากกองทุนหมู่บ้าน", [(200, 160, 90)]),
            ("third", people.reporter, "52010101", "local_product", "น้ำพริกตาแดงของกลุ่มแม่บ้าน",
             "กลุ่มแม่บ้านเวียงเหนือผลิตน้ำพริกตาแดงบรรจุกระปุก จำหน่ายที่ร้านค้าชุมชน", []),
            ("old1", people.reporter2, "52010102", "local_product", "ผ้าทอลายน้ำไหลบ้านป่าขาม",
             "กลุ่มแม่บ้านป่าขามทอผ้าลายน้ำไหลด้วยฝ้ายย้อมสีธรรมชาติ", []),
        )
        for key, author, village, category, title, body, colours in stories:
            item = submit_item(session, actor=load_actor(session, author.id), author_id=author.id,
                               village_code=village, category=category, title=title, body=body,
                               photos=[_jpeg(c) for c in colours], now=now,
                               media_dir=hub.settings.resolved_media_dir)
            items[key] = item.id
        approve_item(session, items["old1"], actor=load_actor(session, people.moderator.id), now=now)
    return people, items


@pytest.fixture
def live_hub(tmp_path: Path) -> Iterator[LiveHub]:
    port = _free_port()
    settings = Settings(_env_file=None, data_dir=tmp_path / "data",  # type: ignore[call-arg]
                        database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}", web_port=port,
                        public_base_url=f"http://127.0.0.1:{port}")
    hub = Hub.from_settings(settings)
    Base.metadata.create_all(hub.engine)
    people, items = _seed(hub)
    live = LiveHub(hub=hub, people=people, base_url=f"http://127.0.0.1:{port}", item_ids=items)
    live.dispatch_once()  # the approved one is published before the browser arrives
    config = uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test web server did not start")
        time.sleep(0.05)
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hub.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread while it is
    # open, which would break every async test collected after the browser tests.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="th-TH", viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                  bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Any, live: LiveHub, phone: str, next_path: str = "/") -> None:
    page.goto(f"{live.base_url}/login?next={next_path}")
    page.fill("input[name=account]", phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
