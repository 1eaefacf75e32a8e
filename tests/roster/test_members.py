"""Members and grants: add, duplicates, grants, suspend/resume, forget (PDPA), passwords, reachability."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, Member, Notification, RoleGrant
from network_hub.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from network_hub.permissions import load_actor, system_actor
from network_hub.roster import members
from network_hub.states import MemberStatus
from tests.factories import seed_network

SYSTEM = system_actor()


def _count(s, model) -> int:
    return s.scalar(select(func.count()).select_from(model))


def test_add_member_normalises_and_audits(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        seed_network(s, now)
        member = members.add_member(s, name="  นางสาว  มาลี   ดีใจ ", phone="๐๘๙-๑๒๓-๔๕๖๗", telegram_user_id="12345",
                                    language="EN", now=now, actor=SYSTEM)
        grant = members.add_grant(s, member.id, "Reporter", "52010102", now=now, actor=SYSTEM)
        assert (member.name, member.phone, member.telegram_user_id, member.language) == (
            "นางสาว มาลี ดีใจ", "+66891234567", 12345, "en")
        assert (grant.role, grant.area_code) == ("reporter", "52010102")
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["member.add", "grant.add"]
        data = members.member_to_dict(member, [grant])
        assert data["grants"] == [{"role": "reporter", "area_code": "52010102"}]
        assert data["has_password"] is False


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "  "}, InvalidInput),
        ({"name": "x" * 201}, InvalidInput),
        ({"name": "a\x00b"}, InvalidInput),
        ({"name": "ok", "phone": "12"}, InvalidInput),
        ({"name": "ok", "telegram_user_id": "-5"}, InvalidInput),
        ({"name": "ok", "telegram_user_id": "abc"}, InvalidInput),
        ({"name": "ok", "language": "fr"}, InvalidInput),
        ({"name": "ok", "phone": "0812345601"}, Conflict),  # the seeded reporter's phone
        ({"name": "ok", "telegram_user_id": 1001}, Conflict),  # the seeded reporter's Telegram id
    ],
)
def test_bad_or_duplicate_members_are_refused_and_change_nothing(hub, fields, error) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        seed_network(s, now)
    with hub.transaction() as s:
        before = (_count(s, Member), _count(s, AuditEvent))
        with pytest.raises(error) as caught:
            members.add_member(s, now=now, actor=SYSTEM, **fields)
        assert caught.value.message_en and caught.value.message_th
        assert (_count(s, Member), _count(s, AuditEvent)) == before


def test_duplicate_phone_message_names_the_owner(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        with pytest.raises(Conflict, match=f"member {people.reporter.id}"):
            members.add_member(s, name="x", phone="+66812345601", now=now, actor=SYSTEM)


def test_grants_check_area_role_duplicates_and_permission(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        rid = people.reporter.id
        with pytest.raises(NotFound, match="areas load"):
            members.add_grant(s, rid, "reporter", "9901", now=now, actor=SYSTEM)
        with pytest.raises(NotFound, match="village add"):
            members.add_grant(s, rid, "reporter", "52010199", now=now, actor=SYSTEM)
        with pytest.raises(InvalidInput):
            members.add_grant(s, rid, "reporter", "5201x", now=now, actor=SYSTEM)
        with pytest.raises(InvalidInput, match="not a role"):
            members.add_grant(s, rid, "boss", "520101", now=now, actor=SYSTEM)
        with pytest.raises(Conflict, match="already holds"):
            members.add_grant(s, rid, "reporter", "52010101", now=now, actor=SYSTEM)
        with pytest.raises(NotFound):
            members.add_grant(s, 99999, "reporter", "52010101", now=now, actor=SYSTEM)
        moderator = load_actor(s, people.moderator.id)
        with pytest.raises(PermissionDenied):
            members.add_grant(s, rid, "reporter", "52010102", now=now, actor=moderator)
        # Grants are no longer the admin's alone: the district's coordinator gives reporter and
        # moderator roles inside the district, never coordinator or admin (tests/roster/test_grant_policy.py).
        coordinator = load_actor(s, people.coordinator.id)
        with pytest.raises(PermissionDenied, match="only the reporter and moderator"):
            members.add_grant(s, rid, "admin", "52010102", now=now, actor=coordinator)
        members.add_grant(s, rid, "moderator", "520102", now=now, actor=coordinator)
        members.remove_grant(s, rid, "moderator", "520102", now=now, actor=coordinator)
        admin = load_actor(s, people.admin.id)
        members.add_grant(s, rid, "reporter", "52010102", now=now, actor=admin)
        assert {(g.role, g.area_code) for g in members.grants_of(s, rid)} == {
            ("reporter", "52010101"), ("reporter", "52010102")}
        members.remove_grant(s, rid, "reporter", "52010102", now=now, actor=admin)
        with pytest.raises(NotFound, match="holds no"):
            members.remove_grant(s, rid, "reporter", "52010102", now=now, actor=admin)
        removals = s.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "grant.remove")
                             .order_by(AuditEvent.id)).all()
        assert removals == [people.coordinator.id, people.admin.id]


def test_suspend_and_resume(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        rid = people.reporter.id
        members.suspend_member(s, rid, now=now, actor=SYSTEM, reason="lost phone")
        assert s.get(Member, rid).status == MemberStatus.SUSPENDED
        with pytest.raises(Conflict, match="already suspended"):
            members.suspend_member(s, rid, now=now, actor=SYSTEM)
        members.resume_member(s, rid, now=now, actor=SYSTEM)
        assert s.get(Member, rid).status == MemberStatus.ACTIVE
        with pytest.raises(Conflict):
            members.resume_member(s, rid, now=now, actor=SYSTEM)
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "member.suspend"))
        assert (event.before, event.after, event.reason) == ({"status": "active"}, {"status": "suspended"},
                                                             "lost phone")


def test_changing_a_member_needs_roster_rights_over_all_their_areas(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        tambon_admin = members.add_member(s, name="แอดมินตำบล", now=now, actor=SYSTEM)
        members.add_grant(s, tambon_admin.id, "admin", "520101", now=now, actor=SYSTEM)
        actor = load_actor(s, tambon_admin.id)
        members.suspend_member(s, people.reporter.id, now=now, actor=actor)  # in their tambon
        with pytest.raises(PermissionDenied):
            members.suspend_member(s, people.coordinator.id, now=now, actor=actor)  # district grant
        with pytest.raises(PermissionDenied):
            members.forget_member(s, people.admin.id, now=now, actor=actor)
        with pytest.raises(InvalidInput, match="yourself"):
            members.suspend_member(s, tambon_admin.id, now=now, actor=actor)
        assert s.get(Member, people.coordinator.id).status == MemberStatus.ACTIVE


def test_a_suspended_actor_can_change_nothing(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        members.suspend_member(s, people.admin.id, now=now, actor=SYSTEM)
        with pytest.raises(PermissionDenied):
            members.suspend_member(s, people.reporter.id, now=now, actor=load_actor(s, people.admin.id))


def test_forget_erases_personal_data_and_keeps_the_row(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        member = members.add_member(s, name="ลืมฉัน ด้วย", phone="0899999999", telegram_user_id=8888,
                                    now=now, actor=SYSTEM)
        members.add_grant(s, member.id, "reporter", "52010101", now=now, actor=SYSTEM)
        members.set_password(s, member.id, "a long enough secret", now=now)
        s.add(Notification(member_id=member.id, kind="reminder", payload={}, state="pending", due_at=now,
                           created_at=now))
        mid = member.id
    with hub.transaction() as s:
        members.forget_member(s, mid, now=now, actor=load_actor(s, people.admin.id), reason="asked by phone")
    with hub.transaction() as s:
        member = s.get(Member, mid)
        assert member.status == MemberStatus.FORGOTTEN
        assert (member.phone, member.telegram_user_id, member.password_hash) == (None, None, None)
        assert member.name == members.FORGOTTEN_NAME
        assert members.grants_of(s, mid) == []
        assert s.scalar(select(Notification.state).where(Notification.member_id == mid)) == "failed"
        forget = s.scalar(select(AuditEvent).where(AuditEvent.action == "member.forget"))
        assert forget.after["erased_fields"] == ["name", "phone", "telegram_user_id", "password_hash"]
        assert forget.after["grants_removed"] == [{"role": "reporter", "area_code": "52010101"}]
        assert forget.after["pending_notifications_cancelled"] == 1
        # Nothing personal survives in the audit log either.
        history = s.scalars(select(AuditEvent).where(AuditEvent.object_type == "member",
                                                     AuditEvent.object_id == str(mid))).all()
        text = repr([(e.before, e.after) for e in history])
        assert "ลืมฉัน" not in text and "+66899999999" not in text and "8888" not in text
        with pytest.raises(Conflict, match="already forgotten"):
            members.forget_member(s, mid, now=now, actor=SYSTEM)
        with pytest.raises(Conflict):
            members.add_grant(s, mid, "reporter", "52010101", now=now, actor=SYSTEM)
        # The phone and Telegram id are free again for a new member.
        members.add_member(s, name="คนใหม่", phone="0899999999", telegram_user_id=8888, now=now, actor=SYSTEM)


def test_a_member_may_ask_to_be_forgotten_even_when_suspended(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        members.suspend_member(s, people.reporter.id, now=now, actor=SYSTEM)
        own = load_actor(s, people.reporter.id)
        members.forget_member(s, people.reporter.id, now=now, actor=own)
        assert s.get(Member, people.reporter.id).status == MemberStatus.FORGOTTEN
        with pytest.raises(PermissionDenied):
            members.forget_member(s, people.reporter2.id, now=now, actor=load_actor(s, people.reporter.id))


def test_passwords(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        rid = people.reporter.id
        for bad in ("short", "123456789", " leading space ok?", "x" * 1025):
            with pytest.raises(InvalidInput):
                members.set_password(s, rid, bad, now=now)
        assert s.get(Member, rid).password_hash is None
        members.set_password(s, rid, "ต้นมะม่วงหน้าบ้าน", now=now)
        member = s.get(Member, rid)
        assert member.password_hash.startswith("$argon2id$")
        assert "ต้นมะม่วง" not in member.password_hash
        assert members.verify_password(member, "ต้นมะม่วงหน้าบ้าน")
        assert not members.verify_password(member, "ต้นมะม่วงหลังบ้าน")
        assert not members.verify_password(member, "")
        audit_row = s.scalar(select(AuditEvent).where(AuditEvent.action == "member.set_password"))
        assert "ต้นมะม่วง" not in repr(audit_row.after)
        with pytest.raises(PermissionDenied):  # another member's password needs roster rights
            members.set_password(s, rid, "someone else's pw", now=now, actor=load_actor(s, people.reporter2.id))
        members.suspend_member(s, rid, now=now, actor=SYSTEM)
        assert not members.verify_password(member, "ต้นมะม่วงหน้าบ้าน")


def test_verify_password_survives_a_damaged_hash() -> None:
    member = Member(name="x", status="active", password_hash="not-an-argon2-hash")
    assert members.verify_password(member, "whatever it is") is False


def test_reachability_is_recorded_once(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        rid = people.reporter.id
        assert members.mark_unreachable(s, rid, now) is True
        assert members.mark_unreachable(s, rid, now) is False
        assert s.get(Member, rid).unreachable_since == now
        assert members.mark_reachable(s, rid, now) is True
        assert members.mark_reachable(s, rid, now) is False
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(rid))).all()
        assert actions == ["member.unreachable", "member.reachable"]


def test_list_members_by_area(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        members.forget_member(s, people.reporter2.id, now=now, actor=SYSTEM)
        in_tambon = {m.id for m in members.list_members(s, "520101")}
        assert in_tambon == {people.reporter.id, people.moderator.id}
        assert {m.id for m in members.list_members(s, "50")} == {people.outsider.id}
        assert len(members.list_members(s)) == 5
        assert len(members.list_members(s, include_forgotten=True)) == 6
        assert len(members.list_members(s, "TH")) == 5
        assert s.scalar(select(func.count()).select_from(RoleGrant)) == 5
