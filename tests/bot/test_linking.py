"""End to end on the loopback Telegram fake: imported volunteers become the SAME member.

One volunteer opens their personal invite; another shares their phone with the contact button;
a third joined by a generic link first and is folded into their roster record by sharing their
phone; a forwarded contact and an unknown number are refused kindly. The member count never grows
beyond the roster.
"""

from __future__ import annotations

from sqlalchemy import func, select

from network_hub.db.models import Member
from network_hub.permissions import system_actor
from network_hub.roster import members
from network_hub.roster.invites import create_invite, ensure_personal_invite
from tests.bot.conftest import BotWorld

SYSTEM = system_actor()


def _imported(bw: BotWorld, name: str, phone: str, village: str = "52010101") -> int:
    """A volunteer as `roster import` leaves them: a name, a phone and a grant; no Telegram id."""
    with bw.hub.transaction() as s:
        now = bw.hub.clock.now()
        member = members.add_member(s, name=name, phone=phone, now=now, actor=SYSTEM)
        members.add_grant(s, member.id, "reporter", village, now=now, actor=SYSTEM)
        return member.id


def _member(bw: BotWorld, member_id: int) -> Member | None:
    with bw.hub.transaction() as s:
        return s.get(Member, member_id)


def _count(bw: BotWorld) -> int:
    with bw.hub.transaction() as s:
        return s.scalar(select(func.count()).select_from(Member))


def _keyboard_labels(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.get("text", "") for row in (message.reply_markup or {}).get("keyboard", []) for b in row
            if b.get("request_contact")]


def test_a_personal_invite_links_the_imported_volunteer(bot_world: BotWorld) -> None:
    bw = bot_world
    wanna_id = _imported(bw, "วรรณา ใจงาม", "0861110001")
    with bw.hub.transaction() as s:
        code = ensure_personal_invite(s, wanna_id, now=bw.hub.clock.now(), actor=SYSTEM).code
    before = _count(bw)
    wanna = bw.world.user(7101, "Wanna")  # her Telegram name differs from the roster's
    wanna.command("/start", code)
    welcome = wanna.wait_for_text("ยินดีต้อนรับ")
    assert "วรรณา ใจงาม" in (welcome.text or "") and "หมู่ที่ 1 บ้านเวียงเหนือ" in (welcome.text or "")
    assert _count(bw) == before
    assert _member(bw, wanna_id).telegram_user_id == 7101
    wanna.command("/start")
    wanna.wait_for_text("ท่านเป็นสมาชิกอยู่แล้ว")


def test_sharing_ones_own_phone_links_and_a_forwarded_contact_is_refused(bot_world: BotWorld) -> None:
    bw = bot_world
    somchai_id = _imported(bw, "สมชาย รักถิ่น", "0861110002")
    before = _count(bw)
    somchai = bw.world.user(7102, "Somchai")
    somchai.command("/start")
    offer = somchai.wait_for_text("แชร์เบอร์โทรศัพท์")
    assert _keyboard_labels(offer) == ["📱 แชร์เบอร์โทรศัพท์"]

    mark = somchai.mark()
    somchai.share_contact("66861110002", user_id=999123)  # someone else's contact card, forwarded
    somchai.wait_for_text("เฉพาะเบอร์โทรศัพท์ของท่านเอง", after=mark)
    mark = somchai.mark()
    somchai.share_contact("66899990000")  # his own number, but not on the roster
    somchai.wait_for_text("ไม่พบเบอร์ 089-999-0000", after=mark)
    assert _member(bw, somchai_id).telegram_user_id is None

    mark = somchai.mark()
    somchai.share_contact("66861110002")  # the button: his own, verified number
    linked = somchai.wait_for_text("เชื่อมบัญชี Telegram กับรายชื่อของท่านเรียบร้อยแล้ว", after=mark)
    assert (linked.reply_markup or {}).get("remove_keyboard") is True
    somchai.wait_for_text("ยินดีต้อนรับคุณสมชาย รักถิ่น", after=mark)
    assert _member(bw, somchai_id).telegram_user_id == 7102
    assert _count(bw) == before


def test_a_generic_joiner_is_folded_into_their_roster_record(bot_world: BotWorld) -> None:
    bw = bot_world
    roster_id = _imported(bw, "บุญเรือน ศรีสุข", "0861110003")
    before = _count(bw)
    with bw.hub.transaction() as s:
        code = create_invite(s, role="reporter", area_code="52010101", now=bw.hub.clock.now(), actor=SYSTEM).code
    boonruen = bw.world.user(7103, "Boonruen")
    boonruen.command("/start", code)
    boonruen.wait_for_text("ยินดีต้อนรับ")
    offer = boonruen.wait_for_text("รวมข้อมูลให้เป็นคนเดียวกัน")
    assert _keyboard_labels(offer)
    assert _count(bw) == before + 1  # for a moment, two records of one person

    mark = boonruen.mark()
    boonruen.share_contact("+66861110003")
    boonruen.wait_for_text("รวมข้อมูลเป็นคนเดียวกันเรียบร้อยแล้ว", after=mark)
    assert _count(bw) == before
    kept = _member(bw, roster_id)
    assert kept.telegram_user_id == 7103 and kept.name == "บุญเรือน ศรีสุข"
    bw.save_transcript("link_by_phone", {"บุญเรือน (แชทส่วนตัวกับบอท)": boonruen.id})
