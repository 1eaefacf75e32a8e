"""The permission table: every role × action × area relation, own items, suspended members.

The expected table is written out here on purpose (not derived from ``permissions.ROLES_FOR``):
it is the product's rule of who may do what, and the code must match it.
"""

from __future__ import annotations

import pytest

from network_hub.errors import NotFound, PermissionDenied
from network_hub.permissions import Action, Actor, decide, load_actor, require, system_actor
from network_hub.roster.members import suspend_member
from network_hub.states import MemberStatus, Role
from tests.factories import seed_network

R, M, C, A = Role.REPORTER, Role.MODERATOR, Role.COORDINATOR, Role.ADMIN

# Who may do each action where their grant reaches.
ALLOWED: dict[Action, set[Role]] = {
    Action.SUBMIT: {R, M, C, A},
    Action.VIEW_ITEM: {M, C, A},
    Action.MODERATE: {M, A},
    Action.CHANGE_PUBLISHED: {M, A},
    Action.CORRECT_PUBLISHED: {M, A},
    Action.RESOLVE_DELIVERY: {M, A},
    Action.VIEW_STATS: {M, C, A},
    Action.INVITE: {M, C, A},  # inviting reporters; other roles: admins only (below)
    Action.MANAGE_ROSTER: {A},
    Action.ASSIGN_ROLE: {C, A},  # reporter/moderator roles for coordinators; the rest: admins (below)
    Action.MANAGE_OUTLETS: {A},
    Action.MANAGE_AREAS: {A},
}

# (grant area, target area, does the grant reach the target?)
RELATIONS: dict[str, tuple[str, str, bool]] = {
    "same area": ("520101", "520101", True),
    "area below": ("520101", "52010101", True),
    "area above": ("520101", "5201", False),
    "sibling": ("520101", "520102", False),
    "sibling village": ("52010101", "52010102", False),
    "other province": ("520101", "500101", False),
    "TH root": ("TH", "52010101", True),
}

MEMBER_ID = 7
OTHER_AUTHOR = 99


def test_the_table_names_every_action_and_role() -> None:
    assert set(ALLOWED) == set(Action)
    assert set().union(*ALLOWED.values()) == set(Role)


@pytest.mark.parametrize("relation", list(RELATIONS))
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_role_action_area_relation(role: Role, action: Action, relation: str) -> None:
    grant_area, target, reaches = RELATIONS[relation]
    actor = Actor(member_id=MEMBER_ID, grants=((role.value, grant_area),))
    expected = reaches and role in ALLOWED[action]
    decision = decide(actor, action, target, author_id=OTHER_AUTHOR)
    assert decision.allowed is expected, f"{role} {action} {relation}"
    if not expected:
        assert decision.reason_en and decision.reason_th
        with pytest.raises(PermissionDenied):
            require(actor, action, target, author_id=OTHER_AUTHOR)


@pytest.mark.parametrize("relation", list(RELATIONS))
@pytest.mark.parametrize("invite_role", list(Role))
@pytest.mark.parametrize("role", list(Role))
def test_who_may_invite_which_role(role: Role, invite_role: Role, relation: str) -> None:
    grant_area, target, reaches = RELATIONS[relation]
    actor = Actor(member_id=MEMBER_ID, grants=((role.value, grant_area),))
    may_invite = role == A or (role in (M, C) and invite_role == R)
    assert decide(actor, Action.INVITE, target, invite_role=invite_role.value).allowed is (reaches and may_invite)


@pytest.mark.parametrize("role", [M, A])
@pytest.mark.parametrize("grant_area", ["52010101", "520101", "TH"])
def test_nobody_moderates_their_own_item(role: Role, grant_area: str) -> None:
    actor = Actor(member_id=MEMBER_ID, grants=((role.value, grant_area),))
    own = decide(actor, Action.MODERATE, "52010101", author_id=MEMBER_ID)
    assert not own.allowed
    assert "own item" in own.reason_en and own.reason_th
    assert decide(actor, Action.MODERATE, "52010101", author_id=OTHER_AUTHOR).allowed


def test_an_author_sees_their_own_item_anywhere_but_not_others() -> None:
    reporter = Actor(member_id=MEMBER_ID, grants=((R.value, "52010101"),))
    assert decide(reporter, Action.VIEW_ITEM, "52010101", author_id=MEMBER_ID).allowed
    assert decide(reporter, Action.VIEW_ITEM, "50010101", author_id=MEMBER_ID).allowed  # grant moved away
    assert not decide(reporter, Action.VIEW_ITEM, "52010101", author_id=OTHER_AUTHOR).allowed


