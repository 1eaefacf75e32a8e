"""Fast in-process tests of the bot's parts: callback data, cards, DM rendering and outcomes,
and the kv_store persistence (on SQLite and, when configured, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot

from network_hub.bot import callbacks
from network_hub.bot.cards import (
    CardView,
    card_text,
    main_keyboard,
    reasons_keyboard,
    schedule_keyboard,
    schedule_slots,
)
from network_hub.bot.notifier import BotNotifier, render_notification
from network_hub.bot.persistence import KvPersistence
from network_hub.db.models import Member, Notification
from network_hub.hub import Hub
from network_hub.notifications import NotificationKind
from network_hub.thai import BANGKOK, utf16_len
from platform_fakes.telegram import FakeTelegram
from tests.factories import seed_network


def _view(**changes: object) -> CardView:
    base = dict(item_id=123456789012, version=999999999, receipt_no="NH-2569-000001", status="submitted",
                village_code="52010101", place="หมู่ที่ 1 บ้านเวียงเหนือ ต.เวียงเหนือ", category="event",
                author="สมศรี <b>ใจดี</b>", title="หัวข้อ <script>", body="หัวข้อ <script>\n" + "ก" * 20000,
                pdpa_flags=("phone_number",), consent={"identifiable_people": True}, photos=())
    base.update(changes)
    return CardView(**base)  # type: ignore[arg-type]


def test_callback_data_round_trips_and_refuses_forgeries() -> None:
    data = callbacks.mod("t", 123456789012, 999999999, 99999999999)
    assert len(data.encode()) <= 64
    assert callbacks.parse_mod(data) == callbacks.ModPress("t", 123456789012, 999999999, 99999999999)
    for forged in ("m:a:1", "m:a:x:1", "m:t:1:1", "m:a:1:1:5", "m:zz:1:1", "d:q:1", "", "m:a:1:1;DROP"):
        assert callbacks.parse_mod(forged) is None, forged
    assert callbacks.parse_delivery("d:p:7") == (True, 7) and callbacks.parse_delivery("d:p:") is None
    with pytest.raises(ValueError):
        callbacks.checked("x" * 65)


def test_card_escapes_text_stays_within_limits_and_buttons_carry_the_version() -> None:
    view = _view()
    text = card_text(view)
    assert "&lt;script&gt;" in text and "<script>" not in text and "&lt;b&gt;" in text
    assert utf16_len(text) < 4096
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    for markup in (main_keyboard(view), schedule_keyboard(view, now, BANGKOK), reasons_keyboard(view, "b"),
                   reasons_keyboard(view, "r")):
        assert markup is not None
        for row in markup.inline_keyboard:
            for button in row:
                assert len(str(button.callback_data).encode()) <= 64
                assert callbacks.parse_mod(str(button.callback_data)).version == view.version  # type: ignore[union-attr]
    assert "ยืนยัน PDPA" in main_keyboard(view).inline_keyboard[0][0].text  # type: ignore[union-attr]
    assert main_keyboard(_view(status="approved")) is None


def test_schedule_slots_are_future_local_publishing_hours() -> None:
    now = datetime(2026, 11, 24, 4, 50, tzinfo=UTC)  # 11:50 in Bangkok: 12:00 is too close
    slots = schedule_slots(now, BANGKOK)
    assert [s.astimezone(BANGKOK).hour for s in slots] == [18, 7, 12, 18]
    assert all(s > now + timedelta(minutes=15) for s in slots)


@pytest.mark.parametrize("language", ["th", "en"])
def test_every_notification_kind_renders_a_short_message(language: str) -> None:
    payloads = {
        NotificationKind.ITEM_PUBLISHED: {"receipt_no": "NH-1", "title": "<x>", "links": [
            {"outlet": "ช่อง", "permalink": "https://t.me/c/1/2?a=1&b=2"}, {"outlet": "sandbox", "permalink": None}]},
        NotificationKind.ITEM_SCHEDULED: {"receipt_no": "NH-1", "title": "t",
                                          "scheduled_at": "2026-11-25T02:00:00+00:00"},
        NotificationKind.ITEM_RETURNED: {"receipt_no": "NH-1", "title": "t", "reason": "เพิ่มรายละเอียด"},
        NotificationKind.REMINDER: {"rule": "pending_approval", "count": 12,
                                    "entries": [{"receipt_no": "NH-1", "title": "t", "hours": 30}] * 10},
        NotificationKind.DIGEST: {"area": "5201", "from": "2026-11-16T01:00:00+00:00",
                                  "to": "2026-11-23T01:00:00+00:00", "totals": {"submitted": 3, "published": 2,
                                                                                "waiting": 1},
                                  "villages": [{"village": "52010101", "submitted": 3, "published": 2,
                                                "waiting": 1}]},
        NotificationKind.DELIVERY_NEEDS_PERSON: {"state": "unknown", "delivery_id": 5, "receipt_no": "NH-1",
                                                 "outlet": "ช่อง"},
    }
    kinds = [v for k, v in vars(NotificationKind).items() if k.isupper()]
    for kind in kinds:
        text, markup = render_notification(kind, payloads.get(kind, {"receipt_no": "NH-1", "title": "t"}),
                                           language, item_id=9)
        assert text.strip() and len(text) < 4096 and "<x>" not in text, kind
        if kind == NotificationKind.ITEM_RETURNED:
            assert markup is not None and markup.inline_keyboard[0][0].callback_data == "rs:9:0"
        if kind == NotificationKind.DELIVERY_NEEDS_PERSON:
            assert markup is not None and {b.callback_data for b in markup.inline_keyboard[0]} == {"d:p:5", "d:n:5"}
    scheduled, _ = render_notification(NotificationKind.ITEM_SCHEDULED, payloads[NotificationKind.ITEM_SCHEDULED], "th")
    assert "25 พฤศจิกายน 2569 เวลา 09.00 น." in scheduled


async def test_notifier_outcomes_against_the_fake(hub: Hub) -> None:
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
    async with FakeTelegram() as tg:
        tg.add_private(1001)  # the reporter started the bot
        tg.add_private(1002, blocked=True)  # reporter2 blocked it; the coordinator (3001) never started it
        bot = Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url)
        await bot.initialize()
        notifier = BotNotifier(hub, lambda: bot)

        async def send(member_id: int) -> str:
            with hub.transaction() as s:
                note = Notification(id=1, member_id=member_id, kind=NotificationKind.ITEM_APPROVED,
                                    payload={"receipt_no": "NH-1", "title": "ข่าว"}, state="pending",
                                    due_at=hub.clock.now(), created_at=hub.clock.now())
                member = s.get(Member, member_id)
            return (await notifier.send(note, member)).state  # type: ignore[arg-type]

        assert await send(people.reporter.id) == "sent"
        assert "ได้รับอนุมัติแล้ว" in (tg.posts(1001)[-1].text or "")
        assert await send(people.reporter2.id) == "unreachable"
        assert await send(people.coordinator.id) == "unreachable"
        tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7)
        with hub.transaction() as s:
            note = Notification(id=2, member_id=people.reporter.id, kind=NotificationKind.REMINDER, payload={},
                                state="pending", due_at=hub.clock.now(), created_at=hub.clock.now())
            member = s.get(Member, people.reporter.id)
        outcome = await notifier.send(note, member)  # type: ignore[arg-type]
        assert outcome.state == "pending" and outcome.retry_after and outcome.retry_after >= 7
        await bot.shutdown()
    with hub.transaction() as s:
        assert s.get(Member, people.reporter2.id).unreachable_since is not None  # type: ignore[union-attr]
        assert s.get(Member, people.coordinator.id).unreachable_since is not None  # type: ignore[union-attr]
        assert s.get(Member, people.reporter.id).unreachable_since is None  # type: ignore[union-attr]


async def test_persistence_round_trips_conversations_and_user_data(hub: Hub) -> None:
    persistence = KvPersistence(hub)
    await persistence.update_conversation("submit_news", (1001, 1001), "add_photos")
    await persistence.update_conversation("submit_news", (1002, 1002), "confirm")
    await persistence.update_user_data(1001, {"draft": {"body": "ข่าว", "photos": ["AgAC"]}})
    fresh = KvPersistence(hub)  # as a restarted process sees it
    assert await fresh.get_conversations("submit_news") == {(1001, 1001): "add_photos", (1002, 1002): "confirm"}
    assert (await fresh.get_user_data())[1001]["draft"]["photos"] == ["AgAC"]
    await fresh.update_conversation("submit_news", (1002, 1002), None)
    await fresh.drop_user_data(1001)
    assert await KvPersistence(hub).get_conversations("submit_news") == {(1001, 1001): "add_photos"}
    assert await KvPersistence(hub).get_user_data() == {}
