"""Upgrades (issue 15 item 3): from the first released schema (0001) to head, on both databases.

Every table of 0001 gets rows (values generated from the reflected columns, foreign keys pointing
at the rows inserted before), then ``network-hub init``'s upgrade runs to head and every row must
still be there with the same values. (This caught SQLite batch migrations failing on a hub with data:
rebuilding ``members`` dropped a table other rows point at; migrations/env.py now handles it.)
A database stamped with a revision this code does not know (written by a newer hub) is refused by
``run`` and ``init`` with a clear message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, MetaData, Table, insert, inspect, select, text, types

from network_hub.db.engine import make_engine
from network_hub.db.migrate import current_revision, head_revision, require_current, upgrade
from network_hub.errors import HubError

FIRST_RELEASE = "0001"
WHEN = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@pytest.fixture
def empty_engine(db_url_and_schema: tuple[str, str | None]) -> Iterator[Engine]:
    url, schema = db_url_and_schema
    engine = make_engine(url, schema=schema)
    yield engine
    engine.dispose()


def _value(table: Table, column: Any, number: int, inserted: dict[str, dict[str, Any]]) -> Any:
    for fk in column.foreign_keys:
        parent = inserted.get(fk.column.table.name)
        if parent is not None:
            return parent[fk.column.name]
    kind = column.type
    if isinstance(kind, types.Boolean):
        return number % 2 == 0
    if isinstance(kind, types.Integer):
        return number
    if isinstance(kind, types.Float | types.Numeric):
        return 1.5 * number
    if isinstance(kind, types.DateTime):
        return WHEN if getattr(kind, "timezone", False) else WHEN.replace(tzinfo=None)
    if isinstance(kind, types.Date):
        return WHEN.date()
    if isinstance(kind, JSON):
        return {"kept": [number, "ข่าว"]}
    if isinstance(kind, types.String):
        length = kind.length or 64
        return f"{table.name[:6]}{number}ข่าว"[:length]
    if isinstance(kind, types.LargeBinary):
        return b"\x00bytes"
    return f"{number}"


def _fill_every_table(engine: Engine) -> dict[str, dict[str, Any]]:
    """One row in every table of the schema as it is now, in foreign-key order."""
    metadata = MetaData()
    metadata.reflect(engine)
    inserted: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for number, table in enumerate(metadata.sorted_tables, start=1):
            if table.name == "alembic_version":
                continue
            row = {c.name: _value(table, c, number, inserted) for c in table.columns}
            if "code" in row and table.name == "areas":
                row["code"], row["parent_code"] = "TH", None
            conn.execute(insert(table).values(row))
            inserted[table.name] = row
    return inserted


def _normalise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def test_upgrade_from_the_first_release_keeps_every_row(empty_engine: Engine) -> None:
    upgrade(empty_engine, FIRST_RELEASE)
    assert current_revision(empty_engine) == FIRST_RELEASE
    rows = _fill_every_table(empty_engine)
    assert len(rows) >= 15  # every table of 0001

    upgrade(empty_engine)  # what `network-hub init` runs
    assert current_revision(empty_engine) == head_revision()
    require_current(empty_engine)  # `network-hub run` accepts it
    metadata = MetaData()
    metadata.reflect(empty_engine)
    with empty_engine.connect() as conn:
        for name, row in rows.items():
            table = metadata.tables[name]
            stored = conn.execute(select(*(table.c[c] for c in row))).mappings().all()
            assert len(stored) == 1, f"{name}: {len(stored)} rows after the upgrade"
            assert {k: _normalise(v) for k, v in stored[0].items()} == {k: _normalise(v) for k, v in row.items()}, name
    upgrade(empty_engine)  # running init again changes nothing
    assert current_revision(empty_engine) == head_revision()
    if empty_engine.dialect.name == "sqlite":  # migrations turn foreign keys off; they must be back on
        with empty_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_database_newer_than_the_code_is_refused(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0042_from_a_newer_hub'"))
    with pytest.raises(HubError, match="newer than this hub's code") as refused:
        require_current(empty_engine)
    assert "upgrade the hub" in refused.value.message_en and refused.value.message_th
    with pytest.raises(HubError, match="newer than this hub's code"):
        upgrade(empty_engine)  # init does not try to "upgrade" it either
    assert current_revision(empty_engine) == "0042_from_a_newer_hub"  # nothing changed


def test_a_database_without_the_schema_is_refused_with_init_named(empty_engine: Engine) -> None:
    with pytest.raises(HubError, match="network-hub init"):
        require_current(empty_engine)
    assert inspect(empty_engine).get_table_names() == []


def test_run_refuses_a_newer_database_with_one_clear_line(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from config.settings import Settings
    from network_hub.cli import service as service_cli
    from network_hub.cli.app import main
    from network_hub.hub import Hub

    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}")  # type: ignore[call-arg]
    hub = Hub.from_settings(settings)
    upgrade(hub.engine)
    with hub.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0042_from_a_newer_hub'"))
    monkeypatch.setattr(service_cli, "get_hub", lambda: hub)
    code = main(["run", "--no-bot", "--no-web"])
    err = capsys.readouterr().err
    assert code != 0
    assert "newer than this hub's code" in err and "Traceback" not in err
    assert "ฐานข้อมูลมาจากระบบรุ่นใหม่กว่า" in err
    hub.close()
