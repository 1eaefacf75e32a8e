"""Apply Alembic migrations programmatically (``network-hub init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema; running it again changes nothing."""
    refuse_newer_schema(engine)
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def known_revisions() -> set[str]:
    """Every schema revision this code ships (a database at another one was made by newer code)."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}


def refuse_newer_schema(engine: Engine) -> None:
    """A database written by newer code (a revision this code does not ship) is never touched."""
    from network_hub.errors import HubError

    current = current_revision(engine)
    if current is not None and current not in known_revisions():
        raise HubError(f"the database is at schema {current}, which is newer than this hub's code (it knows up "
                       f"to {head_revision()}); upgrade the hub, or restore a backup made by this version",
                       "ฐานข้อมูลมาจากระบบรุ่นใหม่กว่าโปรแกรมนี้ กรุณาอัปเดตโปรแกรมก่อน")


def require_current(engine: Engine) -> None:
    """Refuse to serve a database that ``network-hub init`` has not created or upgraded."""
    from network_hub.errors import HubError

    refuse_newer_schema(engine)
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no hub schema" if current is None else f"is at schema {current}, the code needs {head}"
        raise HubError(f"the database {state}; run `network-hub init` first",
                       "ฐานข้อมูลยังไม่พร้อม กรุณาสั่ง network-hub init ก่อน")


def stamp_head(engine: Engine) -> None:
    """Mark a schema made by ``metadata.create_all`` (tests) as current."""
    command.stamp(alembic_config(engine), "head")
