"""Instant wake-up across processes: "there is delivery work, look now".

Whoever makes work due (an approval, a reschedule, a moderator's retry, a correction) calls
``announce(session)`` inside the same transaction:

- PostgreSQL: ``pg_notify('hub_outbox', '')`` — delivered to every listening process only when
  the transaction commits (never on rollback), so a woken dispatcher always finds the rows;
- SQLite: ``outbox_signals.counter + 1`` — other processes poll this one row a few times a
  second (``HUB_WAKE_POLL_S``), which costs a primary-key read.

``Listener`` runs in a daemon thread and calls ``on_signal()`` (the dispatcher's thread-safe
``wake``) for each. The PostgreSQL listener keeps its own connection; when it is lost (a restart,
``pg_terminate_backend``) it reconnects with backoff and wakes once after reconnecting, because a
notification sent meanwhile is gone. A signal is only a hint: the dispatcher still ticks, so a lost
signal delays work, never loses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

from network_hub.db.models import OutboxSignal

log = logging.getLogger(__name__)
CHANNEL = "hub_outbox"
RECONNECT_DELAYS_S = (0.1, 0.5, 1.0, 2.0, 5.0)


def announce(session: Session, channel: str = CHANNEL) -> None:
    """Tell every hub process, once this transaction commits, that delivery work is due."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:c, '')"), {"c": channel})
        return
    bumped = session.execute(update(OutboxSignal).where(OutboxSignal.channel == channel)
                             .values(counter=OutboxSignal.counter + 1)).rowcount
    if not bumped:
        session.execute(insert(OutboxSignal).values(channel=channel, counter=1))


def counter(session: Session, channel: str = CHANNEL) -> int:
    return session.scalar(select(OutboxSignal.counter).where(OutboxSignal.channel == channel)) or 0


class Listener:
    """Calls ``on_signal()`` from a daemon thread whenever another process announces work."""

    def __init__(self, engine: Engine, on_signal: Callable[[], None], *, poll_s: float = 0.25,
                 channel: str = CHANNEL) -> None:
        self.engine, self.on_signal, self.poll_s, self.channel = engine, on_signal, poll_s, channel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()  # PostgreSQL: LISTEN is in place (tests wait for it)
        self.reconnects = 0
        self._conn: psycopg.Connection | None = None

    def start(self) -> None:
        target = self._listen_pg if self.engine.dialect.name == "postgresql" else self._poll_sqlite
        self._thread = threading.Thread(target=target, name="outbox-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _fire(self) -> None:
        try:
            self.on_signal()
        except Exception:
            log.exception("outbox wake-up callback failed")

    # -- SQLite: a counter polled a few times a second ----------------------------------------
    def _poll_sqlite(self) -> None:
        last: int | None = None
        while not self._stop.is_set():
            try:
                with self.engine.connect() as conn:
                    value = conn.scalar(select(OutboxSignal.counter)
                                        .where(OutboxSignal.channel == self.channel)) or 0
                    conn.rollback()
                if last is not None and value != last:
                    self._fire()
                last = value
            except Exception as exc:  # a locked or missing file: try again at the next poll
                log.debug("outbox signal poll failed: %s", exc)
            self._stop.wait(self.poll_s)

    # -- PostgreSQL: LISTEN on a connection of its own, reconnecting when it is lost ----------
    def _conninfo(self) -> tuple[str, dict[str, str]]:
        """The engine's server and search path (NOTIFY is per database; the path keeps tests'
        schemas apart), for a connection of the listener's own outside the pool."""
        url = self.engine.url
        params = {k: v for k, v in {"host": url.host, "port": str(url.port or ""), "dbname": url.database,
                                    "user": url.username, "password": url.password}.items() if v}
        with self.engine.connect() as conn:
            path = conn.exec_driver_sql("SHOW search_path").scalar()
            conn.rollback()
        if not path:
            return psycopg.conninfo.make_conninfo(**params), {}
        # libpq splits ``options`` at spaces unless escaped (the default path is '"$user", public')
        escaped = path.replace("\\", "\\\\").replace(" ", "\\ ")
        return psycopg.conninfo.make_conninfo(**params), {"options": f"-csearch_path={escaped}"}

    def _listen_pg(self) -> None:
        failures = 0
        first = True
        while not self._stop.is_set():
            try:
                conninfo, extra = self._conninfo()
                with psycopg.connect(conninfo, autocommit=True, **extra) as conn:
                    self._conn = conn
                    conn.execute(f'LISTEN "{self.channel}"')
                    self.connected.set()
                    if not first:
                        self.reconnects += 1
                        log.info("outbox listener reconnected; looking for work announced meanwhile")
                        self._fire()
                    first, failures = False, 0
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._fire()
            except Exception as exc:
                self.connected.clear()
                if self._stop.is_set():
                    break
                delay = RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)]
                failures += 1
                log.warning("outbox listener lost its connection (%s: %s); reconnecting in %.1fs",
                            type(exc).__name__, str(exc).strip()[:200], delay)
                self._stop.wait(delay)
            finally:
                self._conn = None

    def backend_pid(self) -> int | None:
        """The listening connection's server process id (tests terminate it)."""
        conn = self._conn
        return conn.info.backend_pid if conn is not None else None
