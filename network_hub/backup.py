"""``network-hub backup FILE`` / ``network-hub restore FILE``: the database, media and keys as one .tar.

The archive holds:

- ``MANIFEST.json``: archive format, hub version, schema revision, database kind, created_at and
  the SHA-256 of every other member (restore verifies them all before it touches anything);
- ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the hub runs) or
  ``database.pgdump`` (``pg_dump --format=custom``: one consistent snapshot of the database);
- ``media/…`` (photos), ``sandbox/…`` (what sandbox outlets "posted");
- ``keys/secret_key`` and ``keys/secrets.key`` when they live in the data directory: without
  ``secrets.key`` the platform tokens stored encrypted in the database could not be read after
  a restore. The archive is therefore written 0600 and must be kept like a password.

Restore goes into an empty data directory or an empty database and refuses a live one unless
``force`` is given. The scheduled daily backup (``HUB_BACKUP_DIR``, ``HUB_BACKUP_KEEP_DAYS``,
``HUB_BACKUP_HOUR``) writes ``hub-YYYY-MM-DD.tar`` once a day whichever process gets there first,
and deletes archives older than the retention.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, inspect
from sqlalchemy.engine import make_url

from config.settings import Settings
from network_hub import __version__
from network_hub.errors import InvalidInput

if TYPE_CHECKING:
    from network_hub.hub import Hub

ARCHIVE_FORMAT = 1
MANIFEST = "MANIFEST.json"
KEY_FILES = ("secret_key", "secrets.key")
DAILY_NAME = re.compile(r"^hub-(\d{4}-\d{2}-\d{2})\.tar$")
_CHUNK = 1 << 20


class BackupError(InvalidInput):
    """A backup or restore cannot proceed; nothing was changed."""

    code = "backup_error"


# -- tools ------------------------------------------------------------------------------------
def find_pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore``: ``HUB_PG_BIN_DIR`` if set, else the newest Debian cluster's
    binaries (a pg_dump older than the server refuses to run), else the one on ``PATH``."""
    override = os.environ.get("HUB_PG_BIN_DIR")
    candidates: list[str] = []
    if override:
        candidates.append(str(Path(override) / name))
    def cluster_version(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/bin/", path)
        return int(match.group(1)) if match else 0

    candidates.extend(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=cluster_version, reverse=True))
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} is not installed; install the PostgreSQL client tools (apt-get install "
                      "postgresql-client) or set HUB_PG_BIN_DIR",
                      f"ไม่พบโปรแกรม {name} กรุณาติดตั้ง postgresql-client")


def _pg_command_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (it goes in PGPASSWORD, not on the command line, where
    ``ps`` would show it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password ("None: unchanged"); the tuple's own _replace drops it.
    plain = url.set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False)
    return plain, env


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        from network_hub.logs import redact

        detail = redact(result.stderr.strip())[-800:]
        raise BackupError(f"{Path(command[0]).name} failed (exit {result.returncode}): {detail}",
                          f"{Path(command[0]).name} ทำงานไม่สำเร็จ")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


# -- backup -----------------------------------------------------------------------------------
def _schema_revision(url: str) -> str | None:
    from network_hub.db.engine import make_engine
    from network_hub.db.migrate import current_revision

    engine = make_engine(url, pool_size=1)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def _dump_database(url: URL, work: Path) -> Path:
    if url.get_backend_name() == "sqlite":
        source_path = Path(url.database or "")
        if not source_path.is_file():
            raise BackupError(f"the database file {source_path} does not exist", "ไม่พบไฟล์ฐานข้อมูล")
        db_file = work / "database.sqlite3"
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        dest = sqlite3.connect(db_file)
        try:
            source.backup(dest)  # page by page, consistent even while the hub writes
        finally:
            source.close()
            dest.close()
        return db_file
    db_file = work / "database.pgdump"
    target, env = _pg_command_target(url)
    _run([find_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          "--file", str(db_file), "--dbname", target], env)
    return db_file


