"""The operator's first minutes with ``network-hub``: help and version without heavy imports, one
clear line (English and Thai) instead of a traceback when the database is not ready, exit codes
that say what happened, Bangkok times, quiet scheduler ticks and a start-up line per component."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer

from network_hub.cli.common import local_time
from network_hub.cli.service import component_lines, ensure_port_free, quiet_scheduler_ticks
from network_hub.errors import EXIT_ADDRESS_IN_USE, EXIT_UNAVAILABLE

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "telegram", "linebot", "publishers.registry", "network_hub.cli.news", "rich")


def _cli(tmp_path: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATA_DIR=str(tmp_path), HUB_DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    return subprocess.run([sys.executable, "-c", "from network_hub.cli.app import main; main()", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_help_lists_every_command_without_importing_them(tmp_path: Path) -> None:
    probe = ("import sys; from network_hub.cli.app import main; code = main(['--help']); "
             f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules]); print('CODE', code)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "CODE 0" in done.stdout, done.stderr
    assert "LOADED []" in done.stdout
    for command in ("init", "run", "news", "member", "outlet", "roster", "invite", "status"):
        assert f"  {command} " in done.stdout, command


def test_version(tmp_path: Path) -> None:
    done = _cli(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("network-hub ") and done.stdout.strip()[-1].isdigit()


def test_a_command_before_init_is_one_line_in_english_and_thai_not_a_traceback(tmp_path: Path) -> None:
    done = _cli(tmp_path, "member", "list")
    assert done.returncode == EXIT_UNAVAILABLE
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == ["error: the database is not initialised: run `network-hub init` first",
                     "ข้อผิดพลาด: ยังไม่ได้สร้างฐานข้อมูล กรุณาสั่ง network-hub init ก่อน"]


def test_an_unreachable_database_is_named_with_its_setting(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = _cli(tmp_path, "news", "list", database_url=f"postgresql://postgres@127.0.0.1:{port}/nothing")
    assert done.returncode == EXIT_UNAVAILABLE and "Traceback" not in done.stderr
    assert "HUB_DATABASE_URL" in done.stderr and "เปิดฐานข้อมูลไม่ได้" in done.stderr


def test_a_busy_port_has_its_own_exit_code_not_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(typer.Exit) as stopped:
            ensure_port_free("127.0.0.1", port)
    assert stopped.value.exit_code == EXIT_ADDRESS_IN_USE != 3
    err = capsys.readouterr().err
    assert f"port {port}" in err and "HUB_WEB_PORT" in err and "พอร์ต" in err
    ensure_port_free("127.0.0.1", port)  # free again: no complaint


def test_times_are_shown_in_the_hubs_timezone() -> None:
    assert local_time("2026-11-24T03:00:00+00:00") == "2026-11-24 10:00 +07"
    assert local_time("not a time") == "not a time"


def test_scheduler_tick_lines_are_debug_only(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("apscheduler")
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    quiet_scheduler_ticks("INFO")
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.WARNING)


def test_one_start_up_line_per_component_says_what_is_off_and_why() -> None:
    bare = SimpleNamespace(web_host="127.0.0.1", web_port=8080, telegram_bot_token="", telegram_bot_username="",
                           line_channel_secret="")
    lines = component_lines(bare, with_bot=True, with_web=True)
    assert "bot: off (HUB_TELEGRAM_BOT_TOKEN not set)" in lines
    assert "web: on (http://127.0.0.1:8080/)" in lines and "line: off (HUB_LINE_CHANNEL_SECRET not set)" in lines
    configured = SimpleNamespace(**{**vars(bare), "telegram_bot_token": "1:x", "telegram_bot_username": "hub_bot"})
    assert "bot: on (@hub_bot)" in component_lines(configured, with_bot=True, with_web=False)
    assert "web: off (--no-web)" in component_lines(configured, with_bot=False, with_web=False)
    assert "bot: off (--no-bot)" in component_lines(configured, with_bot=False, with_web=False)
