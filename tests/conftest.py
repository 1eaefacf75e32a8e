"""Shared fixtures.

``db`` gives a fresh schema on every database under test: SQLite always, and PostgreSQL when
``HUB_TEST_DATABASE_URL`` is set (each test there gets its own schema, so xdist workers and
repeated runs never see each other's rows). Without PostgreSQL the PostgreSQL variants are
skipped with a reason that says so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from config.settings import Settings
from network_hub.clock import FrozenClock
from network_hub.db.engine import make_engine, make_session_factory
from network_hub.db.migrate import stamp_head
from network_hub.db.models import Base
from network_hub.hub import Hub

PG_URL = os.environ.get("HUB_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# A fixed 'now' for deterministic tests: Tuesday 24 November 2026, 10:00 Bangkok time.
T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def _sqlite_engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL run skipped: HUB_TEST_DATABASE_URL is not set")
    return request.param


@pytest.fixture
def db_url_and_schema(backend: str, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.sqlite3'}", None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield PG_URL, schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url_and_schema: tuple[str, str | None]) -> Iterator[Engine]:
    url, schema = db_url_and_schema
    eng = make_engine(url, schema=schema)
    Base.metadata.create_all(eng)
    stamp_head(eng)  # as `network-hub init` leaves it, so `run` accepts the database
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def settings(tmp_path: Path, db_url_and_schema: tuple[str, str | None]) -> Settings:
    url, _schema = db_url_and_schema
    return Settings(_env_file=None, data_dir=tmp_path / "data", database_url=url)  # type: ignore[call-arg]


@pytest.fixture
def hub(settings: Settings, engine: Engine, clock: FrozenClock) -> Hub:
    """A hub on the database under test with a frozen clock (storage tests run on both databases)."""
    return Hub(settings=settings, engine=engine, sessions=make_session_factory(engine), clock=clock)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    pg = sum(1 for r in skipped if "HUB_TEST_DATABASE_URL" in str(r.longrepr))
    if pg:
        terminalreporter.write_line(
            f"NOTE: {pg} PostgreSQL runs skipped (set HUB_TEST_DATABASE_URL to run them); SQLite runs passed."
        )