def backup(settings: Settings, target: Path, now: datetime) -> dict[str, Any]:
    """Write the archive ``target`` (which must not exist); return its manifest and size."""
    target = target.expanduser()
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name", f"มีไฟล์ {target} อยู่แล้ว")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist", f"ไม่พบโฟลเดอร์ {target.parent}")
    url = make_url(settings.resolved_database_url)
    with tempfile.TemporaryDirectory(prefix="hub-backup-") as tmp:
        work = Path(tmp)
        revision = _schema_revision(settings.resolved_database_url)
        db_file = _dump_database(url, work)
        members: list[tuple[Path, str]] = [(db_file, db_file.name)]
        for folder, prefix in ((settings.resolved_media_dir, "media"), (settings.sandbox_dir, "sandbox")):
            if folder.is_dir():
                members += [(p, f"{prefix}/{p.relative_to(folder).as_posix()}") for p in _files_under(folder)]
        for name in KEY_FILES:
            key = settings.data_dir / name
            if key.is_file():
                members.append((key, f"keys/{name}"))
        manifest: dict[str, Any] = {
            "format": ARCHIVE_FORMAT,
            "hub_version": __version__,
            "schema_revision": revision,
            "database": url.get_backend_name(),
            "created_at": now.isoformat(),
            "files": {arcname: _sha256(path) for path, arcname in members},
        }
        partial = target.with_name(f".{target.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
                for path, arcname in members:
                    tar.add(path, arcname=arcname, recursive=False)
            os.link(partial, target)  # fails if another process wrote the same name meanwhile
        finally:
            partial.unlink(missing_ok=True)
    return {"file": str(target), "bytes": target.stat().st_size,
            **{k: v for k, v in manifest.items() if k != "files"}, "files": len(manifest["files"])}


# -- verify -----------------------------------------------------------------------------------
def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and bool(path.parts)


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        raw = tar.extractfile(member)
        manifest = json.loads(raw.read()) if raw is not None else None
    except (KeyError, json.JSONDecodeError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BackupError("not a hub backup: MANIFEST.json is missing or unreadable",
                          "ไฟล์นี้ไม่ใช่ไฟล์สำรองข้อมูลของระบบ")
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not supported by this hub "
                          f"(expects {ARCHIVE_FORMAT})", "รูปแบบไฟล์สำรองข้อมูลไม่รองรับ")
    return manifest


def verify(source: Path) -> dict[str, Any]:
    """Check the archive: a manifest, every listed file present with its checksum, nothing else."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist", f"ไม่พบไฟล์ {source}")
    try:
        with tarfile.open(source, "r:*") as tar:
            manifest = read_manifest(tar)
            expected: dict[str, str] = manifest["files"]
            seen: set[str] = set()
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if not member.isfile() or not _safe_name(member.name) or member.name not in expected:
                    raise BackupError(f"unexpected entry {member.name!r} in the backup", "ไฟล์สำรองข้อมูลไม่ถูกต้อง")
                digest = hashlib.sha256()
                fh = tar.extractfile(member)
                assert fh is not None
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                if digest.hexdigest() != expected[member.name]:
                    raise BackupError(f"checksum mismatch for {member.name}: the backup is damaged",
                                      "ไฟล์สำรองข้อมูลเสียหาย (checksum ไม่ตรง)")
                seen.add(member.name)
    except tarfile.TarError as exc:
        raise BackupError(f"{source} is not a readable tar archive ({exc})", "อ่านไฟล์สำรองข้อมูลไม่ได้") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"the backup lacks {len(missing)} file(s) its manifest lists, e.g. {missing[0]}",
                          "ไฟล์สำรองข้อมูลไม่ครบ")
    return manifest


# -- restore ----------------------------------------------------------------------------------
def _sqlite_is_live(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0


def _pg_is_live(url: str) -> bool:
    from network_hub.db.engine import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _folder_has_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def restore(settings: Settings, source: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore ``source`` into the configured database and data directory.

    Refuses (changing nothing) a damaged archive, another database kind, a schema newer than this
    code, and — without ``force`` — a database, media folder or key that already holds data.
    Stop every hub process before restoring with ``force``.
    """
    from network_hub.db.migrate import known_revisions

    source = source.expanduser()
    manifest = verify(source)
    url = make_url(settings.resolved_database_url)
    kind = url.get_backend_name()
    if manifest.get("database") != kind:
        raise BackupError(f"this backup holds a {manifest.get('database')} database; the hub is configured "
                          f"for {kind} (HUB_DATABASE_URL)", "ชนิดฐานข้อมูลของไฟล์สำรองไม่ตรงกับที่ตั้งค่าไว้")
    revision = manifest.get("schema_revision")
    if revision is not None and revision not in known_revisions():
        raise BackupError(f"the backup's schema {revision} is newer than this hub ({__version__}); "
                          "upgrade the hub first", "ไฟล์สำรองมาจากระบบรุ่นใหม่กว่า กรุณาอัปเดตระบบก่อน")
    live: list[str] = []
    if kind == "sqlite":
        db_path = Path(url.database or "")
        if _sqlite_is_live(db_path):
            live.append(f"database {db_path}")
    elif _pg_is_live(settings.resolved_database_url):
        live.append(f"database {url.render_as_string(hide_password=True)}")
    if _folder_has_files(settings.resolved_media_dir):
        live.append(f"media folder {settings.resolved_media_dir}")
    if live and not force:
        raise BackupError(f"refusing to overwrite a live hub ({'; '.join(live)}); restore into an empty "
                          "data directory and database, or stop the hub and pass --force",
                          "มีข้อมูลอยู่แล้ว จะไม่เขียนทับ (ใช้ --force เมื่อหยุดระบบแล้วเท่านั้น)")
    files: dict[str, str] = manifest["files"]
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix="hub-restore-", dir=settings.data_dir) as tmp, \
            tarfile.open(source, "r:*") as tar:
        work = Path(tmp)
        tar.extractall(work, members=[tar.getmember(name) for name in files], filter="data")
        for name, digest in files.items():  # the bytes on disk are the bytes that were verified
            if _sha256(work / name) != digest:
                raise BackupError(f"checksum mismatch for {name} after extraction", "ไฟล์สำรองข้อมูลเสียหาย")
        if kind == "sqlite":
            _restore_sqlite(work / "database.sqlite3", Path(url.database or ""))
        else:
            _restore_pg(work / "database.pgdump", url, clean=bool(live))
        counts = {"media": _move_tree(work / "media", settings.resolved_media_dir),
                  "sandbox": _move_tree(work / "sandbox", settings.sandbox_dir)}
        for name in KEY_FILES:
            _restore_key(work / "keys" / name, settings.data_dir / name, force)
    return {"file": str(source), "database": kind, "schema_revision": revision,
            "created_at": manifest.get("created_at"), "hub_version": manifest.get("hub_version"),
            "media_files": counts["media"], "replaced_live_data": bool(live)}


