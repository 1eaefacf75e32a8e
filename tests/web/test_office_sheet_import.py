"""The printable invite sheet and the CSV upload (preview of every row, then all or nothing)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, Invite, Member, RoleGrant
from network_hub.permissions import system_actor
from network_hub.roster import members
from network_hub.roster.invites import redeem_invite
from tests.web.conftest import csrf_of

GOOD_CSV = ("name,role,area_code,phone\n"
            "มาลี ดีใจ,reporter,52010101,0811111111\n"
            "ชูใจ ใฝ่ดี,reporter,52010102,0822222222\n").encode("utf-8-sig")
BAD_CSV = ("name,role,area_code,phone\n"
           "มาลี ดีใจ,reporter,52010101,0811111111\n"
           "ชูใจ ใฝ่ดี,boss,52010102,0822222222\n"
           "ปิติ มานะ,reporter,52019999,0833333333\n"
           "ซ้ำ เบอร์,reporter,52010101,0812345601\n").encode()


def _counts(world) -> tuple[int, int, int, int]:
    with world.hub.transaction() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Member, RoleGrant, Invite, AuditEvent))


def _imported(world, name: str, phone: str, village: str) -> int:
    now = world.hub.clock.now()
    with world.hub.transaction() as s:
        member = members.add_member(s, name=name, phone=phone, now=now, actor=system_actor())
        members.add_grant(s, member.id, "reporter", village, now=now, actor=system_actor())
        return member.id


def test_sheet_makes_links_on_post_and_prints_cards_by_village(world, signed_in) -> None:
    world.hub.settings.telegram_bot_username = "koka_pr_bot"
    a = _imported(world, "มาลี ดีใจ", "0811111111", "52010101")
    _imported(world, "ชูใจ ใฝ่ดี", "0822222222", "52010102")
    client = signed_in("moderator")  # moderators print their tambon's reporters
    picker = client.get("/roster/sheet")
    assert picker.status_code == 200 and "ต.เวียงเหนือ" in picker.text
    before = _counts(world)
    sheet = client.get("/roster/sheet", params={"area": "520101"})
    assert sheet.status_code == 200 and "มาลี ดีใจ" in sheet.text and 'class="invite-card"' not in sheet.text
    assert _counts(world) == before  # a GET never creates an invite
    token = csrf_of(client, "/roster/sheet?area=520101")
    made = client.post("/roster/sheet/invites", data={"csrf_token": token, "area": "520101"})
    assert made.status_code == 303
    sheet = client.get(made.headers["location"])
    assert sheet.text.count('class="invite-card"') == 2
    assert "@page { size: A4" in sheet.text and "<svg" in sheet.text and "break-before: page" in sheet.text
    assert "หมู่ที่ 1 บ้านเวียงเหนือ" in sheet.text and "หมู่ที่ 2 บ้านป่าขาม" in sheet.text
    assert "สมศรี ใจดี" in sheet.text  # seeded, already on Telegram: listed as linked, no card
    links = re.findall(r"https://t\.me/koka_pr_bot\?start=([A-Za-z0-9_-]+)", sheet.text)
    assert len(set(links)) == 2
    # Printing again reuses the same links.
    again = client.post("/roster/sheet/invites", data={"csrf_token": token, "area": "520101"})
    assert set(re.findall(r"start=([A-Za-z0-9_-]+)", client.get(again.headers["location"]).text)) == set(links)
    with world.hub.transaction() as s:
        code = s.scalar(select(Invite.code).where(Invite.member_id == a))
        member, _ = redeem_invite(s, code, telegram_user_id=123321, name="x", now=world.hub.clock.now())
        assert member.id == a


def test_sheet_refusals(world, signed_in) -> None:
    client = signed_in("moderator")
    outside = client.get("/roster/sheet", params={"area": "500101"})
    assert outside.status_code == 403 and "ไม่มีสิทธิ์" in outside.text
    unknown = client.get("/roster/sheet", params={"area": "52019999"})
    assert unknown.status_code == 404
    world.hub.settings.telegram_bot_username = ""
    _imported(world, "มาลี ดีใจ", "0811111111", "52010101")
    before = _counts(world)
    token = csrf_of(client, "/roster/sheet")
    no_bot = client.get("/roster/sheet", params={"area": "520101"})
    assert "HUB_TELEGRAM_BOT_USERNAME" in no_bot.text and "t.me/" not in no_bot.text
    client.post("/roster/sheet/invites", data={"csrf_token": token, "area": "520101"})
    assert _counts(world) == before
    client.cookies.clear()
    reporter = signed_in("reporter")
    assert reporter.get("/roster/sheet").status_code == 403


def test_csv_upload_previews_every_row_and_its_errors_then_nothing_changes(world, signed_in) -> None:
    client = signed_in("admin")
    token = csrf_of(client, "/roster/import")
    before = _counts(world)
    preview = client.post("/roster/import", data={"csrf_token": token},
                          files={"file": ("roster.csv", BAD_CSV, "text/csv")})
    assert preview.status_code == 400
    text = preview.text
    assert "พบ 2 แถวที่ต้องแก้ไข" in text
    assert "มาลี ดีใจ" in text and "✓ สมาชิกใหม่" in text  # the good row is shown as good
    assert "ไม่ใช่บทบาทที่ถูกต้อง" in text and "ไม่พบพื้นที่รหัส 52019999" in text
    # A known phone is that member: the preview says the import would rename them.
    assert f"สมาชิกเดิมหมายเลข {world.people.reporter.id} (สมศรี ใจดี) · แก้ไขชื่อ" in text
    assert "/roster/import/confirm" not in text  # no confirm button while any row is bad
    assert _counts(world) == before


def test_csv_upload_then_confirm_imports_all_with_personal_invites(world, signed_in) -> None:
    world.hub.settings.telegram_bot_username = "koka_pr_bot"
    client = signed_in("admin")
    token = csrf_of(client, "/roster/import")
    preview = client.post("/roster/import", data={"csrf_token": token},
                          files={"file": ("roster.csv", GOOD_CSV, "text/csv")})
    assert preview.status_code == 200 and "สมาชิกใหม่ 2 คน" in preview.text
    before = _counts(world)
    text = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', preview.text, re.S).group(1)
    import html
    done = client.post("/roster/import/confirm", data={"csrf_token": token, "text": html.unescape(text),
                                                       "invites": "yes"})
    assert done.status_code == 200 and "นำเข้าเรียบร้อย" in done.text and "/roster/sheet?area=52010101" in done.text
    with world.hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == before[0] + 2
        assert s.scalar(select(func.count()).select_from(Invite).where(Invite.member_id.is_not(None))) == 2


def test_confirm_rechecks_and_stays_all_or_nothing(world, signed_in) -> None:
    client = signed_in("admin")
    token = csrf_of(client, "/roster/import")
    before = _counts(world)
    tampered = client.post("/roster/import/confirm", data={"csrf_token": token,
                                                           "text": BAD_CSV.decode("utf-8")})
    assert tampered.status_code == 409 and "พบ 2 แถวที่ต้องแก้ไข" in tampered.text
    unreadable = client.post("/roster/import", data={"csrf_token": token},
                             files={"file": ("roster.csv", "ชื่อ".encode("cp874"), "text/csv")})
    assert unreadable.status_code == 400 and "UTF-8" in unreadable.text
    assert _counts(world) == before
    client.cookies.clear()
    moderator = signed_in("moderator")
    token = csrf_of(moderator, "/roster")
    assert moderator.post("/roster/import", data={"csrf_token": token},
                          files={"file": ("roster.csv", GOOD_CSV, "text/csv")}).status_code == 403
    assert _counts(world) == before


# -- villages and the moderators' group ----------------------------------------------------------
def test_admin_adds_a_village_by_number_and_sets_the_moderators_group(world, signed_in) -> None:
    from network_hub.db.models import Area

    client = signed_in("admin")
    page = client.get("/areas/villages", params={"area_1": "52", "area_2": "5201", "area_3": "520101"})
    assert page.status_code == 200 and "หมู่ที่ 2 บ้านป่าขาม" in page.text
    token = csrf_of(client, "/areas/villages")
    added = client.post("/areas/villages", data={"csrf_token": token, "area": "520101", "number": "7",
                                                 "name": "บ้านใหม่พัฒนา"})
    assert added.status_code == 303
    with world.hub.transaction() as s:
        assert s.get(Area, "52010107").name_th == "บ้านใหม่พัฒนา"
    before = _counts(world)
    for data, thai in [({"number": "7", "name": "ซ้ำ"}, "มีอยู่แล้ว"), ({"number": "0", "name": "x"}, "1 ถึง 99"),
                       ({"number": "3", "name": ""}, "กรุณาระบุชื่อหมู่บ้าน")]:
        refused = client.post("/areas/villages", data={"csrf_token": token, "area": "520101", **data})
        assert refused.status_code == 400 and thai in refused.text
    not_tambon = client.post("/areas/villages", data={"csrf_token": token, "area": "5201", "number": "3",
                                                      "name": "x"})
    assert not_tambon.status_code == 400 and "กรุณาเลือกตำบล" in not_tambon.text
    bad_chat = client.post("/areas/moderation-chat", data={"csrf_token": token, "area": "520101",
                                                           "chat_id": "12345"})
    assert bad_chat.status_code == 400 and "ไม่ใช่รหัสกลุ่ม Telegram" in bad_chat.text
    assert _counts(world) == before
    ok = client.post("/areas/moderation-chat", data={"csrf_token": token, "area": "520101",
                                                     "chat_id": "-1009876543210"})
    assert ok.status_code == 303
    with world.hub.transaction() as s:
        assert s.get(Area, "520101").moderation_chat_id == -1009876543210
    client.cookies.clear()
    moderator = signed_in("moderator")  # moderators do not manage areas
    token = csrf_of(moderator, "/roster")
    assert moderator.get("/areas/villages").status_code == 403
    assert moderator.post("/areas/villages", data={"csrf_token": token, "area": "520101", "number": "9",
                                                   "name": "x"}).status_code == 403
