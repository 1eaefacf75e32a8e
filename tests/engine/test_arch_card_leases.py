"""Moderation cards on the hub's one lease primitive (outbox.leasing via outbox.card_leases): two
card syncs never work on one card at once, a card whose worker died is taken over after its
lease, the dead worker's late outcome writes nothing, a refused post waits in the database (a
new process honours it), and a 429 hands the other leased cards back at once. Against the
loopback Telegram fake, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram import Bot

from network_hub.bot.moderate import CardSync
from network_hub.db.models import Area, KeyValue, NewsItem
from network_hub.hub import Hub
from network_hub.newsroom.submission import submit_item
from network_hub.outbox import card_leases, leasing
from network_hub.permissions import load_actor
from platform_fakes.telegram import FakeTelegram
from tests.factories import seed_network

GROUP = -1004002


def _submit(hub: Hub, text: str, *, chat: int | None = GROUP) -> tuple[int, str]:
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now()) if s.get(Area, "520101") is None else None
        author = people.reporter.id if people else 1
        item = submit_item(s, actor=load_actor(s, author), author_id=author, village_code="52010101",
                           category="event", body=text, now=hub.clock.now(), media_dir=hub.settings.resolved_media_dir)
        s.get(Area, "520101").moderation_chat_id = chat  # type: ignore[union-attr]
        return item.id, item.receipt_no


def _cards(tg: FakeTelegram, receipt: str) -> int:
    return sum(1 for m in tg.posts(GROUP) if f"ข่าวรอพิจารณา {receipt}" in (m.text or ""))


@pytest.fixture
async def tg_bot():
    async with FakeTelegram() as tg:
        tg.add_group(GROUP, supergroup=True)
        bot = Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url)
        await bot.initialize()
        yield tg, bot
        await bot.shutdown()


async def test_a_leased_card_is_left_alone_then_taken_over_and_the_late_outcome_writes_nothing(hub, tg_bot) -> None:
    tg, bot = tg_bot
    item_id, receipt = _submit(hub, "ข่าวที่กำลังโพสต์การ์ด\nกระบวนการแรกค้าง")
    with hub.transaction() as s:  # process A leases the card, then stops before posting it
        [held] = card_leases.claim(s, now=hub.clock.now(), limit=5, owner="A")
    assert held.item_id == item_id and held.work == "post"

    second = CardSync(hub, lambda: bot, owner="B")
    await second.run_once()
    assert _cards(tg, receipt) == 0  # A's lease holds: B does not touch the card

    hub.clock.advance(seconds=card_leases.TTL.total_seconds() + 1)
    await second.run_once()
    assert _cards(tg, receipt) == 1  # B took the card over once A's lease ended
    await second.run_once()
    assert _cards(tg, receipt) == 1  # and posted it once

    with hub.transaction() as s:  # A comes back with its outcome: refused by the fence
        assert not card_leases.save(s, item_id, held.token, {"message_id": 999}, hub.clock.now())
        assert not card_leases.drop(s, item_id, held.token)
        record = card_leases.record_of(s, item_id)
    assert record is not None and record["message_id"] == tg.posts(GROUP)[-1].message_id


async def test_a_refused_card_waits_in_the_database_for_a_new_process_too(hub, tg_bot) -> None:
    tg, bot = tg_bot
    item_id, receipt = _submit(hub, "ข่าวที่ยังไม่มีกลุ่มผู้ตรวจ\nรอการตั้งค่า", chat=None)
    await CardSync(hub, lambda: bot).run_once()  # no moderators' group: waits RETRY_NO_CHAT
    with hub.transaction() as s:
        s.get(Area, "520101").moderation_chat_id = GROUP  # type: ignore[union-attr]
        waiting = s.get(KeyValue, (card_leases.CARD_NS, str(item_id)))
        assert waiting is not None and waiting.expires_at is not None and waiting.expires_at > hub.clock.now()
    restarted = CardSync(hub, lambda: bot)  # another process: nothing in memory
    await restarted.run_once()
    assert _cards(tg, receipt) == 0
    hub.clock.advance(minutes=6)
    await restarted.run_once()
    assert _cards(tg, receipt) == 1


async def test_a_429_hands_the_other_leased_cards_back_at_once(hub, tg_bot) -> None:
    tg, bot = tg_bot
    receipts = [_submit(hub, f"ข่าวชุดที่ {n}\nโดนจำกัดความถี่")[1] for n in range(3)]
    sync = CardSync(hub, lambda: bot, batch=3)
    tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 5", retry_after=5)
    await sync.run_once()
    assert [_cards(tg, r) for r in receipts] == [0, 0, 0]
    with hub.transaction() as s:
        leased = s.scalars(select(KeyValue.expires_at).where(KeyValue.namespace == card_leases.CARD_NS)).all()
    # The refused card waits Telegram's 5 s; the two behind it are free, not held for the lease's minutes.
    assert sorted(e is None for e in leased) == [False, True, True]
    hub.clock.advance(seconds=6)
    await sync.run_once()
    assert [_cards(tg, r) for r in receipts] == [1, 1, 1]


async def test_a_card_decided_before_it_was_posted_is_dropped_without_a_post(hub, tg_bot) -> None:
    tg, bot = tg_bot
    item_id, receipt = _submit(hub, "ข่าวที่ถูกตัดสินก่อนโพสต์การ์ด\nจากหน้าเว็บ")
    with hub.transaction() as s:
        card_leases.enqueue_new(s, hub.clock.now())
        item = s.get(NewsItem, item_id)
        item.status, item.version = "rejected", item.version + 1  # decided on the web meanwhile
    await CardSync(hub, lambda: bot).run_once()
    assert _cards(tg, receipt) == 0
    with hub.transaction() as s:
        assert card_leases.record_of(s, item_id) is None


def test_until_is_fence_leases_stamp_strictly_later_tokens_and_skip_waiting_rows(hub) -> None:
    kv = KeyValue.__table__
    now = hub.clock.now()
    with hub.transaction() as s:
        s.add_all([KeyValue(namespace="arch_test", key=k, value={}, updated_at=now) for k in ("1", "2")])
        s.add(KeyValue(namespace="arch_test", key="3", value={}, expires_at=now + timedelta(minutes=1),
                       updated_at=now))  # waiting (a retry time)

    def take(at, ttl=timedelta(seconds=10)):
        with hub.transaction() as s:
            return leasing.lease(s, kv, eligible=kv.c.namespace == "arch_test", order_by=[kv.c.key], limit=5,
                                 owner="x", now=at, ttl=ttl, returning=[kv.c.key, kv.c.expires_at],
                                 columns=card_leases.COLUMNS)

    first = take(now)
    assert [k for k, _ in first] == ["1", "2"]  # the waiting row is not eligible
    assert take(now + timedelta(seconds=5)) == []  # all held
    second = take(now + timedelta(seconds=10))  # the lease ended exactly now: taken over
    assert [k for k, _ in second] == ["1", "2"] and all(b > a for (_, a), (_, b) in zip(first, second, strict=True))
    with hub.transaction() as s:
        stale = s.execute(kv.update().where(kv.c.key == "1", leasing.held(kv, first[0][1], card_leases.COLUMNS))
                          .values(value={"stale": True})).rowcount
    assert stale == 0
    with pytest.raises(ValueError):
        take(now, ttl=timedelta(0))
