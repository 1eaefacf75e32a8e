"""Roster administration on the web: add, grants by the area picker (with and without JavaScript),
suspend/resume, forget, passwords, personal invites and merge — and every refusal changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, Invite, Member, RoleGrant
from network_hub.permissions import system_actor
from network_hub.roster import members
from network_hub.roster.passwords import password_matches
from tests.web.conftest import PASSWORD, csrf_of


def _counts(world) -> tuple[int, int, int]:
    with world.hub.transaction() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Member, RoleGrant, Invite))


def _member_by_phone(world, phone: str) -> Member | None:
    with world.hub.transaction() as s:
        member = s.scalar(select(Member).where(Member.phone == phone))
        if member is not None:
            s.expunge(member)
        return member


def test_admin_adds_a_member_by_picking_a_village_step_by_step_without_javascript(world, signed_in) -> None:
    client = signed_in("admin")
    token = csrf_of(client, "/roster/members/new")
    page = client.get("/roster/members/new")
    assert "จ.ลำปาง" in page.text and 'name="area_1"' in page.text and "52" in page.text
    base = {"csrf_token": token, "name": "มานี มีนา", "phone": "0891234567", "role": "reporter", "language": "th"}
    # Step 1: the province; the page answers with the districts of Lampang, nothing saved yet.
    step = client.post("/roster/members", data={**base, "area_1": "52", "step": "1"})
    assert step.status_code == 200 and "อ.เมืองลำปาง" in step.text and 'name="area_2"' in step.text
    assert 'value="มานี มีนา"' in step.text  # what was typed stays
    step = client.post("/roster/members", data={**base, "area_1": "52", "area_2": "5201", "step": "1"})
    assert "ต.เวียงเหนือ" in step.text
    step = client.post("/roster/members", data={**base, "area_1": "52", "area_2": "5201", "area_3": "520101",
                                                "step": "1"})
    assert "หมู่ที่ 1 บ้านเวียงเหนือ" in step.text
    assert _member_by_phone(world, "+66891234567") is None
    done = client.post("/roster/members", data={**base, "area_1": "52", "area_2": "5201", "area_3": "520101",
                                                "area_4": "52010101"})
    assert done.status_code == 303
    member = _member_by_phone(world, "+66891234567")
    assert member is not None and member.name == "มานี มีนา"
    with world.hub.transaction() as s:
        assert [(g.role, g.area_code) for g in members.grants_of(s, member.id)] == [("reporter", "52010101")]
    detail = client.get(done.headers["location"])
    assert "หมู่ที่ 1 บ้านเวียงเหนือ ต.เวียงเหนือ อ.เมืองลำปาง จ.ลำปาง" in detail.text


def test_search_by_name_and_the_json_endpoints(world, signed_in) -> None:
    client = signed_in("coordinator")  # coordinators see only their district
    children = client.get("/areas/children", params={"parent": "TH"}).json()
    assert [c["code"] for c in children] == ["52"]
    tambons = client.get("/areas/children", params={"parent": "5201"}).json()
    assert {t["code"] for t in tambons} == {"520101", "520102"} and all(t["name"].startswith("ต.") for t in tambons)
    hits = client.get("/areas/search", params={"q": "เวียงเหนือ"}).json()
    assert hits and hits[0]["code"].startswith("520101") and "จ.ลำปาง" in hits[0]["name"]
    assert client.get("/areas/search", params={"q": "ศรีภูมิ"}).json() == []  # Chiang Mai: not theirs
    client.cookies.clear()
    admin = signed_in("admin")
    assert "50010101" in {h["code"] for h in admin.get("/areas/search", params={"q": "ศรีภูมิ"}).json()}


def test_bad_input_is_explained_in_thai_and_changes_nothing(world, signed_in) -> None:
    client = signed_in("admin")
    token = csrf_of(client, "/roster/members/new")
    before = _counts(world)
    cases = [
        ({"name": "ก", "role": "reporter", "phone": "0812345601", "area_4": "52010101", "area_1": "52",
          "area_2": "5201", "area_3": "520101"}, "เป็นของสมาชิกหมายเลข"),  # duplicate phone
        ({"name": "ก", "role": "reporter", "area_hit": "99999999"}, "ไม่พบพื้นที่"),  # unknown area
        ({"name": "ก", "role": "reporter"}, "กรุณาเลือกพื้นที่"),
        ({"name": "", "role": "reporter", "area_hit": "52010101"}, "กรุณาระบุชื่อสมาชิก"),
        ({"name": "ก", "role": "boss", "area_hit": "52010101"}, "ไม่ใช่บทบาทที่ถูกต้อง"),
    ]
    for data, thai in cases:
        response = client.post("/roster/members", data={"csrf_token": token, **data})
        assert response.status_code in (400, 404, 409), (data, response.status_code)
        assert thai in response.text, data
        assert 'name="area_1"' in response.text  # the form again, not a dead end
    assert _counts(world) == before


def test_grants_by_picker_and_removal(world, signed_in) -> None:
    client = signed_in("admin")
    reporter = world.people.reporter.id
    token = csrf_of(client, f"/roster/members/{reporter}")
    added = client.post(f"/roster/members/{reporter}/grants", data={"csrf_token": token, "role": "moderator",
                                                                   "grant_area_hit": "520102"})
    assert added.status_code == 303
    with world.hub.transaction() as s:
        assert ("moderator", "520102") in {(g.role, g.area_code) for g in members.grants_of(s, reporter)}
    again = client.post(f"/roster/members/{reporter}/grants", data={"csrf_token": token, "role": "moderator",
                                                                   "grant_area_hit": "520102"})
    assert again.status_code == 409 and "มีบทบาทนี้ในพื้นที่นี้อยู่แล้ว" in again.text
    removed = client.post(f"/roster/members/{reporter}/grants/remove",
                          data={"csrf_token": token, "role": "moderator", "area": "520102"})
    assert removed.status_code == 303
    with world.hub.transaction() as s:
        assert ("moderator", "520102") not in {(g.role, g.area_code) for g in members.grants_of(s, reporter)}


def test_other_roles_and_areas_are_refused(world, signed_in) -> None:
    before = _counts(world)
    moderator = signed_in("moderator")
    token = csrf_of(moderator, "/roster")
    # A moderator cannot add members or grants, nor open an admin's page.
    assert moderator.get("/roster/members/new").status_code == 403
    assert moderator.get(f"/roster/members/{world.people.admin.id}").status_code == 403
    refused = moderator.post(f"/roster/members/{world.people.reporter.id}/grants",
                             data={"csrf_token": token, "role": "admin", "grant_area_hit": "TH"})
    assert refused.status_code == 403 and "ไม่มีสิทธิ์" in refused.text
    # A forged member id.
    assert moderator.get("/roster/members/999999").status_code == 404
    moderator.cookies.clear()
    # Grants are not the admin's alone any more: a coordinator gives reporter and moderator roles in
    # their district (tests/web/test_coordinator_grants.py), but never the admin role, and adds no members.
    coordinator = signed_in("coordinator")
    token = csrf_of(coordinator, "/roster")
    assert coordinator.get("/roster/members/new").status_code == 403
    refused = coordinator.post(f"/roster/members/{world.people.reporter.id}/grants",
                               data={"csrf_token": token, "role": "admin", "grant_area_hit": "TH"})
    assert refused.status_code == 403 and "ต้องให้ผู้ดูแลระบบดำเนินการ" in refused.text
    coordinator.cookies.clear()
    outsider = signed_in("outsider")  # a Chiang Mai moderator: Lampang's people are not theirs
    assert outsider.get(f"/roster/members/{world.people.reporter.id}").status_code == 403
    assert _counts(world) == before


def test_suspend_resume_forget_and_self_suspension(world, signed_in) -> None:
    client = signed_in("admin")
    target = world.people.reporter2.id
    token = csrf_of(client, f"/roster/members/{target}")
    assert client.post(f"/roster/members/{target}/status", data={"csrf_token": token, "to": "suspended",
                                                                "reason": "ทดสอบ"}).status_code == 303
    with world.hub.transaction() as s:
        assert s.get(Member, target).status == "suspended"
    assert client.post(f"/roster/members/{target}/status", data={"csrf_token": token, "to": "active"}
                       ).status_code == 303
    me = world.people.admin.id
    own = client.post(f"/roster/members/{me}/status", data={"csrf_token": token, "to": "suspended"})
    assert own.status_code == 400 and "ไม่สามารถระงับบัญชีของตนเองได้" in own.text
    unconfirmed = client.post(f"/roster/members/{target}/forget", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and "ยืนยัน" in unconfirmed.text
    with world.hub.transaction() as s:
        assert s.get(Member, target).name == "บุญมี ขยัน"
    assert client.post(f"/roster/members/{target}/forget", data={"csrf_token": token, "confirm": "yes"}
                       ).status_code == 303
    with world.hub.transaction() as s:
        forgotten = s.get(Member, target)
        assert forgotten.status == "forgotten" and forgotten.phone is None
    page = client.get(f"/roster/members/{target}")
    assert page.status_code == 200 and "ลบข้อมูลแล้ว" in page.text and 'action="/roster/members/' not in page.text


def test_passwords_reset_by_admin_and_changed_by_oneself(world, signed_in) -> None:
    client = signed_in("admin")
    target = world.people.reporter.id
    token = csrf_of(client, f"/roster/members/{target}")
    differ = client.post(f"/roster/members/{target}/password",
                         data={"csrf_token": token, "password": "new-password-1", "password_again": "other-pass-2"})
    assert differ.status_code == 400 and "ไม่ตรงกัน" in differ.text
    short = client.post(f"/roster/members/{target}/password",
                        data={"csrf_token": token, "password": "short", "password_again": "short"})
    assert short.status_code == 400 and "อย่างน้อย 10" in short.text
    ok = client.post(f"/roster/members/{target}/password",
                     data={"csrf_token": token, "password": "new-password-1", "password_again": "new-password-1"})
    assert ok.status_code == 303
    with world.hub.transaction() as s:
        assert password_matches(s.get(Member, target).password_hash, "new-password-1")
    # Change my own password: the current one is required.
    client.cookies.clear()
    mine = signed_in("moderator")
    token = csrf_of(mine, "/account/password")
    wrong = mine.post("/account/password", data={"csrf_token": token, "current": "nope-nope-nope",
                                                 "password": "brand-new-pass", "password_again": "brand-new-pass"})
    assert wrong.status_code == 403 and "รหัสผ่านปัจจุบันไม่ถูกต้อง" in wrong.text
    done = mine.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                                "password": "brand-new-pass", "password_again": "brand-new-pass"})
    assert done.status_code == 303
    with world.hub.transaction() as s:
        assert password_matches(s.get(Member, world.people.moderator.id).password_hash, "brand-new-pass")


def test_personal_invite_and_merge_on_the_web(world, signed_in) -> None:
    world.hub.settings.telegram_bot_username = "koka_pr_bot"
    now = world.hub.clock.now()
    with world.hub.transaction() as s:
        manee = members.add_member(s, name="มานี มีนา", phone="0891234567", now=now, actor=system_actor())
        members.add_grant(s, manee.id, "reporter", "52010101", now=now, actor=system_actor())
        dup = members.add_member(s, name="Manee", telegram_user_id=777888, now=now, actor=system_actor())
        members.add_grant(s, dup.id, "reporter", "52010101", now=now, actor=system_actor())
        manee_id, dup_id = manee.id, dup.id
    moderator = signed_in("moderator")  # moderators may make a reporter's personal invite
    token = csrf_of(moderator, f"/roster/members/{manee_id}")
    made = moderator.post(f"/roster/members/{manee_id}/invite", data={"csrf_token": token})
    assert made.status_code == 303
    page = moderator.get(f"/roster/members/{manee_id}")
    link = re.search(r"https://t\.me/koka_pr_bot\?start=([A-Za-z0-9_-]+)", page.text)
    assert link and 'id="merge"' not in page.text  # merging is for those who manage the roster
    with world.hub.transaction() as s:
        invite = s.scalar(select(Invite).where(Invite.code == link.group(1)))
        assert invite.member_id == manee_id
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "invite.link_shown", AuditEvent.object_id == str(invite.id))) == 1
    moderator.cookies.clear()
    admin = signed_in("admin")
    token = csrf_of(admin, f"/roster/members/{manee_id}")
    page = admin.get(f"/roster/members/{manee_id}")
    assert f'<option value="{dup_id}">' in page.text
    unconfirmed = admin.post(f"/roster/members/{manee_id}/merge", data={"csrf_token": token, "other": str(dup_id)})
    assert unconfirmed.status_code == 400
    forged = admin.post(f"/roster/members/{manee_id}/merge", data={"csrf_token": token, "other": "999999",
                                                                  "confirm": "yes"})
    assert forged.status_code == 404
    merged = admin.post(f"/roster/members/{manee_id}/merge", data={"csrf_token": token, "other": str(dup_id),
                                                                  "confirm": "yes", "reason": "คนเดียวกัน"})
    assert merged.status_code == 303
    with world.hub.transaction() as s:
        assert s.get(Member, dup_id) is None and s.get(Member, manee_id).telegram_user_id == 777888


def test_a_member_on_telegram_gets_a_code_to_link_line(world, signed_in) -> None:
    world.hub.settings.telegram_bot_username = "koka_pr_bot"
    now = world.hub.clock.now()
    with world.hub.transaction() as s:
        somchai = members.add_member(s, name="สมชาย ใจกว้าง", telegram_user_id=777999, now=now, actor=system_actor())
        members.add_grant(s, somchai.id, "reporter", "52010101", now=now, actor=system_actor())
        member_id = somchai.id
    admin = signed_in("admin")
    page = admin.get(f"/roster/members/{member_id}")
    assert "สร้างรหัสเชื่อมบัญชี LINE" in page.text and "t.me/koka_pr_bot?start=" not in page.text
    token = csrf_of(admin, f"/roster/members/{member_id}")
    made = admin.post(f"/roster/members/{member_id}/invite", data={"csrf_token": token})
    assert made.status_code == 303
    page = admin.get(f"/roster/members/{member_id}")
    with world.hub.transaction() as s:
        invite = s.scalar(select(Invite).where(Invite.member_id == member_id))
        assert invite is not None and invite.max_uses == 1
        code = invite.code
    assert code in page.text and "แชท LINE" in page.text and "t.me/koka_pr_bot?start=" not in page.text
    # Linked on both platforms: nothing left to link, no invite section.
    with world.hub.transaction() as s:
        s.get(Member, member_id).line_user_id = "U" + "3" * 32
    page = admin.get(f"/roster/members/{member_id}")
    assert 'id="personal-invite"' not in page.text and code not in page.text


def test_edit_name_and_clear_the_phone(world, signed_in) -> None:
    client = signed_in("admin")
    target = world.people.reporter2.id
    token = csrf_of(client, f"/roster/members/{target}")
    edited = client.post(f"/roster/members/{target}/edit", data={"csrf_token": token, "name": "บุญมี ขยันยิ่ง",
                                                                "phone": "", "language": "th"})
    assert edited.status_code == 303
    with world.hub.transaction() as s:
        member = s.get(Member, target)
        assert member.name == "บุญมี ขยันยิ่ง" and member.phone is None
    taken = client.post(f"/roster/members/{target}/edit", data={"csrf_token": token, "name": "x",
                                                               "phone": world.people.reporter.phone})
    assert taken.status_code == 409 and "เป็นของสมาชิกหมายเลข" in taken.text
    with world.hub.transaction() as s:
        assert s.get(Member, target).name == "บุญมี ขยันยิ่ง"
    assert "Telegram: ✓ เชื่อมแล้ว" in client.get("/roster").text  # the roster says who is linked
