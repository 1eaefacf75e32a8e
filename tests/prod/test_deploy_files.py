"""deploy/ and docs/DEPLOY.md stay consistent with the code (the files themselves are exercised by
tests/prod/test_caddy.py: systemd-analyze, caddy adapt, Caddy in front of the hub)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url

from config.settings import Settings
from network_hub.backup import _pg_command_target

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_the_example_environment_file_is_valid_settings(tmp_path: Path) -> None:
    settings = Settings(_env_file=DEPLOY / "network-hub.env.example")  # type: ignore[call-arg]
    assert settings.public_base_url.startswith("https://")
    assert settings.web_host == "127.0.0.1"  # only Caddy reaches the hub
    assert settings.backup_dir == Path("/var/backups/network-hub") and settings.backup_keep_days == 14


def test_the_documented_postgresql_socket_url_works_for_the_hub_and_pg_dump() -> None:
    text = (ROOT / "docs" / "DEPLOY.md").read_text()
    url = re.search(r"HUB_DATABASE_URL=(postgresql://\S+?)'", text)
    assert url, "DEPLOY.md shows the PostgreSQL URL"
    settings = Settings(_env_file=None, database_url=url.group(1))  # type: ignore[call-arg]
    resolved = make_url(settings.resolved_database_url)
    assert resolved.drivername == "postgresql+psycopg" and resolved.query["host"] == "/var/run/postgresql"
    target, env = _pg_command_target(resolved)
    assert target == "postgresql://network-hub@/network_hub?host=%2Fvar%2Frun%2Fpostgresql"
    assert "PGPASSWORD" not in env or env["PGPASSWORD"] != ""


def test_a_password_never_goes_on_pg_dumps_command_line() -> None:
    target, env = _pg_command_target(make_url("postgresql+psycopg://hub:s3cret-pw@db.internal:5432/hub"))
    assert "s3cret-pw" not in target and env["PGPASSWORD"] == "s3cret-pw"


def test_every_file_deploy_md_tells_to_copy_exists() -> None:
    text = (ROOT / "docs" / "DEPLOY.md").read_text()
    for name in re.findall(r"/opt/network-hub/src/(deploy/[\w@./{},-]+)", text):
        if "{" in name:  # deploy/x.{service,timer}
            stem, alternatives = name.split("{")
            paths = [stem + alt for alt in alternatives.rstrip("}").split(",")]
        else:
            paths = [name]
        for path in paths:
            assert (ROOT / path.rstrip("/")).exists(), path
