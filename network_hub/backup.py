"""``network-hub backup FILE``: a consistent copy of the database and the media, as one .tar.gz.

SQLite is copied with SQLite's online backup API (consistent while the hub runs); PostgreSQL
with ``pg_dump --format=custom``. The archive holds ``database.sqlite3`` or ``database.pgdump``,
``media/`` and a ``MANIFEST.json``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from config.settings import Settings
from network_hub.errors import InvalidInput


def backup(settings: Settings, target: Path, now: datetime) -> dict[str, object]:
    target = target.expanduser()
    if target.exists():
        raise InvalidInput(f"{target} already exists; choose a new file name", f"มีไฟล์ {target} อยู่แล้ว")
    if not target.parent.exists():
        raise InvalidInput(f"folder {target.parent} does not exist", f"ไม่พบโฟลเดอร์ {target.parent}")
    url = make_url(settings.resolved_database_url)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if url.get_backend_name() == "sqlite":
            db_file = work / "database.sqlite3"
            source = sqlite3.connect(url.database or "")
            dest = sqlite3.connect(db_file)
            with dest:
                source.backup(dest)
            source.close()
            dest.close()
        else:
            if shutil.which("pg_dump") is None:
                raise InvalidInput("pg_dump is not installed; install the PostgreSQL client tools",
                                   "ไม่พบโปรแกรม pg_dump")
            db_file = work / "database.pgdump"
            plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
            subprocess.run(["pg_dump", "--format=custom", "--file", str(db_file), plain], check=True)
        manifest = {"created_at": now.isoformat(), "database": db_file.name,
                    "backend": url.get_backend_name(), "media_dir": str(settings.resolved_media_dir)}
        (work / "MANIFEST.json").write_text(json.dumps(manifest, indent=2))
        with tarfile.open(target, "w:gz") as tar:
            tar.add(work / "MANIFEST.json", arcname="MANIFEST.json")
            tar.add(db_file, arcname=db_file.name)
            media = settings.resolved_media_dir
            if media.exists():
                tar.add(media, arcname="media")
    return {"file": str(target), "bytes": target.stat().st_size, **manifest}