def _restore_sqlite(extracted: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(extracted)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)  # writes through SQLite, so a WAL file left beside the target stays coherent
    finally:
        source.close()
        dest.close()
    os.chmod(target, 0o600)


def _restore_pg(dump: Path, url: URL, *, clean: bool) -> None:
    target, env = _pg_command_target(url)
    command = [find_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", "--dbname", target]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump)], env)


def _move_tree(source: Path, dest: Path) -> int:
    if not source.is_dir():
        return 0
    count = 0
    for path in _files_under(source):
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        count += 1
    return count


def _restore_key(extracted: Path, target: Path, force: bool) -> None:
    if not extracted.is_file():
        return
    data = extracted.read_bytes()
    if target.exists():
        if target.read_bytes() == data:
            return
        if not force:
            raise BackupError(f"{target} exists with another key; pass --force to replace it",
                              "มีกุญแจเดิมอยู่แล้ว")
        target.unlink()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


# -- the scheduled daily backup ---------------------------------------------------------------
def prune(backup_dir: Path, keep_days: int, now: datetime) -> list[Path]:
    """Delete daily archives (``hub-YYYY-MM-DD.tar``) older than ``keep_days``; others are left alone."""
    cutoff = (now - timedelta(days=keep_days)).date()
    removed = []
    for path in sorted(backup_dir.glob("hub-*.tar")):
        match = DAILY_NAME.match(path.name)
        if match and datetime.strptime(match.group(1), "%Y-%m-%d").date() < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def daily_backup(settings: Settings, now: datetime) -> Path | None:
    """Today's archive in ``HUB_BACKUP_DIR`` unless a process already wrote it; then prune."""
    if settings.backup_dir is None:
        return None
    folder = settings.backup_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    local = now.astimezone(settings.tz)
    target = folder / f"hub-{local:%Y-%m-%d}.tar"
    written: Path | None = None
    if not target.exists():
        try:
            backup(settings, target, now)
            written = target
        except FileExistsError:  # another process won the race for today's name
            written = None
    prune(folder, settings.backup_keep_days, local)
    return written


def scheduled_job(hub: Hub) -> Callable[[], Awaitable[object]]:
    """The scheduler's daily job (registered by the service when ``HUB_BACKUP_DIR`` is set)."""

    async def run() -> object:
        return await asyncio.to_thread(daily_backup, hub.settings, hub.clock.now())

    return run
