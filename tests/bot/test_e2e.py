"""End to end: simulated people on the loopback Telegram fake, the real ``network-hub run`` process.

Each test tells one story from the issue; the transcripts of the chats can be kept with
``BOT_TRANSCRIPT_DIR=<folder>``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from network_hub.db.models import Area, Delivery, Member, Notification, RoleGrant
from network_hub.followup.planner import plan_reminders
from network_hub.followup.rules import Thresholds
from network_hub.permissions import system_actor
from network_hub.roster.invites import create_invite
from network_hub.states import ItemStatus
from platform_fakes.telegram_users import SimulatedUser, jpeg
from tests.bot.conftest import CHANNEL, MOD_GROUP, BotWorld

RECEIPT = re.compile(r"NH-\d{4}-\d{6}")


def invite(bw: BotWorld, role: str, area: str, **kwargs: object) -> str:
    with bw.hub.transaction() as s:
        return create_invite(s, role=role, area_code=area, now=bw.hub.clock.now(), actor=system_actor(),
                             **kwargs).code  # type: ignore[arg-type]


def send_news(user: SimulatedUser, *, category: str, text: str, photos: list[bytes] | None = None,
              album: bool = True, village: str | None = None, children: bool = False,
              people: bool = False, consent: bool = True) -> str:
    """Walk /news to the receipt number, pressing what a reporter presses."""
    start = user.mark()
    user.command("/news")
    if village is not None:
        user.press(user.wait_for_button(village, after=start), village)
    user.press(user.wait_for_button(category, after=start), category)
    asked = user.wait_for_text("พิมพ์ข่าว", after=start)
    user.text(text)
    photo_prompt = user.wait_for_button("ไม่มีภาพ", after=asked.message_id)
    if photos:
        user.photos(photos, album=album)
        user.wait_for_text(f"ได้รับภาพแล้ว {len(photos)} ภาพ", after=photo_prompt.message_id)
        user.press(user.wait_for_button("เสร็จแล้ว", after=photo_prompt.message_id), "เสร็จแล้ว")
        q = user.wait_for_text("มีเด็ก", after=photo_prompt.message_id)
        user.press(q, "ใช่" if children else "ไม่ใช่")
        q = user.wait_for_text("เห็นหน้าบุคคล", after=q.message_id)
        user.press(q, "ใช่" if people else "ไม่ใช่")
        if children or people:
            q = user.wait_for_text("ยินยอม", after=q.message_id)
            user.press(q, "ใช่" if consent else "ไม่ใช่")
    else:
        user.press(photo_prompt, "ไม่มีภาพ")
    confirm = user.wait_for_button("ส่งข่าว", after=photo_prompt.message_id)
    user.press(confirm, "ส่งข่าว")
    receipt = user.wait_for_text("เลขที่รับ", after=confirm.message_id)
    match = RECEIPT.search(receipt.text or "")
    assert match, receipt.text
    return match.group(0)


def test_join_submit_album_approve_post_once_and_link(bot_world: BotWorld) -> None:
    bw = bot_world
    malee = bw.world.user(7001, "มาลี")
    moderator = bw.world.user(bw.people.moderator.telegram_user_id, "ประเสริฐ")  # type: ignore[arg-type]

    # Not a member yet: /news explains how to join; an unknown code is explained kindly.
    malee.command("/news")
    malee.wait_for_text("ขอลิงก์เชิญ")
    malee.command("/start", "NoSuchCode123")
    malee.wait_for_text("ไม่พบรหัสเชิญนี้")

    code = invite(bw, "reporter", "52010101")
    malee.command("/start", code)
    welcome = malee.wait_for_text("ยินดีต้อนรับ")
    assert "ข้อมูลที่เราเก็บ" in (welcome.text or "") and "/news" in (welcome.text or "")

    body = "ประชุมประจำเดือนหมู่บ้านเวียงเหนือ\nวันนี้ชาวบ้านร่วมกันทำความสะอาดลำเหมืองและปลูกต้นไม้ริมทาง 50 ต้น"
    receipt = send_news(malee, category="ผลการพัฒนา", text=body, photos=[jpeg(), jpeg(colour=(200, 40, 40)),
                                                                      jpeg(colour=(40, 200, 40))],
                        people=True, consent=True)
    preview = malee.wait_for_text("ตัวอย่างข่าว")
    album = [m for m in malee.inbox() if m.photo and m.message_id > preview.message_id]
    assert len(album) == 3 and "ประชุมประจำเดือน" in (album[0].caption or "")

    card = bw.card_of(receipt, moderator)
    assert "หมู่ที่ 1 บ้านเวียงเหนือ" in (card.text or "") and "ภาพ 3 ภาพ" in (card.text or "")
    group_photos = [m for m in bw.world.bot_messages(MOD_GROUP) if m.photo]
    assert len(group_photos) >= 3
    press = moderator.press(card, "อนุมัติทันที")
    assert "อนุมัติแล้ว" in moderator.wait_for_answer(press).get("text", "")

    posts = bw.wait_until(lambda: [m for m in bw.world.bot_messages(CHANNEL)
                                   if receipt in (m.caption or m.text or "")], "the post in the channel", 20)
    published = malee.wait_for_text(f"({receipt}) เผยแพร่แล้ว", timeout=25)
    assert "https://t.me/c/1111111111/" in (published.text or "")
    channel_album = [m for m in bw.world.bot_messages(CHANNEL) if m.media_group_id == posts[0].media_group_id]
    assert len(channel_album) == 3  # exactly once: one album of three photos
    assert bw.item(receipt).status == ItemStatus.PUBLISHED
    final_card = bw.wait_until(lambda: next((m for m in bw.world.bot_messages(MOD_GROUP)
                                             if m.message_id == card.message_id and "โดย" in (m.text or "")), None),
                               "the card to show the decision")
    assert "ประเสริฐ ตรวจดี" in (final_card.text or "") and final_card.reply_markup is None
    bw.save_transcript("join_submit_approve", {"มาลี (แชทส่วนตัวกับบอท)": malee.id,
                                               "กลุ่มผู้ดูแล": MOD_GROUP, "ช่องข่าว (ประชาชน)": CHANNEL})
