"""Backup and restore (issue 15 item 2): the restore drill on SQLite and PostgreSQL, and refusals.

The drill builds the demo network (items waiting, returned, rejected, scheduled with pending
deliveries, published with photos, withdrawn), backs it up, destroys the data directory and the
database, restores into empty ones, and checks every row of every table, every photo and every
pending delivery is back; then a dispatcher pass after the restore sends what was pending once
and nothing that was already sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import tarfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from network_hub import backup as backup_module
from network_hub.backup import BackupError, backup, daily_backup, prune, restore, verify
from network_hub.clock import FrozenClock
from network_hub.db.models import Base, Delivery, NewsItem
from network_hub.demo import build_demo
from network_hub.hub import Hub
from tests.conftest import PG_URL

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def _admin_engine():  # type: ignore[no-untyped-def]
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _create_database(name: str) -> None:
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _drop_database(name: str) -> None:
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def drill_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings of a hub with its own data directory and its own (empty) database."""
    data = tmp_path / "hub-data"
    if backend == "sqlite":
        yield Settings(_env_file=None, data_dir=data, database_url=f"sqlite:///{data / 'hub.sqlite3'}")  # type: ignore[call-arg]
        return
    name = f"hub_drill_{uuid.uuid4().hex[:10]}"
    _create_database(name)
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield Settings(_env_file=None, data_dir=data, database_url=url)  # type: ignore[call-arg]
    finally:
        _drop_database(name)


def _destroy(settings: Settings) -> None:
    shutil.rmtree(settings.data_dir)
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "postgresql":
        _drop_database(url.database or "")
        _create_database(url.database or "")


