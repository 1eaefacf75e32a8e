"""The storage layer itself: schema, migrations, UTC round-trips, SQLite pragmas (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import inspect, select, text

from network_hub.db.engine import make_engine
from network_hub.db.migrate import upgrade
from network_hub.db.models import Area, Base
from tests.factories import seed_network


def test_datetimes_round_trip_as_aware_utc(hub) -> None:
    bangkok = timezone(timedelta(hours=7))
    with hub.transaction() as s:
        s.add(Area(code="TH", level="country", name_th="ประเทศไทย", created_at=datetime(2026, 1, 1, 9, tzinfo=bangkok)))
    with hub.transaction() as s:
        area = s.scalar(select(Area))
        assert area.created_at == datetime(2026, 1, 1, 2, tzinfo=UTC)
        assert area.created_at.tzinfo is not None


def test_seed_network_builds_hierarchy(hub) -> None:
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
        assert people.reporter.id != people.moderator.id
        assert s.get(Area, "52010101").parent_code == "520101"


def test_migrations_create_the_models_schema_and_are_idempotent(db_url_and_schema) -> None:
    url, schema = db_url_and_schema
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    upgrade(engine)  # a second init changes nothing
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    engine.dispose()


def test_sqlite_runs_wal_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_migrations_match_the_models(db_url_and_schema) -> None:
    """`network-hub init` builds exactly the schema the code declares (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url, schema = db_url_and_schema
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []
