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
from tests.photo_checks.waiting import wait_for_photo_checks

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
    wait_for_photo_checks(bw.hub.settings.resolved_database_url)  # issue 16: approval waits for the photo checks
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


def test_return_edit_resubmit_then_approve_with_a_double_press(bot_world: BotWorld) -> None:
    bw = bot_world
    somsri = bw.world.user(bw.people.reporter.telegram_user_id, "สมศรี")  # type: ignore[arg-type]
    moderator = bw.world.user(bw.people.moderator.telegram_user_id, "ประเสริฐ")  # type: ignore[arg-type]
    receipt = send_news(somsri, category="กิจกรรม", text="งานบุญตานก๋วยสลาก\nวัดเวียงเหนือจัดงานวันเสาร์นี้")
    card = bw.card_of(receipt, moderator)
    moderator.press(card, "ส่งกลับแก้ไข")
    reasons = bw.wait_until(lambda: next((m for m in bw.world.bot_messages(MOD_GROUP)
                                          if m.message_id == card.message_id and "เพิ่มรายละเอียด" in str(m.reply_markup)),
                                         None), "the return reasons")
    moderator.press(reasons, "กรุณาเพิ่มรายละเอียด")
    returned = somsri.wait_for_text(f"({receipt}) ถูกส่งกลับให้แก้ไข", timeout=25)
    assert "ใคร ทำอะไร ที่ไหน เมื่อไร" in (returned.text or "")
    assert bw.item(receipt).status == ItemStatus.CHANGES_REQUESTED

    somsri.press(returned, "แก้ไขและส่งใหม่")
    ask = somsri.wait_for_text("พิมพ์ข้อความข่าวใหม่", after=returned.message_id)
    somsri.text("งานบุญตานก๋วยสลาก\nวัดเวียงเหนือจัดงานวันเสาร์ที่ 28 พ.ย. เวลา 09.00 น. ทุกคนร่วมทำบุญได้")
    confirm = somsri.wait_for_button("ส่งข่าว", after=ask.message_id)
    somsri.press(confirm, "ส่งข่าว")
    somsri.wait_for_text(f"ส่งข่าว {receipt} ที่แก้ไขแล้ว", after=confirm.message_id)
    assert bw.item(receipt).status == ItemStatus.SUBMITTED

    new_card = bw.card_of(receipt, moderator, after=card.message_id)
    assert "28 พ.ย." in (new_card.text or "")
    approve = next(b["callback_data"] for row in new_card.reply_markup["inline_keyboard"]  # type: ignore[index]
                   for b in row if "อนุมัติ" in b["text"])
    first = moderator.press_data(new_card, approve, label="✅ อนุมัติทันที")
    second = moderator.press_data(new_card, approve, label="✅ อนุมัติทันที (กดซ้ำ)")
    answers = {moderator.wait_for_answer(first).get("text", ""), moderator.wait_for_answer(second).get("text", "")}
    assert any("บันทึกแล้ว" in a for a in answers) and any("ถูกเปลี่ยนแปลงไปแล้ว" in a for a in answers), answers

    somsri.wait_for_text(f"({receipt}) เผยแพร่แล้ว", timeout=25)
    assert len([m for m in bw.world.bot_messages(CHANNEL) if receipt in (m.text or m.caption or "")]) == 1
    bw.save_transcript("return_resubmit_approve", {"สมศรี (แชทส่วนตัวกับบอท)": somsri.id, "กลุ่มผู้ดูแล": MOD_GROUP})


def test_reject_with_typed_reason_and_refused_presses(bot_world: BotWorld) -> None:
    bw = bot_world
    boonmee = bw.world.user(bw.people.reporter2.telegram_user_id, "บุญมี")  # type: ignore[arg-type]
    moderator = bw.world.user(bw.people.moderator.telegram_user_id, "ประเสริฐ")  # type: ignore[arg-type]
    outsider = bw.world.user(bw.people.outsider.telegram_user_id, "คนนอก")  # type: ignore[arg-type]
    stranger = bw.world.user(990001, "ไม่รู้จัก")
    receipt = send_news(boonmee, category="ประชาสัมพันธ์", text="ขายของ\nโทร 081-234-5678 ติดต่อได้เลย")
    card = bw.card_of(receipt, moderator)
    assert "หมายเลขโทรศัพท์" in (card.text or "")  # the PDPA flag is on the card
    item = bw.item(receipt)

    refused = [
        (outsider, card, "ยืนยัน PDPA และอนุมัติ", "ไม่มีสิทธิ์"),  # a moderator of another province
        (stranger, card, "ยืนยัน PDPA และอนุมัติ", "ยังไม่ได้เป็นสมาชิก"),  # not a member at all
    ]
    for person, message, label, expected in refused:
        press = person.press(message, label)
        assert expected in person.wait_for_answer(press).get("text", "")
    forged = {
        f"m:a:{item.id}:{item.version + 7}": "ถูกเปลี่ยนแปลงไปแล้ว",  # a version the card never had
        "m:a:999999:1": "ไม่พบข่าว",
        "m:zz:1:1": "ปุ่มนี้ใช้ไม่ได้",
        "d:p:999999": "ไม่พบรายการส่ง",
        "x" * 64: "ปุ่มนี้ใช้ไม่ได้",
    }
    for data, expected in forged.items():
        press = moderator.press_data(card, data)
        assert expected in moderator.wait_for_answer(press).get("text", ""), data
    assert bw.item(receipt).version == item.version and bw.item(receipt).status == ItemStatus.SUBMITTED

    moderator.press(card, "ไม่อนุมัติ")
    menu = bw.wait_until(lambda: next((m for m in bw.world.bot_messages(MOD_GROUP)
                                       if m.message_id == card.message_id and "พิมพ์เหตุผลเอง" in str(m.reply_markup)),
                                      None), "the reject reasons")
    moderator.press(menu, "พิมพ์เหตุผลเอง")
    prompt = moderator.wait_for_text("ตอบข้อความนี้ด้วยเหตุผล", chat_id=MOD_GROUP, after=card.message_id)
    moderator.text("เป็นโฆษณาขายของส่วนตัว ไม่ใช่ข่าวของหมู่บ้าน", chat_id=MOD_GROUP, reply_to=prompt.message_id)
    moderator.wait_for_text("บันทึกแล้ว: ไม่อนุมัติ", chat_id=MOD_GROUP, after=prompt.message_id)
    rejected = boonmee.wait_for_text(f"({receipt}) ไม่ได้รับอนุมัติ", timeout=25)
    assert "โฆษณาขายของส่วนตัว" in (rejected.text or "")
    assert bw.item(receipt).status == ItemStatus.REJECTED
    assert not [m for m in bw.world.bot_messages(CHANNEL) if receipt in (m.text or m.caption or "")]
    bw.save_transcript("reject_refused_presses", {"บุญมี (แชทส่วนตัวกับบอท)": boonmee.id, "กลุ่มผู้ดูแล": MOD_GROUP})


def test_a_submission_survives_a_killed_hub(bot_world: BotWorld) -> None:
    bw = bot_world
    with bw.hub.transaction() as s:
        member = Member(name="ทองดี มีสุข", telegram_user_id=7002, language="th", status="active",
                        created_at=bw.hub.clock.now(), updated_at=bw.hub.clock.now())
        s.add(member)
        s.flush()
        s.add(RoleGrant(member_id=member.id, role="reporter", area_code="520101", created_at=bw.hub.clock.now()))
    thongdee = bw.world.user(7002, "ทองดี")
    start = thongdee.mark()
    thongdee.command("/news")
    thongdee.press(thongdee.wait_for_button("บ้านป่าขาม", after=start), "บ้านป่าขาม")  # two villages: asked
    thongdee.press(thongdee.wait_for_button("ผลิตภัณฑ์ชุมชน", after=start), "ผลิตภัณฑ์ชุมชน")
    asked = thongdee.wait_for_text("พิมพ์ข่าว", after=start)
    thongdee.text("ผ้าทอมือบ้านป่าขาม\nกลุ่มแม่บ้านทอผ้าลายใหม่ส่งขายงาน OTOP")
    thongdee.wait_for_button("ไม่มีภาพ", after=asked.message_id)

    bw.kill_hub()  # kill -9 in the middle of the conversation
    bw.start_hub()  # a new process takes the polling lease once the dead one's runs out

    before = thongdee.mark()
    thongdee.photos([jpeg(colour=(120, 60, 10))])
    thongdee.wait_for_text("ได้รับภาพแล้ว 1 ภาพ", after=before)
    thongdee.press(thongdee.wait_for_button("เสร็จแล้ว", after=before), "เสร็จแล้ว")
    q = thongdee.wait_for_text("มีเด็ก", after=before)
    thongdee.press(q, "ไม่ใช่")
    q = thongdee.wait_for_text("เห็นหน้าบุคคล", after=q.message_id)
    thongdee.press(q, "ไม่ใช่")
    confirm = thongdee.wait_for_button("ส่งข่าว", after=q.message_id)
    thongdee.press(confirm, "ส่งข่าว")
    receipt_message = thongdee.wait_for_text("เลขที่รับ", after=confirm.message_id)
    receipt = RECEIPT.search(receipt_message.text or "").group(0)  # type: ignore[union-attr]
    item = bw.item(receipt)
    assert item.village_code == "52010102" and item.category == "local_product"
    assert item.body.startswith("ผ้าทอมือบ้านป่าขาม") and len(item.photos) == 1
    bw.save_transcript("restart_mid_submission", {"ทองดี (แชทส่วนตัวกับบอท)": thongdee.id})


def test_reminder_dm_and_an_unreachable_coordinator(bot_world: BotWorld) -> None:
    bw = bot_world
    with bw.hub.transaction() as s:
        now = bw.hub.clock.now()
        member = Member(name="จันทร์เพ็ญ หัวเวียง", telegram_user_id=7003, language="th", status="active",
                        created_at=now, updated_at=now)
        s.add(member)
        s.flush()
        s.add(RoleGrant(member_id=member.id, role="reporter", area_code="52010201", created_at=now))
        # Village 52010201 has been quiet for 30 days: its reporter is nudged, the district's
        # coordinator (who never started the bot) gets the escalation.
        s.execute(update(Area).where(Area.code == "52010201").values(created_at=now - timedelta(days=30)))
        plan_reminders(s, now, Thresholds.from_settings(bw.hub.settings))
        coordinator_id = bw.people.coordinator.id
    chan = bw.world.user(7003, "จันทร์เพ็ญ")
    nudge = chan.wait_for_text("ยังไม่มีข่าวมา 30 วันแล้ว", timeout=20)
    assert "/news" in (nudge.text or "")

    def coordinator_unreachable() -> bool:
        with bw.hub.transaction() as s:
            member = s.get(Member, coordinator_id)
            notes = list(s.scalars(select(Notification).where(Notification.member_id == coordinator_id)))
            return member.unreachable_since is not None and bool(notes) and all(
                n.state == "unreachable" for n in notes)

    bw.wait_until(coordinator_unreachable, "the coordinator to be marked unreachable", 20)
    sends = [c for c in bw.tg.calls("sendMessage") if str(c.params.get("chat_id")) == "3001"]
    assert len(sends) == 1  # tried once, then no more: the member is unreachable
    bw.save_transcript("reminder", {"จันทร์เพ็ญ (แชทส่วนตัวกับบอท)": chan.id})


def test_unknown_delivery_is_settled_by_a_moderator(bot_world: BotWorld) -> None:
    bw = bot_world
    moderator = bw.world.user(bw.people.moderator.telegram_user_id, "ประเสริฐ")  # type: ignore[arg-type]
    somsri = bw.world.user(bw.people.reporter.telegram_user_id, "สมศรี")  # type: ignore[arg-type]
    receipt = send_news(somsri, category="ประชาสัมพันธ์", text="ประกาศปิดถนน\nซ่อมถนนสายหลักวันพรุ่งนี้",
                        photos=[jpeg(colour=(90, 90, 90))])
    card = bw.card_of(receipt, moderator)
    wait_for_photo_checks(bw.hub.settings.resolved_database_url)  # issue 16: approval waits for the photo checks
    bw.tg.drop_next("sendPhoto", commit=True)  # the channel post goes out but its answer is lost
    moderator.press(card, "อนุมัติทันที")
    question = moderator.wait_for_button("โพสต์แล้ว", timeout=25)
    assert receipt in (question.text or "")
    press = moderator.press(question, "โพสต์แล้ว")
    assert "โพสต์ขึ้นแล้ว" in moderator.wait_for_answer(press).get("text", "")
    somsri.wait_for_text(f"({receipt}) เผยแพร่แล้ว", timeout=25)
    with bw.hub.transaction() as s:
        states = list(s.scalars(select(Delivery.state).where(Delivery.item_id == bw.item(receipt).id)))
    assert states == ["sent"]
    assert len([m for m in bw.world.bot_messages(CHANNEL) if receipt in (m.caption or "")]) == 1
    bw.save_transcript("unknown_delivery", {"ประเสริฐ (แชทส่วนตัวกับบอท)": moderator.id})
