"""The dispatcher's serving loop and its wake-ups, on SQLite and PostgreSQL, with the tick set to an
hour so that only a wake-up can start a pass: work announced while a pass runs starts the next pass
at once; work announced while the loop sleeps wakes it; and after the listener's database
connection is killed, an approval from another session is still sent. No timing is asserted: each
wait has a generous upper bound and fails only if the work is never done."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest
from sqlalchemy import select, text

from jobs.dispatch import Dispatcher, PassReport
from network_hub.db.engine import make_engine
from network_hub.db.models import Delivery, Outlet
from network_hub.outbox import signals
from tests.engine.builders import add_approved_item, add_outlet
from tests.engine.memory_publisher import MemoryPublishers
from tests.factories import seed_network

NO_TICK_S = 3600.0  # only a wake-up (or the computed next wake-up) may start a pass
WAIT_S = 30.0  # an upper bound for a slow shared machine; a failure means the work was never done


class Recording(Dispatcher):
    """Records the loop's steps: "pass" (a pass started) and "sleep" (it asked how long to sleep)."""

    def __init__(self, *args, during_pass=None, during_sleep=None, passes=2, done=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.steps: list[str] = []
        self.during_pass, self.during_sleep = during_pass, during_sleep
        self.done = done or (lambda: self.steps.count("pass") >= passes)

    async def run_once(self) -> PassReport:
        self.steps.append("pass")
        report = await super().run_once()
        number = self.steps.count("pass")
        if number == 1 and self.during_pass is not None:
            # The pass has claimed and sent; new work is committed and announced before it returns,
            # from another thread as the listener would, and the pass still has steps to run.
            await asyncio.to_thread(self.during_pass)
            await asyncio.sleep(0)
        if self.done():
            self._stopping = True  # after this pass: what it claimed has been sent and recorded
        return report

    async def _sleep_for(self, interval: float) -> float:
        self.steps.append("sleep")
        seconds = await super()._sleep_for(interval)
        if self.steps.count("sleep") == 1 and self.during_sleep is not None:
            await asyncio.to_thread(self.during_sleep)
        return seconds


@pytest.fixture
def people(hub):
    with hub.transaction() as s:
        return seed_network(s, hub.clock.now())


def approve_and_announce(hub, people) -> int:
    """An approval made elsewhere: the item and its delivery, announced with the same commit."""
    with hub.transaction() as s:
        outlet = s.scalars(select(Outlet)).one()
        item = add_approved_item(s, hub.clock.now(), people.reporter.id, [outlet])
        signals.announce(s)
        return item.id


def sent_items(hub) -> set[int]:
    with hub.transaction() as s:
        return set(s.scalars(select(Delivery.item_id).where(Delivery.state == "sent")))


async def serve(dispatcher: Dispatcher, interval: float = NO_TICK_S) -> None:
    try:
        await asyncio.wait_for(dispatcher.serve(interval), WAIT_S)
    finally:
        dispatcher._stopping = True
        await dispatcher.stop(5)


def make(hub, people, cls: type[Recording] = Recording, **kwargs) -> tuple[Recording, int]:
    """A dispatcher, and an item approved before it starts (its first pass sends it)."""
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now())
        first = add_approved_item(s, hub.clock.now(), people.reporter.id, [outlet]).id
    return cls(hub, MemoryPublishers(), owner="test-worker", rng=random.Random(7), **kwargs), first


def test_work_announced_during_a_pass_starts_the_next_pass_at_once(hub, people) -> None:
    later: list[int] = []
    dispatcher: Recording

    def announce_and_wake() -> None:
        later.append(approve_and_announce(hub, people))
        dispatcher.wake()  # what the listener does when the notification arrives

    dispatcher, first = make(hub, people, during_pass=announce_and_wake)
    asyncio.run(serve(dispatcher))
    # Two passes back to back: the second was not preceded by a sleep (nor by a wait for the tick).
    assert dispatcher.steps == ["pass", "pass"]
    assert sent_items(hub) == {first, later[0]}


def test_work_announced_as_the_loop_goes_to_sleep_wakes_it(hub, people) -> None:
    later: list[int] = []
    dispatcher: Recording

    def announce_and_wake() -> None:
        later.append(approve_and_announce(hub, people))
        dispatcher.wake()

    dispatcher, first = make(hub, people, during_sleep=announce_and_wake)
    asyncio.run(serve(dispatcher))
    assert dispatcher.steps == ["pass", "sleep", "pass"]
    assert sent_items(hub) == {first, later[0]}


def test_an_approval_after_the_listeners_connection_was_killed_is_sent(hub, people, db_url_and_schema) -> None:
    """LISTEN/NOTIFY after a killed connection, end to end: the listener's backend is terminated
    while the hub serves; the listener reconnects and an approval committed in another session
    afterwards wakes the dispatcher, which sends it (the tick is an hour away)."""
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    later: list[int] = []
    dispatcher, first = make(hub, people, done=lambda: bool(later) and later[0] in sent_items(hub))
    listener = signals.Listener(hub.engine, dispatcher.wake)

    async def scenario() -> None:
        serving = asyncio.create_task(serve(dispatcher))
        listener.start()
        try:
            assert await asyncio.to_thread(listener.connected.wait, WAIT_S)
            pid = listener.backend_pid()
            url, schema = db_url_and_schema
            admin = make_engine(url, schema=schema)
            with admin.begin() as conn:
                assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            admin.dispose()
            for _ in range(int(WAIT_S / 0.05)):  # until the listener is back (an upper bound, not a timing)
                if listener.reconnects == 1 and listener.connected.is_set():
                    break
                await asyncio.sleep(0.05)
            assert listener.reconnects == 1 and listener.backend_pid() not in (None, pid)
            later.append(await asyncio.to_thread(approve_and_announce, hub, people))
            await serving
        finally:
            listener.stop()
            if not serving.done():
                serving.cancel()

    asyncio.run(scenario())
    assert sent_items(hub) == {first, later[0]}
    # the first pass, then passes started only by wake-ups (after reconnecting, the approval's NOTIFY)
    assert dispatcher.steps.count("pass") >= 2


def test_the_loop_survives_a_failing_pass_and_is_woken_again(hub, people) -> None:
    """A pass that fails (a lost database, say) is logged; the next wake-up starts another pass."""
    calls = {"n": 0}

    class Failing(Recording):
        async def run_once(self) -> PassReport:
            calls["n"] += 1
            if calls["n"] == 1:
                self.steps.append("pass")
                waking = threading.Thread(target=self.wake)  # work arrives while the pass fails
                waking.start()
                waking.join()
                await asyncio.sleep(0)
                raise RuntimeError("the database went away")
            return await super().run_once()

    dispatcher, first = make(hub, people, cls=Failing, passes=2)
    asyncio.run(serve(dispatcher))
    assert dispatcher.steps == ["pass", "pass"]
    assert sent_items(hub) == {first}


def test_without_any_wake_up_the_loop_looks_again_after_its_interval(hub, people) -> None:
    """The loop needs no scheduler tick: work that nobody announced (a lost signal) is found by
    the next pass, which starts when the interval ends."""
    later: list[int] = []

    def approve_silently() -> None:
        with hub.transaction() as s:
            outlet = s.scalars(select(Outlet)).one()
            later.append(add_approved_item(s, hub.clock.now(), people.reporter.id, [outlet]).id)

    dispatcher, first = make(hub, people, during_sleep=approve_silently)
    asyncio.run(serve(dispatcher, interval=0.05))
    assert dispatcher.steps == ["pass", "sleep", "pass"]
    assert sent_items(hub) == {first, later[0]}
