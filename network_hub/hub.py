"""The assembled hub: settings, database engine, sessions and clock, shared by every interface."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from sqlalchemy import Engine

from config.settings import Settings
from network_hub.clock import Clock, SystemClock
from network_hub.db.engine import SessionFactory, make_engine

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Hub:
        engine = make_engine(settings.resolved_database_url)
        # The sessionmaker (and the ORM import) is made when a session is first asked for.
        sessions = cast("sessionmaker[Session]", SessionFactory(engine))
        return cls(settings, engine, sessions, clock or SystemClock())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back (changing nothing) on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
