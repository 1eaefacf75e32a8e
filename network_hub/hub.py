"""The assembled hub: settings, database engine, sessions and clock, shared by every interface."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from network_hub.clock import Clock, SystemClock
from network_hub.db.engine import make_engine, make_session_factory


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Hub:
        engine = make_engine(settings.resolved_database_url)
        return cls(settings, engine, make_session_factory(engine), clock or SystemClock())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back (changing nothing) on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
