"""Moderation cards when Telegram misbehaves: a group that became a supergroup, a bot removed from
the group, a 429. Nothing is lost, nothing is posted twice (in-process, against the loopback fake)."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot

from network_hub.bot.moderate import CardSync
from network_hub.db.models import Area
from network_hub.hub import Hub
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import load_actor
from platform_fakes.telegram import FakeTelegram
from tests.factories import seed_network

OLD, NEW = -4001, -1004001


def _submit(hub: Hub, text: str) -> str:
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now()) if s.get(Area, "520101") is None else None
        author = people.reporter.id if people else 1
        item = submit_item(s, actor=load_actor(s, author), author_id=author, village_code="52010101",
                           category="event", body=text, now=hub.clock.now(), media_dir=hub.settings.resolved_media_dir)
        s.get(Area, "520101").moderation_chat_id = OLD  # type: ignore[union-attr]
        return item.receipt_no


def _cards(tg: FakeTelegram, chat: int, receipt: str) -> int:
    return sum(1 for m in tg.posts(chat) if f"ข่าวรอพิจารณา {receipt}" in (m.text or ""))


async def test_cards_survive_migration_removal_and_rate_limits(hub: Hub) -> None:
    async with FakeTelegram() as tg:
        tg.add_group(OLD, supergroup=False)
        bot = Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url)
        await bot.initialize()
        sync = CardSync(hub, lambda: bot)

        first = _submit(hub, "ข่าวแรก\nทดสอบการย้ายกลุ่ม")
        tg.migrate_chat(OLD, NEW)
        await sync.run_once()
        assert _cards(tg, NEW, first) == 1
        with hub.transaction() as s:
            assert s.get(Area, "520101").moderation_chat_id == NEW  # type: ignore[union-attr]

        second = _submit(hub, "ข่าวที่สอง\nบอทถูกนำออกจากกลุ่ม")
        with hub.transaction() as s:
            s.get(Area, "520101").moderation_chat_id = NEW  # type: ignore[union-attr]
        tg.set_bot_rights(NEW, status="kicked")
        await sync.run_once()
        assert _cards(tg, NEW, second) == 0
        tg.set_bot_rights(NEW, status="member")
        await sync.run_once()
        assert _cards(tg, NEW, second) == 0  # waits for its retry time, no hammering
        hub.clock.set(hub.clock.now() + timedelta(minutes=11))  # type: ignore[attr-defined]
        await sync.run_once()
        assert _cards(tg, NEW, second) == 1

        third = _submit(hub, "ข่าวที่สาม\nโดนจำกัดความถี่")
        with hub.transaction() as s:
            s.get(Area, "520101").moderation_chat_id = NEW  # type: ignore[union-attr]
        tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 5", retry_after=5)
        await sync.run_once()
        assert _cards(tg, NEW, third) == 0
        hub.clock.set(hub.clock.now() + timedelta(seconds=6))  # type: ignore[attr-defined]
        await sync.run_once()
        await sync.run_once()
        assert [_cards(tg, NEW, r) for r in (first, second, third)] == [1, 1, 1]
        await bot.shutdown()
