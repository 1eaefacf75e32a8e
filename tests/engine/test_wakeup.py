"""Instant wake-up across processes: NOTIFY (PostgreSQL) / the change counter (SQLite), committed
with the transaction that made work due, and a listener that survives a killed connection."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from network_hub.db.engine import make_engine
from network_hub.newsroom import events
from network_hub.outbox import signals

WAIT_S = 15.0  # an upper bound for a slow shared machine; a signal normally arrives in milliseconds


class Woken:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def wait(self) -> bool:
        ok = self.event.wait(WAIT_S)
        self.event.clear()
        return ok


@pytest.fixture
def listening(hub):
    woken = Woken()
    listener = signals.Listener(hub.engine, woken, poll_s=0.05)
    listener.start()
    if hub.engine.dialect.name == "postgresql":
        assert listener.connected.wait(WAIT_S)
    else:
        with hub.transaction() as s:  # the poller has read the counter once (its baseline)
            signals.announce(s)
        woken.wait()
    yield listener, woken
    listener.stop()


def test_an_announcement_in_another_session_wakes_the_listener(hub, listening) -> None:
    _listener, woken = listening
    with hub.transaction() as s:
        signals.announce(s)
    assert woken.wait()


def test_the_newsroom_after_commit_signal_announces_across_processes(hub, listening) -> None:
    _listener, woken = listening
    with hub.transaction() as s:
        events.fire_after_commit(s, events.item_approved, 1)
        events.fire_after_commit(s, events.item_approved, 2)  # one announcement per transaction
    assert woken.wait()


def test_a_rolled_back_transaction_announces_nothing_on_sqlite(hub) -> None:
    if hub.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL drops a rolled-back NOTIFY by itself")
    with hub.transaction() as s:
        signals.announce(s)
    with hub.transaction() as s:
        before = signals.counter(s)
    with pytest.raises(RuntimeError), hub.transaction() as s:
        signals.announce(s)
        raise RuntimeError("the moderator's action failed")
    with hub.transaction() as s:
        assert signals.counter(s) == before


def test_the_listener_reconnects_after_its_connection_is_terminated(hub, listening, db_url_and_schema) -> None:
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    listener, woken = listening
    pid = listener.backend_pid()
    assert pid is not None
    url, schema = db_url_and_schema
    admin = make_engine(url, schema=schema)
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()
    assert woken.wait()  # the wake-up after reconnecting (a notification may have been missed)
    assert listener.reconnects == 1 and listener.backend_pid() not in (None, pid)
    with hub.transaction() as s:
        signals.announce(s)
    assert woken.wait()


def test_the_listener_connects_with_the_servers_default_search_path(backend) -> None:
    """The default path ('"$user", public') has a space: libpq must get it escaped."""
    from tests.conftest import PG_URL

    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    engine = make_engine(PG_URL)
    woken = Woken()
    listener = signals.Listener(engine, woken)
    listener.start()
    try:
        assert listener.connected.wait(WAIT_S)
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_notify(:c, '')"), {"c": signals.CHANNEL})
        assert woken.wait()
    finally:
        listener.stop()
        engine.dispose()
