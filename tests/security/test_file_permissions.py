"""Finding 9: the data directory is 0700; the database, the key files and stored photos are 0600."""

from __future__ import annotations

import io
import stat
from pathlib import Path

from PIL import Image
from sqlalchemy import text

from network_hub.db.engine import make_engine
from network_hub.newsroom.photos import PhotoInput, prepare_photos, store_photo


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_is_private(tmp_path: Path) -> None:
    database = tmp_path / "hub-data" / "hub.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert _mode(database.parent) == 0o700
    assert _mode(database) == 0o600
    for extra in (database.with_name("hub.sqlite3-wal"), database.with_name("hub.sqlite3-shm")):
        if extra.exists():
            assert _mode(extra) & 0o077 == 0, extra
    engine.dispose()


def test_stored_photos_are_private(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 20, 30)).save(buffer, format="JPEG")
    media = tmp_path / "media"
    (prepared,) = prepare_photos([PhotoInput(buffer.getvalue(), "a.jpg")])
    stored = store_photo(prepared, media)
    assert _mode(media) == 0o700
    assert _mode(stored) == 0o600