def test_a_member_with_no_grants_may_do_nothing_but_see_their_own_items() -> None:
    nobody = Actor(member_id=MEMBER_ID)
    for action in Action:
        assert not decide(nobody, action, "52010101", author_id=OTHER_AUTHOR).allowed
    assert decide(nobody, Action.VIEW_ITEM, "52010101", author_id=MEMBER_ID).allowed


def test_several_grants_combine() -> None:
    actor = Actor(member_id=MEMBER_ID, grants=((R.value, "52010101"), (M.value, "500101")))
    assert decide(actor, Action.SUBMIT, "52010101").allowed
    assert not decide(actor, Action.MODERATE, "52010101", author_id=OTHER_AUTHOR).allowed
    assert decide(actor, Action.MODERATE, "50010101", author_id=OTHER_AUTHOR).allowed


@pytest.mark.parametrize("status", [MemberStatus.SUSPENDED, MemberStatus.FORGOTTEN])
@pytest.mark.parametrize("action", list(Action))
def test_suspended_and_forgotten_members_may_do_nothing(status: MemberStatus, action: Action) -> None:
    actor = Actor(member_id=MEMBER_ID, status=status.value, grants=((A.value, "TH"),))
    decision = decide(actor, action, "52010101", author_id=MEMBER_ID, invite_role=R.value)
    assert not decision.allowed
    assert decision.reason_th == "บัญชีของท่านถูกระงับการใช้งาน"


def test_the_system_actor_is_a_national_admin() -> None:
    hub_itself = system_actor()
    for action in Action:
        assert decide(hub_itself, action, "50010101", author_id=OTHER_AUTHOR, invite_role=A.value).allowed


