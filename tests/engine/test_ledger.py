"""The send ledger: sliding windows per Telegram chat and per bot, charged with each post's exact
plan cost, held across processes (two engines = two database sessions racing), on SQLite and
PostgreSQL."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from sqlalchemy import func, select

from jobs.dispatch import Dispatcher
from jobs.plans import PlanCost
from network_hub.db.engine import make_engine, make_session_factory
from network_hub.db.models import Delivery, Outlet, Photo, SendLedger
from network_hub.hub import Hub
from network_hub.outbox import ledger, queries
from tests.conftest import T0
from tests.engine.builders import add_approved_item, add_outlet

LEASE = timedelta(seconds=60)
THREE_PARTS = "ย่อหน้าแรกของข่าว\n\nย่อหน้าที่สอง\n\nย่อหน้าที่สาม"


def window(limit: int = 20, seconds: float = 60.0, slack: float = 0.5) -> ledger.Window:
    return ledger.Window("telegram:chat:-1001", limit, seconds, slack)


# -- the window arithmetic (pure) --------------------------------------------------------------
def test_room_now_when_the_window_has_space() -> None:
    state = ledger.ScopeState([ledger.Entry(T0 - timedelta(seconds=10), 17, False)])
    assert state.room_at(window(), 3, T0) == T0


def test_room_when_the_oldest_charges_leave_the_window() -> None:
    old, newer = T0 - timedelta(seconds=50), T0 - timedelta(seconds=20)
    state = ledger.ScopeState([ledger.Entry(old, 10, False), ledger.Entry(newer, 9, False)])
    # 19 used + 3 = 22 > 20: the 10 charged 50 s ago must leave first (at old + 60.5 s)
    assert state.room_at(window(), 3, T0) == old + timedelta(seconds=60.5)


def test_charges_older_than_the_window_and_slack_do_not_count() -> None:
    state = ledger.ScopeState([ledger.Entry(T0 - timedelta(seconds=60.6), 20, False)])
    assert state.room_at(window(), 20, T0) == T0


def test_a_post_in_flight_counts_until_its_outcome() -> None:
    state = ledger.ScopeState([ledger.Entry(T0 - timedelta(seconds=600), 19, True)])
    assert state.room_at(window(), 2, T0) is None  # only the outcome can make room
    assert state.room_at(window(), 1, T0) == T0


def test_a_post_larger_than_the_window_goes_alone_into_an_empty_one() -> None:
    assert ledger.ScopeState().room_at(window(limit=5), 9, T0) == T0
    busy = ledger.ScopeState([ledger.Entry(T0 - timedelta(seconds=1), 1, False)])
    assert busy.room_at(window(limit=5), 9, T0) == T0 - timedelta(seconds=1) + timedelta(seconds=60.5)


def test_limits_are_per_platform_and_can_be_turned_off() -> None:
    limits = ledger.RateLimits()
    scopes = [w.scope for w in ledger.windows_for(limits, "telegram", "-1001")]
    assert scopes == ["telegram:chat:-1001", "telegram:bot"]
    assert ledger.windows_for(limits, "facebook", "123456") == []
    assert ledger.windows_for(ledger.RateLimits(telegram_chat_per_window=0, telegram_bot_per_second=0),
                              "telegram", "-1001") == []


# -- the claim charges the plan ------------------------------------------------------------------
def claim(hub, pubs, *, owner: str = "w", limit: int = 20) -> list[queries.Claim]:
    with hub.transaction() as s:
        return queries.claim_due(s, owner=owner, now=hub.clock.now(), lease=LEASE, limit=limit,
                                 limits=ledger.RateLimits(), cost=PlanCost(pubs, hub.settings.resolved_media_dir,
                                                                           hub.clock))


def charges(hub) -> list[tuple[str, int]]:
    with hub.transaction() as s:
        return [(r.scope, r.messages) for r in s.scalars(select(SendLedger).order_by(SendLedger.id))]


async def test_the_claim_charges_exactly_the_post_plan(hub, net, pubs) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        tg = add_outlet(s, now, platform="telegram", address="-1001")
        item = add_approved_item(s, now, net.reporter.id, [tg], body=THREE_PARTS)
        for pos in range(2):
            s.add(Photo(item_id=item.id, position=pos, sha256=f"{pos:064d}", path=f"p{pos}.jpg", width=1,
                        height=1, size_bytes=1, created_at=now))
    [c] = claim(hub, pubs)
    # an album of 2 (two messages) and three text parts: 5, not max(1, photos) = 2
    assert charges(hub) == [("telegram:chat:-1001", 5), ("telegram:bot", 5)]
    with hub.transaction() as s:
        assert s.scalar(select(SendLedger.fence).limit(1)) == c.fence


async def test_a_chat_never_gets_more_than_20_messages_in_any_minute(hub, net, pubs) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        tg = add_outlet(s, now, platform="telegram", address="-1001")
        for _ in range(10):
            add_approved_item(s, now, net.reporter.id, [tg], body=THREE_PARTS)
    dispatcher = Dispatcher(hub, pubs, owner="w", rng=random.Random(1))
    await dispatcher.run_once()
    # six posts of three messages fit (18); the seventh would make 21
    assert len(pubs.get("telegram").messages["-1001"]) == 18
    with hub.transaction() as s:
        waiting = s.get(Outlet, tg.id).next_allowed_at
        assert s.scalar(select(func.count()).where(Delivery.state == "sent")) == 6
    assert waiting == now + timedelta(seconds=60.5)  # when the first charges leave the window
    with hub.transaction() as s:  # each sent post's charge closed with its outcome (PostgreSQL: same statement)
        assert s.scalars(select(SendLedger.delivery_id).where(SendLedger.open.is_(True))).all() == []
        assert s.scalar(select(func.count()).select_from(SendLedger)) == 12  # 6 posts × (chat, bot)
    hub.clock.set(now + timedelta(seconds=30))
    assert (await dispatcher.run_once()).claimed == 0
    hub.clock.set(waiting)
    await dispatcher.run_once()
    assert len(pubs.get("telegram").messages["-1001"]) == 30  # 18 + the next 12 as the window slides
    with hub.transaction() as s:
        assert ledger.recent_messages(s, "telegram:chat:-1001", hub.clock.now(), 60.0) <= 20


async def test_a_definite_refusal_refunds_what_was_not_sent(hub, net, pubs) -> None:
    from publishers.base import ErrorClass, PublishError

    now = hub.clock.now()
    with hub.transaction() as s:
        tg = add_outlet(s, now, platform="telegram", address="-1001")
        add_approved_item(s, now, net.reporter.id, [tg], body=THREE_PARTS)
    pubs.get("telegram").fail_calls[1] = PublishError(ErrorClass.RATE_LIMITED, "flood", retry_after=5)
    await Dispatcher(hub, pubs, owner="w", rng=random.Random(1)).run_once()
    assert charges(hub) == [("telegram:chat:-1001", 1), ("telegram:bot", 1)]  # 1 of 3 went out


# -- across processes -------------------------------------------------------------------------------
def _second_hub(hub: Hub, db_url_and_schema) -> Hub:
    url, schema = db_url_and_schema
    engine = make_engine(url, schema=schema)
    return Hub(settings=hub.settings, engine=engine, sessions=make_session_factory(engine), clock=hub.clock)


def test_two_processes_share_the_bot_and_chat_windows(hub, net, pubs, db_url_and_schema, monkeypatch) -> None:
    """25 channels × 2 one-message posts are due at once; two workers on their own database
    connections claim at the same moment. Together they may charge the bot 30 messages in its
    one-second window, never more, and no chat more than 20 a minute.

    Each worker pauses after reading the ledger until the other has read it too (or a second has
    passed): without the lock on the shared scope both would see an empty window and charge 30 each.
    """
    read_together = threading.Barrier(2)
    real_load = ledger.load

    def load_then_wait(*args, **kwargs):
        rows = real_load(*args, **kwargs)
        try:
            read_together.wait(timeout=1.0)
        except threading.BrokenBarrierError:
            read_together.reset()
        return rows

    monkeypatch.setattr(ledger, "load", load_then_wait)
    now = hub.clock.now()
    with hub.transaction() as s:
        outlets = [add_outlet(s, now, platform="telegram", address=f"-100{n:04d}") for n in range(25)]
        for outlet in outlets:
            for _ in range(2):
                add_approved_item(s, now, net.reporter.id, [outlet])
    other = _second_hub(hub, db_url_and_schema)
    claimed: dict[str, int] = {"a": 0, "b": 0}
    start = threading.Barrier(2)

    def worker(h: Hub, name: str) -> None:
        start.wait()
        for _ in range(3):
            claimed[name] += len(claim(h, pubs, owner=name, limit=20))

    threads = [threading.Thread(target=worker, args=(h, n)) for h, n in ((hub, "a"), (other, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.close()
    assert claimed["a"] + claimed["b"] == 30
    with hub.transaction() as s:
        assert ledger.recent_messages(s, "telegram:bot", now, 1.0) == 30
        per_chat = s.execute(select(SendLedger.scope, func.sum(SendLedger.messages))
                             .where(SendLedger.scope != "telegram:bot").group_by(SendLedger.scope)).all()
        assert max(total for _, total in per_chat) <= 20
        assert s.scalar(select(func.count()).where(Delivery.state == "claimed")) == 30
