"""Running real ``network-hub`` processes against a test database and the loopback fakes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def subprocess_db_url(url: str, schema: str | None) -> str:
    """The test database as a URL another process can open (PostgreSQL: with the test's schema)."""
    if schema is None:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def hub_env(settings: Settings, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_DATABASE_URL": db_url,
        "HUB_TELEGRAM_BOT_TOKEN": settings.telegram_bot_token,
        "HUB_TELEGRAM_API_BASE_URL": settings.telegram_api_base_url,
        "HUB_TELEGRAM_FILE_BASE_URL": settings.telegram_file_base_url,
        "HUB_FACEBOOK_GRAPH_URL": settings.facebook_graph_url,
        "HUB_LEASE_SECONDS": "10",
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
    })
    env.update(extra)
    return env


def network_hub(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "network_hub", *args], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=timeout, check=False)


def start_network_hub(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A long-running hub process; its output goes to ``log`` (a pipe nobody reads would fill up
    and block the process's logging, and with it its event loop)."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "network_hub", *args], env=env, cwd=str(ROOT),
                                stdout=out, stderr=subprocess.STDOUT)
