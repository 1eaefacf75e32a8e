"""docs/DEPLOY.md followed step by step where a test can (no root, no systemd as PID 1, no domain).

Each command is run the way DEPLOY.md writes it: a shell that sources the EnvironmentFile
(``set -a; . env``) with ``HUB_DATA_DIR`` set, the installed ``network-hub`` entry point. Steps:
settings (§3) → ``init`` (§4) → an admin → ``run`` answers ``/healthz`` and stops cleanly on
SIGTERM within the unit's TimeoutStopSec (§5) → a manual backup, verified (§10) → restore on a "fresh
server" (an empty data directory), refused a second time without ``--force`` (§10) → ``init``
again, as after an upgrade (§11) → the admin is there.
"""

from __future__ import annotations

import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
NETWORK_HUB = Path(sys.executable).parent / "network-hub"
STOP_TIMEOUT_S = 45  # TimeoutStopSec in deploy/network-hub.service

pytestmark = pytest.mark.skipif(not NETWORK_HUB.exists(), reason="the network-hub entry point is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A stand-in for the server: /etc/network-hub/env and /var/lib/network-hub under tmp_path."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = _free_port()
        self.backups = tmp / "backups"
        self.backups.mkdir(mode=0o700)
        text = (ROOT / "deploy" / "network-hub.env.example").read_text()
        text = text.replace("/var/backups/network-hub", str(self.backups))
        text = text.replace("HUB_WEB_PORT=8080", f"HUB_WEB_PORT={self.port}")
        self.env_file = tmp / "env"
        self.env_file.write_text(text)
        self.env_file.chmod(0o640)

    def command(self, data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        line = (f"set -a; . {shlex.quote(str(self.env_file))}; HUB_DATA_DIR={shlex.quote(str(data_dir))} "
                f"exec {shlex.quote(str(NETWORK_HUB))} " + " ".join(shlex.quote(a) for a in args))
        result = subprocess.run(["sh", "-c", line], cwd=self.tmp, capture_output=True, text=True,
                                env={"PATH": "/usr/bin:/bin", "HOME": str(self.tmp)})
        if check:
            assert result.returncode == 0, f"{args}: {result.stderr}"
        return result

    def start(self, data_dir: Path) -> subprocess.Popen[str]:
        line = (f"set -a; . {shlex.quote(str(self.env_file))}; HUB_DATA_DIR={shlex.quote(str(data_dir))} "
                f"HUB_LOG_FORMAT=json exec {shlex.quote(str(NETWORK_HUB))} run")
        return subprocess.Popen(["sh", "-c", line], cwd=self.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(self.tmp)})


def test_deploy_md_steps_on_a_fresh_server(tmp_path: Path) -> None:
    server = Server(tmp_path)
    data = tmp_path / "var-lib-network-hub"

    server.command(data, "init")
    added = json.loads(server.command(data, "member", "add", "--name", "ผู้ดูแลอำเภอ", "--role", "admin",
                                      "--area", "TH", "--phone", "0812345678", "--json").stdout)
    assert (data / "secret_key").stat().st_mode & 0o077 == 0

    hub = server.start(data)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert hub.poll() is None, hub.stdout.read() if hub.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "network-hub run did not answer /healthz"
            time.sleep(0.3)
    finally:
        started = time.monotonic()
        hub.send_signal(signal.SIGTERM)
        output, _ = hub.communicate(timeout=STOP_TIMEOUT_S)
    assert hub.returncode == 0 and time.monotonic() - started < STOP_TIMEOUT_S
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any("stopped" in entry["message"] for entry in lines), output[-2000:]

    archive = server.backups / "before-upgrade.tar"
    server.command(data, "backup", str(archive))
    assert archive.stat().st_mode & 0o777 == 0o600

    checked = json.loads(server.command(data, "restore", "--verify-only", "--json", str(archive)).stdout)
    assert checked["ok"] and checked["database"] == "sqlite" and checked["files"] >= 2  # database + keys
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])  # a copy cut short
    refused = server.command(data, "restore", "--verify-only", str(damaged), check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.stderr
    assert "error:" in refused.stderr

    fresh = tmp_path / "new-server-var-lib"
    restored = server.command(fresh, "restore", str(archive))
    assert "restored; run `network-hub init`" in restored.stdout
    again = server.command(fresh, "restore", str(archive), check=False)
    assert again.returncode != 0 and "refusing to overwrite a live hub" in again.stderr
    assert "ข้อผิดพลาด" in again.stderr and "Traceback" not in again.stderr
    server.command(fresh, "init")
    members = json.loads(server.command(fresh, "member", "list", "--json").stdout)
    assert any(m["id"] == added["id"] and m["name"] == "ผู้ดูแลอำเภอ" for m in members)