def _rows(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    hub = Hub.from_settings(settings)
    try:
        with hub.engine.connect() as conn:
            return {table.name: [tuple(row) for row in conn.execute(
                select(table).order_by(*table.primary_key.columns))] for table in Base.metadata.sorted_tables}
    finally:
        hub.close()


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _dispatch_everything(settings: Settings, at: datetime) -> None:
    from jobs.dispatch import Dispatcher
    from publishers.registry import Publishers

    hub = Hub.from_settings(settings, clock=FrozenClock(at))
    publishers = Publishers(settings)
    dispatcher = Dispatcher(hub, publishers, owner="after-restore")

    async def drain() -> None:
        for _ in range(20):
            if (await dispatcher.run_once()).claimed == 0:
                break
        await publishers.aclose()

    try:
        asyncio.run(drain())
    finally:
        hub.close()


def _sandbox_posts(settings: Settings) -> Counter[tuple[str, str]]:
    """(outlet directory, receipt number) of every post a sandbox outlet recorded."""
    posts: Counter[tuple[str, str]] = Counter()
    for path in settings.sandbox_dir.rglob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        posts[(path.parent.name, record["receipt_no"])] += 1
    return posts


def test_restore_drill(drill_settings: Settings, tmp_path: Path) -> None:
    settings = drill_settings
    build_demo(settings, now=NOW)
    before = _rows(settings)
    media_before = _files(settings.resolved_media_dir)
    posts_before = _sandbox_posts(settings)
    states = {row.status for row in _orm(settings, NewsItem)}
    delivery_states = Counter(row.state for row in _orm(settings, Delivery))
    assert {"submitted", "changes_requested", "rejected", "scheduled", "published", "withdrawn"} <= states, states
    assert delivery_states["pending"] >= 2 and delivery_states["sent"] >= 3, delivery_states
    assert media_before and posts_before

    archive = tmp_path / "backups" / "hub.tar"
    archive.parent.mkdir()
    made = backup(settings, archive, NOW)
    assert made["database"] == make_url(settings.resolved_database_url).get_backend_name()
    assert made["schema_revision"] and made["hub_version"]
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    manifest = verify(archive)
    assert set(manifest["files"]) >= {f"media/{name}" for name in media_before}

    _destroy(settings)
    assert not settings.data_dir.exists()
    result = restore(settings, archive)
    assert result["media_files"] == len(media_before) and not result["replaced_live_data"]

    assert _rows(settings) == before  # every row of every table
    assert _files(settings.resolved_media_dir) == media_before  # every photo, byte for byte
    key = settings.data_dir / "secret_key"
    assert key.read_text() and key.stat().st_mode & 0o077 == 0

    # The pending deliveries go out once; what was sent before the backup is not sent again.
    sent_before = {d.id: (d.sent_at, d.external_ids) for d in _orm(settings, Delivery) if d.state == "sent"}
    _dispatch_everything(settings, NOW + timedelta(days=10))
    after = {d.id: d for d in _orm(settings, Delivery)}
    assert all((after[i].sent_at, after[i].external_ids) == v for i, v in sent_before.items())
    assert sum(1 for d in after.values() if d.state == "pending") == 0
    posts_after = _sandbox_posts(settings)
    assert max(posts_after.values()) == 1, [k for k, n in posts_after.items() if n > 1]
    assert len(posts_after) == len(posts_before) + delivery_states["pending"]


def _orm(settings: Settings, model: type[Any]) -> list[Any]:
    hub = Hub.from_settings(settings)
    try:
        with hub.sessions() as s:
            return list(s.scalars(select(model)))
    finally:
        hub.close()


def test_restore_refuses_a_live_hub_without_force_and_replaces_it_with_force(
    drill_settings: Settings, tmp_path: Path
) -> None:
    settings = drill_settings
    build_demo(settings, now=NOW)
    archive = tmp_path / "hub.tar"
    backup(settings, archive, NOW)
    before = _rows(settings)
    with Hub.from_settings(settings).engine.begin() as conn:  # a change made after the backup
        conn.execute(text("DELETE FROM audit_events"))
    with pytest.raises(BackupError, match="refusing to overwrite a live hub"):
        restore(settings, archive)
    assert _rows(settings)["audit_events"] == []  # nothing changed by the refusal
    restore(settings, archive, force=True)
    assert _rows(settings) == before


def _small_hub(tmp_path: Path) -> Settings:
    data = tmp_path / "small"
    settings = Settings(_env_file=None, data_dir=data, database_url=f"sqlite:///{data / 'hub.sqlite3'}")  # type: ignore[call-arg]
    from network_hub.db.migrate import upgrade

    hub = Hub.from_settings(settings)
    upgrade(hub.engine)
    hub.close()
    (settings.resolved_media_dir / "2026").mkdir(parents=True)
    (settings.resolved_media_dir / "2026" / "a.jpg").write_bytes(b"\xff\xd8 photo bytes")
    return settings


def _empty(data: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data, database_url=f"sqlite:///{data / 'hub.sqlite3'}")  # type: ignore[call-arg]


def test_a_damaged_backup_is_refused_before_anything_is_restored(tmp_path: Path) -> None:
    settings = _small_hub(tmp_path)
    archive = tmp_path / "hub.tar"
    backup(settings, archive, NOW)
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "media/2026/a.jpg":
                data = data.replace(b"photo", b"PHOTO")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    empty = _empty(tmp_path / "new")
    with pytest.raises(BackupError, match=r"checksum mismatch for media/2026/a\.jpg"):
        restore(empty, damaged)
    assert not (tmp_path / "new" / "hub.sqlite3").exists()
    with pytest.raises(BackupError, match="not a hub backup"):
        not_backup = tmp_path / "other.tar"
        with tarfile.open(not_backup, "w") as tar:
            tar.add(archive, arcname="something.bin")
        verify(not_backup)


def test_backup_refuses_an_existing_file_and_a_missing_folder(tmp_path: Path) -> None:
    settings = _small_hub(tmp_path)
    existing = tmp_path / "exists.tar"
    existing.write_text("keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup(settings, existing, NOW)
    assert existing.read_text() == "keep me"
    with pytest.raises(BackupError, match="does not exist"):
        backup(settings, tmp_path / "no" / "such" / "dir.tar", NOW)


def test_restore_refuses_a_backup_of_another_database_kind_or_newer_schema(tmp_path: Path) -> None:
    settings = _small_hub(tmp_path)
    archive = tmp_path / "hub.tar"
    backup(settings, archive, NOW)
    pg = Settings(_env_file=None, data_dir=tmp_path / "pg", database_url="postgresql://nobody@127.0.0.1:1/none")  # type: ignore[call-arg]
    with pytest.raises(BackupError, match="holds a sqlite database"):
        restore(pg, archive)
    newer = tmp_path / "newer.tar"
    with tarfile.open(archive) as src, tarfile.open(newer, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "MANIFEST.json":
                manifest = json.loads(data)
                manifest["schema_revision"] = "0099_from_the_future"
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    empty = _empty(tmp_path / "new")
    with pytest.raises(BackupError, match="newer than this hub"):
        restore(empty, newer)


def test_daily_backup_writes_once_a_day_and_keeps_the_retention(tmp_path: Path) -> None:
    settings = _small_hub(tmp_path)
    settings.backup_dir = tmp_path / "daily"
    settings.backup_keep_days = 3
    settings.backup_dir.mkdir()
    for day in ("2026-11-01", "2026-11-20", "2026-11-21"):
        (settings.backup_dir / f"hub-{day}.tar").write_bytes(b"old")
    (settings.backup_dir / "hub-manual.tar").write_bytes(b"an operator's own file")
    first = daily_backup(settings, NOW)
    assert first == settings.backup_dir / "hub-2026-11-24.tar"
    assert daily_backup(settings, NOW + timedelta(hours=1)) is None  # today's exists: not written twice
    names = sorted(p.name for p in settings.backup_dir.iterdir())
    assert names == ["hub-2026-11-21.tar", "hub-2026-11-24.tar", "hub-manual.tar"]
    assert verify(first)["database"] == "sqlite"
    later = NOW + timedelta(days=10)
    assert prune(settings.backup_dir, 3, later) == [settings.backup_dir / "hub-2026-11-21.tar", first]


def test_the_service_registers_the_daily_backup_only_when_configured(tmp_path: Path) -> None:
    from jobs.service import Service

    settings = _small_hub(tmp_path)
    hub = Hub.from_settings(settings)
    assert "daily-backup" not in Service(hub, with_bot=False, with_web=False)._jobs()
    settings.backup_dir = tmp_path / "daily"
    assert "daily-backup" in Service(hub, with_bot=False, with_web=False)._jobs()
    hub.close()


def test_pg_tools_are_found_by_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tool = tmp_path / "pg_dump"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("HUB_PG_BIN_DIR", str(tmp_path))
    assert backup_module.find_pg_tool("pg_dump") == str(tool)
    monkeypatch.delenv("HUB_PG_BIN_DIR")
    monkeypatch.setattr(backup_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup_module.glob, "glob", lambda pattern: [])
    with pytest.raises(BackupError, match="postgresql-client"):
        backup_module.find_pg_tool("pg_dump")
    assert os.environ.get("HUB_PG_BIN_DIR") is None


def test_sqlite_backup_is_consistent_while_the_hub_writes(tmp_path: Path) -> None:
    """The online backup API copies a consistent snapshot while another connection keeps committing."""
    import sqlite3
    import threading

    from network_hub.db.models import AuditEvent

    settings = _small_hub(tmp_path)
    hub = Hub.from_settings(settings)
    stop = threading.Event()
    written = [0]

    def keep_writing() -> None:
        while not stop.is_set():
            with hub.transaction() as s:  # each commit adds the audit row and its twin at once
                for _ in range(2):
                    s.add(AuditEvent(at=NOW, action="drill.write", object_type="x", object_id=str(written[0])))
            written[0] += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while written[0] < 20:
            time.sleep(0.01)
        archive = tmp_path / "online.tar"
        backup(settings, archive, NOW)
        at_backup = written[0]
    finally:
        stop.set()
        writer.join()
        hub.close()
    restored = _empty(tmp_path / "restored")
    restore(restored, archive)
    with sqlite3.connect(restored.data_dir / "hub.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT count(*) FROM audit_events WHERE action = 'drill.write'").fetchone()[0]
    assert rows % 2 == 0 and 40 <= rows <= 2 * (at_backup + 1)  # whole transactions only
