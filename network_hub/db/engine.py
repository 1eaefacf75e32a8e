"""Engines and sessions.

SQLite: WAL, foreign keys on, a busy timeout, and every transaction opened with
``BEGIN IMMEDIATE`` so a read-then-write never fails with SQLITE_BUSY halfway (the sqlite3
driver's own transaction handling is switched off, as the SQLAlchemy docs recommend).
PostgreSQL: psycopg 3, pool pre-ping so a killed connection is replaced.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

if TYPE_CHECKING:  # the ORM is imported when a session factory is first used (SessionFactory)
    from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10, schema: str | None = None) -> Engine:
    """An engine for ``url``; ``schema`` (PostgreSQL only) sets the search path, used by tests."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private_sqlite_file(Path(parsed.database))
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
        connect_args=connect_args,
    )


def _create_private_sqlite_file(path: Path) -> None:
    """The data directory 0700 and the database file 0600 (SQLite gives its -wal/-shm files the same mode)."""
    from network_hub.keyfile import FILE_MODE, ensure_private_dir

    ensure_private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))  # an empty file is an empty database


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


class SessionFactory:
    """``make_session_factory(engine)``, made on first use; calls and attributes go to it.

    Every CLI command assembles the hub, and importing the ORM for its sessionmaker costs about
    0.1 s, which a command that reads with Core statements on a connection (``member list``) does
    not need (docs/PERFORMANCE.md, "CLI start-up").
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._made: sessionmaker[Session] | None = None
        self._lock = threading.Lock()

    def _factory(self) -> sessionmaker[Session]:
        with self._lock:
            if self._made is None:
                self._made = make_session_factory(self._engine)
            return self._made

    def __call__(self, **kw: Any) -> Session:
        return self._factory()(**kw)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not set yet (copy, pickle): never recurse
            raise AttributeError(name)
        return getattr(self._factory(), name)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    from sqlalchemy.orm import Session

    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"
