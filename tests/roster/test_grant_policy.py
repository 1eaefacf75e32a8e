"""Who may add and remove role grants, through the roster service every entry path uses.

The policy (``permissions.decide_assign``): an admin any role in their area; a coordinator the
reporter and moderator roles inside their own coordinator area, for members who work only there and
are not coordinators or admins, never on themselves; moderators and reporters never. Every grant and
removal is audited with its actor; every refusal is a Thai message and changes nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, RoleGrant
from network_hub.errors import PermissionDenied
from network_hub.permissions import load_actor
from network_hub.roster import members
from network_hub.roster.csv_io import import_roster
from network_hub.states import Role
from tests.factories import People, seed_network

# Where the grant goes, as seen from the coordinator of district 5201.
AREAS = {"inside": "52010201", "outside": "50010101"}
# Who may give which role (the product's rule, written out rather than derived from the code).
MAY_ASSIGN = {
    "reporter": set(),
    "moderator": set(),
    "outsider": set(),  # a Chiang Mai moderator
    "coordinator": {(Role.REPORTER, "inside"), (Role.MODERATOR, "inside")},
    "admin": {(role, where) for role in Role for where in AREAS},
}


def _state(s) -> tuple[set[tuple[int, str, str]], int]:
    grants = {(g.member_id, g.role, g.area_code) for g in s.scalars(select(RoleGrant))}
    return grants, s.scalar(select(func.count()).select_from(AuditEvent))


def _last_audit(s) -> AuditEvent:
    return s.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))


@pytest.mark.parametrize("where", list(AREAS))
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("who", list(MAY_ASSIGN))
def test_every_role_gives_and_takes_away_only_what_the_policy_allows(hub, who: str, role: Role, where: str) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    target, area = people.reporter2.id, AREAS[where]  # a reporter of 52010102, inside the district
    allowed = (role, where) in MAY_ASSIGN[who]
    with hub.transaction() as s:
        actor = load_actor(s, getattr(people, who).id)
        before = _state(s)
        if allowed:
            members.add_grant(s, target, role.value, area, now=now, actor=actor)
            event = _last_audit(s)
            assert (event.action, event.actor_id) == ("grant.add", actor.member_id)
            assert event.after == {"member_id": target, "role": role.value, "area_code": area}
            members.remove_grant(s, target, role.value, area, now=now, actor=actor)
            event = _last_audit(s)
            assert (event.action, event.actor_id) == ("grant.remove", actor.member_id)
            assert _state(s)[0] == before[0]
        else:
            with pytest.raises(PermissionDenied) as refused:
                members.add_grant(s, target, role.value, area, now=now, actor=actor)
            assert refused.value.message_th and not refused.value.message_th.isascii()
            assert _state(s) == before


@pytest.mark.parametrize("who", ["reporter", "moderator", "outsider", "coordinator"])
def test_removing_follows_the_same_rule(hub, who: str) -> None:
    """The seeded reporter's own grant (52010101, inside the district): only coordinator and admin."""
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    with hub.transaction() as s:
        actor = load_actor(s, getattr(people, who).id)
        before = _state(s)
        if who == "coordinator":
            members.remove_grant(s, people.reporter.id, "reporter", "52010101", now=now, actor=actor)
            assert (people.reporter.id, "reporter", "52010101") not in _state(s)[0]
            assert _last_audit(s).action == "grant.remove"
        else:
            with pytest.raises(PermissionDenied):
                members.remove_grant(s, people.reporter.id, "reporter", "52010101", now=now, actor=actor)
            assert _state(s) == before


def _refused(hub, people: People, target: int, role: str, area: str, *, remove: bool = False) -> str:
    with hub.transaction() as s:
        actor = load_actor(s, people.coordinator.id)
        before = _state(s)
        with pytest.raises(PermissionDenied) as refused:
            change = members.remove_grant if remove else members.add_grant
            change(s, target, role, area, now=hub.clock.now(), actor=actor)
        assert _state(s) == before
        return refused.value.message_th


def test_a_coordinator_cannot_widen_their_own_power_or_touch_others_beyond_reporters_and_moderators(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    # Never on themselves, not even a lower role inside their area.
    assert "ของตนเอง" in _refused(hub, people, people.coordinator.id, "moderator", "520101")
    assert "ผู้ดูแลระบบดำเนินการ" in _refused(hub, people, people.coordinator.id, "coordinator", "5201", remove=True)
    # Never coordinator or admin roles, to anyone.
    assert "ผู้ดูแลระบบดำเนินการ" in _refused(hub, people, people.reporter.id, "coordinator", "520101")
    assert "ผู้ดูแลระบบดำเนินการ" in _refused(hub, people, people.reporter.id, "admin", "52010101")
    # Never the roles of an admin, nor of someone who also works outside the district.
    assert "เป็นผู้ดูแลระบบ" in _refused(hub, people, people.admin.id, "reporter", "52010101")
    assert "นอกพื้นที่" in _refused(hub, people, people.outsider.id, "reporter", "52010101")
    # Never outside their area.
    assert "นอกพื้นที่ที่ท่านรับผิดชอบ" in _refused(hub, people, people.reporter.id, "reporter", "50010101")


def test_a_coordinator_makes_a_reporter_the_tambon_moderator_then_moves_them(hub) -> None:
    """The district office's everyday case: promote a volunteer, then move them to another tambon."""
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    rid = people.reporter.id
    with hub.transaction() as s:
        coordinator = load_actor(s, people.coordinator.id)
        members.add_grant(s, rid, "moderator", "520102", now=now, actor=coordinator)
        members.remove_grant(s, rid, "reporter", "52010101", now=now, actor=coordinator)
        members.add_grant(s, rid, "reporter", "52010201", now=now, actor=coordinator)
        assert {(g.role, g.area_code) for g in members.grants_of(s, rid)} == {
            ("moderator", "520102"), ("reporter", "52010201")}
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == people.coordinator.id)
                            .order_by(AuditEvent.id)).all()
        assert actions == ["grant.add", "grant.remove", "grant.add"]


def test_the_page_helpers_agree_with_the_service(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        coordinator = load_actor(s, people.coordinator.id)
        assert members.assignable_roles(coordinator) == ["reporter", "moderator"]
        assert members.assignable_roles(load_actor(s, people.admin.id)) == [r.value for r in Role]
        assert members.assignable_roles(load_actor(s, people.moderator.id)) == []
        assert members.may_assign_roles_of(s, coordinator, people.reporter)
        assert members.may_assign_roles_of(s, coordinator, people.moderator)
        assert not members.may_assign_roles_of(s, coordinator, people.coordinator)  # themselves
        assert not members.may_assign_roles_of(s, coordinator, people.admin)
        assert not members.may_assign_roles_of(s, coordinator, people.outsider)
        members.require_assign_somewhere(coordinator, "moderator")
        members.require_assign_somewhere(coordinator, "not-a-role")  # the service explains the role later
        with pytest.raises(PermissionDenied):
            members.require_assign_somewhere(coordinator, "admin")
        with pytest.raises(PermissionDenied, match="only coordinators"):
            members.require_assign_somewhere(load_actor(s, people.moderator.id))


def test_a_coordinator_still_cannot_import_a_roster(hub) -> None:
    """Import creates members: that stays the admin's (MANAGE_ROSTER), grants or not."""
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    data = "name,role,area_code,phone\nมานี มีนา,reporter,52010101,0891234567\n".encode()
    with hub.transaction() as s:
        before = _state(s)
        report = import_roster(s, data, dry_run=False, now=now, actor=load_actor(s, people.coordinator.id))
        assert report.errors and not report.applied
        assert _state(s) == before
