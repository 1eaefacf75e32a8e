"""A coordinator gives and takes away reporter and moderator roles in their district on the web.

The seeded coordinator works for district 5201 (อ.เมืองลำปาง); the reporter of 52010101 and the
moderator of 520101 are theirs, the admin and the Chiang Mai moderator are not. Every refusal shows
the Thai reason on the member page (no dead end) and changes nothing.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, RoleGrant
from network_hub.roster import members
from tests.web.conftest import csrf_of


def _grants(world, member_id: int) -> set[tuple[str, str]]:
    with world.hub.transaction() as s:
        return {(g.role, g.area_code) for g in members.grants_of(s, member_id)}


def _counts(world) -> tuple[int, int]:
    with world.hub.transaction() as s:
        return (s.scalar(select(func.count()).select_from(RoleGrant)),
                s.scalar(select(func.count()).select_from(AuditEvent)))


def test_the_member_page_offers_a_coordinator_only_what_they_may_do(world, signed_in) -> None:
    client = signed_in("coordinator")
    page = client.get(f"/roster/members/{world.people.reporter.id}")
    assert page.status_code == 200
    assert 'action="/roster/members/' in page.text and "/grants\"" in page.text
    roles = set(re.findall(r'<option value="(reporter|moderator|coordinator|admin)"', page.text))
    assert roles == {"reporter", "moderator"}
    assert "ในฐานะผู้ประสานงาน" in page.text  # says what a coordinator may give
    assert 'data-action="assign_role"' in page.text
    assert "เชียงใหม่" not in page.text  # the picker holds their district only
    # Member administration stays the admin's: no edit, password, suspend or forget forms.
    for form in ("/edit", "/password", "/status", "/forget", "/merge"):
        assert f'action="/roster/members/{world.people.reporter.id}{form}"' not in page.text
    # Their district's moderator too; not themselves, not the admin, not a Chiang Mai moderator.
    assert client.get(f"/roster/members/{world.people.moderator.id}").status_code == 200
    for other in (world.people.coordinator, world.people.admin, world.people.outsider):
        refused = client.get(f"/roster/members/{other.id}")
        assert refused.status_code == 403 and "ไม่มีสิทธิ์" in refused.text


def test_a_coordinator_adds_a_grant_by_picking_a_village_step_by_step_and_by_name(world, signed_in) -> None:
    client = signed_in("coordinator")
    target = world.people.reporter.id
    token = csrf_of(client, f"/roster/members/{target}")
    # Without JavaScript: the picker opens at their district; choose the tambon, then the village.
    step = client.post(f"/roster/members/{target}/grants", data={
        "csrf_token": token, "role": "reporter", "grant_area_1": "52", "grant_area_2": "5201",
        "grant_area_3": "520102", "step": "1"})
    assert step.status_code == 200 and "หมู่ที่ 1 บ้านหัวเวียง" in step.text
    assert _grants(world, target) == {("reporter", "52010101")}  # a step changes nothing
    done = client.post(f"/roster/members/{target}/grants", data={
        "csrf_token": token, "role": "reporter", "grant_area_1": "52", "grant_area_2": "5201",
        "grant_area_3": "520102", "grant_area_4": "52010201"})
    assert done.status_code == 303
    # By name: search "ป่าขาม", pick the hit.
    found = client.post(f"/roster/members/{target}/grants", data={
        "csrf_token": token, "role": "moderator", "grant_area_q": "ป่าขาม", "step": "1"})
    assert found.status_code == 200 and 'value="52010102"' in found.text
    done = client.post(f"/roster/members/{target}/grants", data={
        "csrf_token": token, "role": "moderator", "grant_area_hit": "52010102"})
    assert done.status_code == 303
    assert _grants(world, target) == {("reporter", "52010101"), ("reporter", "52010201"), ("moderator", "52010102")}
    page = client.get(done.headers["location"])
    assert "ผู้ส่งข่าว · หมู่ที่ 1 บ้านหัวเวียง ต.หัวเวียง อ.เมืองลำปาง จ.ลำปาง" in page.text
    assert "ผู้ตรวจข่าว · หมู่ที่ 2 บ้านป่าขาม" in page.text
    with world.hub.transaction() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "grant.add")
                           .order_by(AuditEvent.id)).all()
        assert [(e.actor_id, e.after["area_code"]) for e in events[-2:]] == [
            (world.people.coordinator.id, "52010201"), (world.people.coordinator.id, "52010102")]


def test_a_coordinator_removes_a_grant_in_their_district(world, signed_in) -> None:
    client = signed_in("coordinator")
    target = world.people.moderator.id
    token = csrf_of(client, f"/roster/members/{target}")
    page = client.get(f"/roster/members/{target}")
    assert f'action="/roster/members/{target}/grants/remove"' in page.text
    removed = client.post(f"/roster/members/{target}/grants/remove",
                          data={"csrf_token": token, "role": "moderator", "area": "520101"})
    assert removed.status_code == 303
    assert _grants(world, target) == set()
    with world.hub.transaction() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "grant.remove"))
        assert event.actor_id == world.people.coordinator.id


def test_a_coordinator_is_refused_outside_their_area_and_above_their_roles(world, signed_in) -> None:
    client = signed_in("coordinator")
    target = world.people.reporter.id
    token = csrf_of(client, f"/roster/members/{target}")
    before = _counts(world)
    # The picker does not offer Chiang Mai; searching it says why instead of "not found".
    search = client.post(f"/roster/members/{target}/grants", data={
        "csrf_token": token, "role": "reporter", "grant_area_q": "ศรีภูมิ", "step": "1"})
    assert search.status_code == 200 and "อยู่นอกพื้นที่ที่ท่านรับผิดชอบ" in search.text
    assert 'value="50010101"' not in search.text
    found = client.get("/areas/search", params={"q": "ศรีภูมิ", "action": "assign_role"})
    assert found.json() == [] and found.headers.get("x-area-outside") == "1"  # the script says why too
    nothing = client.get("/areas/search", params={"q": "ไม่มีชื่อนี้แน่นอน", "action": "assign_role"})
    assert nothing.json() == [] and "x-area-outside" not in nothing.headers
    cases = [
        ({"role": "reporter", "grant_area_hit": "50010101"}, "นอกพื้นที่ที่ท่านรับผิดชอบ"),  # a forged choice
        ({"role": "reporter", "grant_area_1": "50", "grant_area_2": "5001"}, "นอกพื้นที่ที่ท่านรับผิดชอบ"),
        ({"role": "admin", "grant_area_hit": "52010101"}, "บทบาทผู้ดูแลระบบต้องให้ผู้ดูแลระบบดำเนินการ"),
        ({"role": "coordinator", "grant_area_hit": "520101"}, "บทบาทผู้ประสานงานต้องให้ผู้ดูแลระบบดำเนินการ"),
    ]
    for data, thai in cases:
        refused = client.post(f"/roster/members/{target}/grants", data={"csrf_token": token, **data})
        assert refused.status_code == 403, (data, refused.status_code)
        assert thai in refused.text, data
        if data["role"] == "reporter":
            assert 'name="grant_area_1"' in refused.text  # the member page again, with the picker
    removal = client.post(f"/roster/members/{world.people.admin.id}/grants/remove",
                          data={"csrf_token": token, "role": "admin", "area": "TH"})
    assert removal.status_code == 403
    own = client.post(f"/roster/members/{world.people.coordinator.id}/grants",
                      data={"csrf_token": token, "role": "moderator", "grant_area_hit": "520101"})
    assert own.status_code == 403
    outsider = client.post(f"/roster/members/{world.people.outsider.id}/grants",
                           data={"csrf_token": token, "role": "reporter", "grant_area_hit": "52010101"})
    assert outsider.status_code == 403
    assert _counts(world) == before


def test_the_admin_still_gives_any_role_anywhere(world, signed_in) -> None:
    client = signed_in("admin")
    target = world.people.reporter.id
    token = csrf_of(client, f"/roster/members/{target}")
    page = client.get(f"/roster/members/{target}")
    assert 'value="admin"' in page.text and 'value="coordinator"' in page.text
    done = client.post(f"/roster/members/{target}/grants", data={
        "csrf_token": token, "role": "coordinator", "grant_area_hit": "500101"})
    assert done.status_code == 303
    assert ("coordinator", "500101") in _grants(world, target)
