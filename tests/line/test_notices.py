"""Volunteers on LINE hear about their items in one daily summary push (quota-aware), never twice."""

from __future__ import annotations

from pathlib import Path

from network_hub.db.models import Member
from network_hub.hub import Hub
from network_hub.line.notices import OFF, send_daily_summaries, set_preference
from network_hub.notifications import NotificationKind, enqueue
from platform_fakes.line import FakeLine
from publishers.line import LinePublisher
from tests.factories import seed_network
from tests.line.conftest import line_settings

USER = "U" + "c3" * 16


async def test_one_summary_a_day_with_reasons_never_repeated(hub: Hub, fake: FakeLine, tmp_path: Path) -> None:
    channel = fake.add_channel(quota=300)
    channel.friends.add(USER)
    publisher = LinePublisher(line_settings(fake, tmp_path, line_channel_access_token=channel.token), clock=hub.clock)
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        s.get(Member, people.reporter.id).line_user_id = USER
        enqueue(s, member_id=people.reporter.id, kind=NotificationKind.ITEM_APPROVED, now=now,
                payload={"receipt_no": "N-1", "title": "งานบุญ"})
        enqueue(s, member_id=people.reporter.id, kind=NotificationKind.ITEM_RETURNED, now=now,
                payload={"receipt_no": "N-2", "title": "ถนนชำรุด", "reason": "ขอภาพที่ชัดขึ้น"})
        enqueue(s, member_id=people.reporter2.id, kind=NotificationKind.ITEM_APPROVED, now=now,
                payload={"receipt_no": "N-3", "title": "ไม่ได้ใช้ LINE"})
    fake.drop_next("push", commit=True)  # sent, answer lost: not marked, tried again
    assert await send_daily_summaries(hub, publisher) == 0
    assert await send_daily_summaries(hub, publisher) == 1
    [summary] = fake.messages_to(USER)
    assert "N-1" in summary.texts[0] and "ขอภาพที่ชัดขึ้น" in summary.texts[0] and "N-3" not in summary.texts[0]
    assert [r.status for r in fake.requests("push")] == [200, 409]  # the same key: one message, one quota
    assert fake.usage(channel) == 1
    assert await send_daily_summaries(hub, publisher) == 0  # nothing new: no push at all
    with hub.transaction() as s:
        enqueue(s, member_id=people.reporter.id, kind=NotificationKind.ITEM_PUBLISHED, now=now,
                payload={"receipt_no": "N-1", "title": "งานบุญ", "permalink": "https://t.me/x/1"})
    assert await send_daily_summaries(hub, publisher) == 1
    latest = fake.messages_to(USER)[-1].texts[0]
    assert "https://t.me/x/1" in latest and "N-2" not in latest
    with hub.transaction() as s:
        set_preference(s, people.reporter.id, OFF, now)
        enqueue(s, member_id=people.reporter.id, kind=NotificationKind.ITEM_REJECTED, now=now,
                payload={"receipt_no": "N-4", "title": "x"})
    assert await send_daily_summaries(hub, publisher) == 0
    await publisher.aclose()