# -- load_actor: on both databases --------------------------------------------------------------
def test_load_actor_reads_grants_and_status(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        coordinator = load_actor(s, people.coordinator.id)
        assert coordinator.grants == (("coordinator", "5201"),)
        assert coordinator.status == MemberStatus.ACTIVE
        assert decide(coordinator, Action.VIEW_STATS, "52010201").allowed
        assert not decide(coordinator, Action.MODERATE, "52010201", author_id=OTHER_AUTHOR).allowed
        suspend_member(s, people.reporter.id, now=now, actor=system_actor())
    with hub.transaction() as s:
        reporter = load_actor(s, people.reporter.id)
        assert reporter.status == MemberStatus.SUSPENDED
        assert not decide(reporter, Action.SUBMIT, "52010101").allowed


def test_load_actor_of_an_unknown_member_is_not_found(hub) -> None:
    with hub.transaction() as s, pytest.raises(NotFound):
        load_actor(s, 424242)


# -- ASSIGN_ROLE: who may give or take away which role, to whom ----------------------------------
TARGET_ID = 55


@pytest.mark.parametrize("relation", list(RELATIONS))
@pytest.mark.parametrize("grant_role", list(Role))
@pytest.mark.parametrize("role", list(Role))
def test_who_may_assign_which_role(role: Role, grant_role: Role, relation: str) -> None:
    """Every role × role to give × area relation, for a reporter of the target area."""
    grant_area, target, reaches = RELATIONS[relation]
    actor = Actor(member_id=MEMBER_ID, grants=((role.value, grant_area),))
    may = role == A or (role == C and grant_role in (R, M))
    decision = decide(actor, Action.ASSIGN_ROLE, target, grant_role=grant_role.value, target_id=TARGET_ID,
                      target_grants=((R.value, target),))
    assert decision.allowed is (reaches and may), f"{role} gives {grant_role} ({relation})"
    if not decision.allowed:
        assert decision.reason_en and decision.reason_th
        assert not any("a" <= ch <= "z" for ch in decision.reason_th)  # Thai, no raw role codes


def test_assign_refusals_say_why_in_thai() -> None:
    coordinator = Actor(member_id=MEMBER_ID, grants=((C.value, "5201"),))
    moderator = Actor(member_id=MEMBER_ID, grants=((M.value, "520101"),))
    reporter_inside = ((R.value, "52010101"),)
    outside = decide(coordinator, Action.ASSIGN_ROLE, "50010101", grant_role=R.value, target_id=TARGET_ID,
                     target_grants=reporter_inside)
    assert "นอกพื้นที่ที่ท่านรับผิดชอบ" in outside.reason_th
    too_high = decide(coordinator, Action.ASSIGN_ROLE, "52010101", grant_role=C.value, target_id=TARGET_ID,
                      target_grants=reporter_inside)
    assert "ผู้ประสานงานต้องให้ผู้ดูแลระบบดำเนินการ" in too_high.reason_th
    not_theirs = decide(moderator, Action.ASSIGN_ROLE, "52010101", grant_role=R.value, target_id=TARGET_ID,
                        target_grants=reporter_inside)
    assert "ไม่มีสิทธิ์มอบหรือถอนบทบาท" in not_theirs.reason_th
    own = decide(coordinator, Action.ASSIGN_ROLE, "52010101", grant_role=M.value, target_id=MEMBER_ID,
                 target_grants=((C.value, "5201"),))
    assert "ของตนเอง" in own.reason_th


@pytest.mark.parametrize("grant_role", [R, M])
def test_a_coordinator_never_assigns_to_themselves_an_admin_may(grant_role: Role) -> None:
    coordinator = Actor(member_id=MEMBER_ID, grants=((C.value, "5201"),))
    mine = ((C.value, "5201"),)
    assert not decide(coordinator, Action.ASSIGN_ROLE, "520101", grant_role=grant_role.value, target_id=MEMBER_ID,
                      target_grants=mine).allowed
    admin = Actor(member_id=MEMBER_ID, grants=((A.value, "5201"),))
    assert decide(admin, Action.ASSIGN_ROLE, "520101", grant_role=grant_role.value, target_id=MEMBER_ID,
                  target_grants=((A.value, "5201"),)).allowed


# The target member's grants (besides nothing): may a coordinator of 5201 give them a reporter role
# in 52010101? Only when every grant they hold is a reporter/moderator grant inside 5201.
TARGETS: dict[str, tuple[tuple[tuple[str, str], ...], bool]] = {
    "no grant yet": ((), True),
    "reporter inside": (((R.value, "52010102"),), True),
    "moderator inside": (((M.value, "520101"),), True),
    "reporter inside and outside": (((R.value, "52010101"), (R.value, "50010101")), False),
    "moderator outside": (((M.value, "500101"),), False),
    "coordinator inside": (((C.value, "5201"),), False),
    "admin anywhere": (((A.value, "TH"),), False),
    "moderator of the whole province": (((M.value, "52"),), False),
}


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_coordinator_changes_only_the_roles_of_their_own_areas_people(target: str) -> None:
    target_grants, expected = TARGETS[target]
    coordinator = Actor(member_id=MEMBER_ID, grants=((C.value, "5201"),))
    decision = decide(coordinator, Action.ASSIGN_ROLE, "52010101", grant_role=R.value, target_id=TARGET_ID,
                      target_grants=target_grants)
    assert decision.allowed is expected, target
    if not expected:
        assert "ผู้ดูแลระบบ" in decision.reason_th
    admin = Actor(member_id=MEMBER_ID, grants=((A.value, "TH"),))  # admins keep all
    assert decide(admin, Action.ASSIGN_ROLE, "52010101", grant_role=A.value, target_id=TARGET_ID,
                  target_grants=target_grants).allowed


def test_a_coordinator_of_two_areas_may_change_people_who_work_in_both() -> None:
    coordinator = Actor(member_id=MEMBER_ID, grants=((C.value, "5201"), (C.value, "500101")))
    both = ((R.value, "52010101"), (M.value, "500101"))
    assert decide(coordinator, Action.ASSIGN_ROLE, "50010101", grant_role=R.value, target_id=TARGET_ID,
                  target_grants=both).allowed


def test_a_coordinator_who_is_also_a_moderator_gains_nothing_from_it() -> None:
    """Another role over the area (moderator) gives no assigning power of its own."""
    actor = Actor(member_id=MEMBER_ID, grants=((C.value, "520101"), (M.value, "520102")))
    assert decide(actor, Action.ASSIGN_ROLE, "52010101", grant_role=R.value, target_id=TARGET_ID,
                  target_grants=()).allowed
    refused = decide(actor, Action.ASSIGN_ROLE, "52010201", grant_role=R.value, target_id=TARGET_ID,
                     target_grants=())
    assert not refused.allowed and "นอกพื้นที่" in refused.reason_th
