"""End to end through the real `network-hub run` process (SQLite, subprocess) and the platform fakes:
a volunteer links by a personal invite, submits Thai text + 3 photos from LINE, a moderator
approves from the CLI, and the post reaches a LINE group, a Telegram channel and a Facebook Page
exactly once each."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from config.settings import Settings
from platform_fakes.facebook import FakeFacebook
from platform_fakes.line import FakeLine
from platform_fakes.telegram import FakeTelegram
from tests.photo_checks.waiting import wait_for_photo_checks

pytestmark = pytest.mark.slow
USER = "U" + "e5" * 16
CHANNEL = -1001234567890
PAGE_ID = "1000001"
DEADLINE_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], object], what: str) -> object:
    """Poll until ``condition`` holds (a readiness wait with a generous deadline, not a timing assertion)."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def fake() -> Iterator[FakeLine]:
    server = FakeLine().start_in_thread()
    yield server
    server.stop_thread()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start_in_thread()
    server.add_channel(CHANNEL, username="pongyangkok_news")
    yield server
    server.stop_thread()


@pytest.fixture
def fb() -> Iterator[FakeFacebook]:
    server = FakeFacebook().start_in_thread()
    yield server
    server.stop_thread()


def jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, "JPEG")
    return out.getvalue()


def test_line_volunteer_to_line_group_through_network_hub_run(fake: FakeLine, tg: FakeTelegram, fb: FakeFacebook,
                                                              tmp_path: Path) -> None:
    channel = fake.add_channel(quota=1000)
    group = fake.add_group(channel, members=35, name="ข่าวหมู่ 1")
    port = free_port()
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data"), "HUB_DATABASE_URL": "",
           "HUB_LINE_CHANNEL_ACCESS_TOKEN": channel.token, "HUB_LINE_CHANNEL_SECRET": channel.secret,
           "HUB_LINE_API_BASE_URL": fake.api_base_url, "HUB_LINE_DATA_API_BASE_URL": fake.data_base_url,
           "HUB_PUBLIC_BASE_URL": "https://hub.example.test", "HUB_WEB_PORT": str(port),
           "HUB_TELEGRAM_BOT_TOKEN": tg.token, "HUB_TELEGRAM_API_BASE_URL": tg.base_url,
           "HUB_TELEGRAM_FILE_BASE_URL": tg.file_base_url, "HUB_FACEBOOK_GRAPH_URL": fb.graph_url,
           "FB_TOKEN_E2E": fb.add_page(PAGE_ID, name="ข่าวตำบลปงยางคก").token,
           "HUB_DISPATCH_INTERVAL_S": "0.5", "HUB_QUIET_HOURS": "off"}

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "network_hub", *args], env=env, capture_output=True,
                              text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 0, f"{args}: {done.stderr[-2000:]}"
        return done.stdout

    cli("init")
    cli("areas", "load", "--province", "52")
    cli("village", "add", "52010101", "--name", "บ้านปงยางคก")
    reporter = json.loads(cli("member", "add", "--name", "สมศรี ใจดี", "--role", "reporter", "--area", "52010101",
                              "--json"))
    moderator = json.loads(cli("member", "add", "--name", "ประเสริฐ ตรวจดี", "--role", "moderator",
                               "--area", "520101", "--json"))
    code = json.loads(cli("invite", "create", "--member", str(reporter["id"]), "--json"))["code"]

    service = subprocess.Popen([sys.executable, "-m", "network_hub", "run", "--no-bot"], env=env,
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/line/webhook"

        def up() -> bool:
            try:
                return httpx.post(url, content=b"{}", timeout=2).status_code == 401  # unsigned: refused
            except httpx.HTTPError:
                return False

        wait_for(up, "the web server")

        def deliver(*events: dict) -> None:
            import asyncio

            statuses = asyncio.run(fake.deliver(url, channel, list(events)))
            assert statuses == [200]

        def replies() -> int:
            return len([m for m in fake.sent if m.kind == "reply"])

        def step(*events: dict) -> None:
            before = replies()
            deliver(*events)
            wait_for(lambda: replies() > before, "the chat's reply")

        deliver(fake.join_event(group))
        step(fake.text_event(USER, code))
        step(fake.text_event(USER, "ส่งข่าว"))
        step(fake.postback_event(USER, "c=announcement"))
        step(fake.text_event(USER, "ประชาคมหมู่บ้าน\nเชิญชาวบ้านร่วมประชุมประชาคมที่ศาลาหมู่บ้าน วันเสาร์นี้ เวลา 09.00 น."))
        step(*fake.image_events(USER, [jpeg((200, 0, 0)), jpeg((0, 200, 0)), jpeg((0, 0, 200))]))
        step(fake.postback_event(USER, "photos=done"))
        step(fake.postback_event(USER, "children=no"))
        step(fake.postback_event(USER, "people=no"))
        step(fake.postback_event(USER, "send"))
        receipt_reply = [m for m in fake.sent if m.kind == "reply"][-1].texts[0]
        assert "เลขที่รับ" in receipt_reply

        groups = json.loads(cli("line", "groups", "--json"))
        assert [g["group_id"] for g in groups] == [group.id] and groups[0]["member_count"] == 35
        cli("outlet", "add", "--platform", "line", "--group", group.id, "--area", "520101")
        cli("outlet", "add", "--platform", "telegram", "--chat", str(CHANNEL), "--area", "520101")
        cli("outlet", "add", "--platform", "facebook", "--page-id", PAGE_ID, "--token-env", "FB_TOKEN_E2E",
            "--area", "520101")
        [item] = json.loads(cli("news", "list", "--json"))
        assert item["status"] == "submitted"
        # Issue 16: the running hub reads the photos for personal data first; approval waits for it.
        wait_for_photo_checks(Settings(_env_file=None, data_dir=tmp_path / "data",  # type: ignore[call-arg]
                                       database_url="").resolved_database_url)
        cli("news", "approve", str(item["id"]), "--by", str(moderator["id"]), "--confirm-pdpa")
        wait_for(lambda: json.loads(cli("news", "list", "--json"))[0]["status"] == "published", "published")
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            output, _ = service.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            service.kill()
            output, _ = service.communicate()
    [post] = fake.messages_to(group.id)
    assert "ประชาคมหมู่บ้าน" in post.texts[0] and [m["type"] for m in post.messages].count("image") == 3
    assert post.retry_key is not None and fake.usage(channel) == 35
    telegram = [m for m in tg.posts(CHANNEL) if not m.deleted]
    assert len([m for m in telegram if m.photo]) == 3 and "ประชาคมหมู่บ้าน" in (telegram[0].caption or "")
    [page_post] = fb.posts(PAGE_ID)
    assert "ประชาคมหมู่บ้าน" in page_post.message and len(page_post.media_fbids) == 3
    assert "LINE is on" in output and channel.token not in output
