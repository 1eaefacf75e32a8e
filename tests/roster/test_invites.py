"""Invites: creation rights, codes and links, redemption and every refusal, concurrent redeemers."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from network_hub.db.models import AuditEvent, Invite, Member, RoleGrant
from network_hub.errors import Conflict, HubError, InvalidInput, NotFound, PermissionDenied
from network_hub.permissions import load_actor, system_actor
from network_hub.roster import invites, members
from tests.factories import seed_network

SYSTEM = system_actor()
TELEGRAM_START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _seeded(hub):
    with hub.transaction() as s:
        return seed_network(s, hub.clock.now())


def _invite(hub, **kwargs) -> str:
    args = {"role": "reporter", "area_code": "52010101"} | kwargs
    with hub.transaction() as s:
        return invites.create_invite(s, now=hub.clock.now(), actor=SYSTEM, **args).code


def _state(hub, code: str) -> tuple[int, int, int]:
    with hub.transaction() as s:
        uses = s.scalar(select(Invite.uses).where(Invite.code == code))
        return uses, s.scalar(select(func.count()).select_from(Member)), s.scalar(
            select(func.count()).select_from(RoleGrant))


def test_codes_fit_telegram_start_payloads_and_links(hub) -> None:
    _seeded(hub)
    codes = {_invite(hub) for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert TELEGRAM_START_PAYLOAD.match(code) and len(code) >= 16 and not code.startswith("-")
    with hub.transaction() as s:
        invite = s.scalar(select(Invite).where(Invite.code == next(iter(codes))))
        data = invites.invite_to_dict(invite, "@tambon_pr_bot", now=hub.clock.now())
        assert data["link"] == f"https://t.me/tambon_pr_bot?start={invite.code}"
        assert data["state"] == "active" and data["max_uses"] == 1 and data["uses"] == 0
        assert invite.expires_at == hub.clock.now() + timedelta(days=7)
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "invite")) == "invite.create"


def test_who_may_create_invites(hub) -> None:
    people = _seeded(hub)
    now = hub.clock.now()
    with hub.transaction() as s:
        moderator = load_actor(s, people.moderator.id)
        coordinator = load_actor(s, people.coordinator.id)
        invites.create_invite(s, role="reporter", area_code="52010102", now=now, actor=moderator)
        invites.create_invite(s, role="reporter", area_code="520102", now=now, actor=coordinator)
        refused = [
            (moderator, "moderator", "520101"),  # only admins invite other roles
            (moderator, "reporter", "520102"),  # outside their tambon
            (coordinator, "admin", "5201"),
            (load_actor(s, people.reporter.id), "reporter", "52010101"),
            (load_actor(s, people.outsider.id), "reporter", "52010101"),
        ]
        for actor, role, area in refused:
            with pytest.raises(PermissionDenied):
                invites.create_invite(s, role=role, area_code=area, now=now, actor=actor)
        assert s.scalar(select(func.count()).select_from(Invite)) == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"role": "boss"}, InvalidInput),
        ({"area_code": "99"}, NotFound),
        ({"area_code": "52-01"}, InvalidInput),
        ({"max_uses": 0}, InvalidInput),
        ({"max_uses": 1001}, InvalidInput),
        ({"expires_in": timedelta(minutes=1)}, InvalidInput),
        ({"expires_in": timedelta(days=91)}, InvalidInput),
    ],
)
def test_bad_invites_are_refused_and_change_nothing(hub, kwargs, error) -> None:
    _seeded(hub)
    with hub.transaction() as s:
        with pytest.raises(error):
            invites.create_invite(s, **({"role": "reporter", "area_code": "520101"} | kwargs),
                                  now=hub.clock.now(), actor=SYSTEM)
        assert s.scalar(select(func.count()).select_from(Invite)) == 0


def test_redeem_creates_a_member_then_refuses_when_used_up(hub) -> None:
    _seeded(hub)
    code = _invite(hub, area_code="52010102")
    with hub.transaction() as s:
        member, grant = invites.redeem_invite(s, f"  {code} ", telegram_user_id=700001, name=" ป้า  แดง ",
                                               now=hub.clock.now())
        assert (member.name, member.telegram_user_id, member.status) == ("ป้า แดง", 700001, "active")
        assert (grant.member_id, grant.role, grant.area_code) == (member.id, "reporter", "52010102")
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-3:] == ["member.add", "grant.add", "invite.redeem"]
    before = _state(hub, code)
    assert before[0] == 1
    with hub.transaction() as s, pytest.raises(Conflict) as refused:
        invites.redeem_invite(s, code, telegram_user_id=700002, name="คนที่สอง", now=hub.clock.now())
    assert "ใช้ครบจำนวนแล้ว" in refused.value.message_th
    assert _state(hub, code) == before


def test_a_second_tap_by_the_same_person_is_harmless(hub) -> None:
    _seeded(hub)
    code = _invite(hub, max_uses=2)
    with hub.transaction() as s:
        first = invites.redeem_invite(s, code, telegram_user_id=700001, name="ก", now=hub.clock.now())
        first_ids = (first[0].id, first[1].id)
    with hub.transaction() as s:
        again = invites.redeem_invite(s, code, telegram_user_id=700001, name="ก", now=hub.clock.now())
        assert (again[0].id, again[1].id) == first_ids
    assert _state(hub, code)[0] == 1


def test_an_existing_member_gains_the_grant(hub) -> None:
    people = _seeded(hub)
    code = _invite(hub, role="moderator", area_code="520102")
    with hub.transaction() as s:
        members.mark_unreachable(s, people.reporter.id, hub.clock.now())
    with hub.transaction() as s:
        member, _grant = invites.redeem_invite(s, code, telegram_user_id=1001, name="ignored",
                                               now=hub.clock.now())
        assert member.id == people.reporter.id and member.name == "สมศรี ใจดี"
        assert member.unreachable_since is None
        assert {(g.role, g.area_code) for g in members.grants_of(s, member.id)} == {
            ("reporter", "52010101"), ("moderator", "520102")}


def test_expired_revoked_unknown_and_suspended_are_refused_kindly(hub) -> None:
    people = _seeded(hub)
    expired = _invite(hub, expires_in=timedelta(hours=1))
    revoked = _invite(hub)
    fine = _invite(hub)
    with hub.transaction() as s:
        invites.revoke_invite(s, revoked, now=hub.clock.now(), actor=SYSTEM)
        members.suspend_member(s, people.reporter2.id, now=hub.clock.now(), actor=SYSTEM)
    hub.clock.advance(hours=2)
    cases = [
        (expired, 700001, Conflict, "หมดอายุ"),
        (revoked, 700001, Conflict, "ถูกยกเลิก"),
        ("NoSuchCode123", 700001, NotFound, "ไม่พบรหัสเชิญ"),
        ("bad code with spaces", 700001, NotFound, "ไม่พบรหัสเชิญ"),
        ("x" * 65, 700001, NotFound, "ไม่พบรหัสเชิญ"),
        (fine, 1002, PermissionDenied, "ถูกระงับ"),  # reporter2 is suspended
    ]
    for code, tg, error, thai in cases:
        before = _state(hub, fine)
        with hub.transaction() as s, pytest.raises(error) as refused:
            invites.redeem_invite(s, code, telegram_user_id=tg, name="ใคร", now=hub.clock.now())
        assert thai in refused.value.message_th and "ผู้ดูแล" in refused.value.message_th  # who to ask
        assert _state(hub, fine) == before


def test_revoke_rules(hub) -> None:
    people = _seeded(hub)
    code = _invite(hub, area_code="520102")
    with hub.transaction() as s:
        with pytest.raises(PermissionDenied):
            invites.revoke_invite(s, code, now=hub.clock.now(), actor=load_actor(s, people.moderator.id))
        invites.revoke_invite(s, code, now=hub.clock.now(), actor=load_actor(s, people.coordinator.id))
        with pytest.raises(Conflict, match="already revoked"):
            invites.revoke_invite(s, code, now=hub.clock.now(), actor=SYSTEM)
        with pytest.raises(NotFound):
            invites.revoke_invite(s, "nope", now=hub.clock.now(), actor=SYSTEM)
        assert invites.invite_state(s.scalar(select(Invite)), hub.clock.now()) == "revoked"


def test_list_invites_by_area(hub) -> None:
    _seeded(hub)
    a = _invite(hub, area_code="52010101")
    b = _invite(hub, area_code="500101")
    with hub.transaction() as s:
        assert [i.code for i in invites.list_invites(s, "52")] == [a]
        assert {i.code for i in invites.list_invites(s)} == {a, b}
        assert {i.code for i in invites.list_invites(s, "TH")} == {a, b}


def _redeem_in_thread(hub, code: str, tg: int, results: list, barrier: threading.Barrier | None) -> None:
    try:
        if barrier is not None:
            barrier.wait()
        with hub.transaction() as s:
            invites.redeem_invite(s, code, telegram_user_id=tg, name=f"คน {tg}", now=hub.clock.now())
        results.append("ok")
    except HubError as exc:
        results.append(type(exc).__name__)


def test_concurrent_redeemers_never_exceed_max_uses(hub) -> None:
    _seeded(hub)
    code = _invite(hub, max_uses=2)
    results: list[str] = []
    barrier = threading.Barrier(6)
    threads = [threading.Thread(target=_redeem_in_thread, args=(hub, code, 800000 + i, results, barrier))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["Conflict"] * 4 + ["ok"] * 2
    uses, _members, _grants = _state(hub, code)
    with hub.transaction() as s:
        joined = s.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.area_code == "52010101"))
    assert uses == 2 and joined == 1 + 2  # the seeded reporter + two newcomers


def test_a_redeemer_blocked_behind_another_is_refused_by_the_conditional_update(hub, backend) -> None:
    """PostgreSQL, READ COMMITTED: B read uses=0 before A committed, yet B cannot take a second use."""
    if backend != "postgresql":
        pytest.skip("the row-lock interleaving is PostgreSQL's; SQLite serialises writers at BEGIN")
    _seeded(hub)
    code = _invite(hub, max_uses=1)
    results: list[str] = []
    with hub.transaction() as s_a:
        invites.redeem_invite(s_a, code, telegram_user_id=900001, name="A", now=hub.clock.now())
        b = threading.Thread(target=_redeem_in_thread, args=(hub, code, 900002, results, None))
        b.start()
        # Wait until B is queued on A's row lock (a fresh transaction per look: pg_stat_activity
        # is a snapshot taken once per transaction).
        for _ in range(2000):
            with hub.engine.connect() as probe:
                waiting = probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE invites%'")).scalar()
            if waiting or not b.is_alive():
                break
            time.sleep(0.01)
        assert waiting == 1, "B never blocked on A's row lock"
    b.join()
    assert results == ["Conflict"]
    assert _state(hub, code)[0] == 1
