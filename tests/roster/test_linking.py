"""Personal invites, linking by a shared phone number, merging duplicates, the double-redeem race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, Invite, Member, NewsItem, Notification, RoleGrant
from network_hub.errors import Conflict, HubError, InvalidInput, NotFound, PermissionDenied
from network_hub.permissions import load_actor, system_actor
from network_hub.roster import invites, members
from network_hub.roster.linking import link_by_phone, telegram_phone
from network_hub.roster.merge import merge_members
from tests.factories import seed_network

SYSTEM = system_actor()


def _imported(hub, name: str = "มานี มีนา", phone: str = "0891234567", role: str = "reporter",
              area: str = "52010101") -> int:
    """A volunteer as `roster import` leaves them: name, phone and grant, no Telegram id."""
    with hub.transaction() as s:
        member = members.add_member(s, name=name, phone=phone, now=hub.clock.now(), actor=SYSTEM)
        members.add_grant(s, member.id, role, area, now=hub.clock.now(), actor=SYSTEM)
        return member.id


def _count(hub, model) -> int:
    with hub.transaction() as s:
        return s.scalar(select(func.count()).select_from(model))


def _personal(hub, member_id: int, actor=SYSTEM) -> str:
    with hub.transaction() as s:
        return invites.ensure_personal_invite(s, member_id, now=hub.clock.now(), actor=actor).code


# -- personal invites ------------------------------------------------------------------------------
def test_a_personal_invite_binds_the_imported_member_and_never_makes_a_second(hub) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    manee = _imported(hub)
    code = _personal(hub, manee)
    before = _count(hub, Member)
    with hub.transaction() as s:
        member, grant = invites.redeem_invite(s, code, telegram_user_id=777001, name="Manee TG", now=hub.clock.now())
        assert member.id == manee and member.name == "มานี มีนา" and grant.area_code == "52010101"
    assert _count(hub, Member) == before
    with hub.transaction() as s:
        assert s.get(Member, manee).telegram_user_id == 777001
        assert s.scalar(select(Invite.uses).where(Invite.code == code)) == 1
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(manee))))
        assert "member.link_telegram" in actions
        # A second tap changes nothing and is not an error.
        again, _ = invites.redeem_invite(s, code, telegram_user_id=777001, name="x", now=hub.clock.now())
        assert again.id == manee
    # Someone else who got hold of the used link cannot take the member over.
    with hub.transaction() as s, pytest.raises(Conflict):
        invites.redeem_invite(s, code, telegram_user_id=777002, name="thief", now=hub.clock.now())
    assert _count(hub, Member) == before


def test_a_personal_invite_for_someone_already_on_telegram_under_another_member_is_refused(hub) -> None:
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
    manee = _imported(hub)
    code = _personal(hub, manee)
    with hub.transaction() as s, pytest.raises(Conflict) as refused:
        invites.redeem_invite(s, code, telegram_user_id=people.reporter.telegram_user_id, name="x",
                              now=hub.clock.now())
    assert "รวมรายชื่อ" in refused.value.message_th
    with hub.transaction() as s:
        assert s.get(Member, manee).telegram_user_id is None
        assert s.scalar(select(Invite.uses).where(Invite.code == code)) == 0


def test_who_may_make_a_personal_invite(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    reporter = _imported(hub, "ใหม่ หมู่หนึ่ง", "0891111111")
    admin_to_be = _imported(hub, "แอดมิน ใหม่", "0892222222", role="admin", area="TH")
    with hub.transaction() as s:
        moderator = load_actor(s, people.moderator.id)
        outsider = load_actor(s, people.outsider.id)
        invites.ensure_personal_invite(s, reporter, now=now, actor=moderator)
        with pytest.raises(PermissionDenied):  # a link that would make its holder an admin
            invites.ensure_personal_invite(s, admin_to_be, now=now, actor=moderator)
        with pytest.raises(PermissionDenied):
            invites.ensure_personal_invite(s, reporter, now=now, actor=outsider)
        s.get(Member, people.reporter.id).line_user_id = "U" + "1" * 32
        with pytest.raises(Conflict):  # already on Telegram and LINE (Telegram only: tests/line/test_link_invite.py)
            invites.ensure_personal_invite(s, people.reporter.id, now=now, actor=SYSTEM)
        with pytest.raises(InvalidInput):
            invites.create_invite(s, role="reporter", area_code="52010101", max_uses=5, now=now, actor=SYSTEM,
                                  member_id=reporter)
        with pytest.raises(NotFound):
            invites.ensure_personal_invite(s, 99999, now=now, actor=SYSTEM)
    with hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Invite)) == 1
        # Asking again for the sheet returns the same usable link, not a new one.
        first = invites.active_personal_invite(s, reporter, now)
        assert invites.ensure_personal_invite(s, reporter, now=now, actor=SYSTEM).id == first.id


def test_forgetting_a_member_revokes_their_personal_invite(hub) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    manee = _imported(hub)
    code = _personal(hub, manee)
    with hub.transaction() as s:
        members.forget_member(s, manee, now=hub.clock.now(), actor=SYSTEM)
    with hub.transaction() as s, pytest.raises(Conflict):
        invites.redeem_invite(s, code, telegram_user_id=777003, name="x", now=hub.clock.now())


# -- linking by phone ------------------------------------------------------------------------------
def test_telegram_phone_formats() -> None:
    assert telegram_phone("66891234567") == "+66891234567"
    assert telegram_phone("+66891234567") == "+66891234567"
    assert telegram_phone("0891234567") == "+66891234567"
    with pytest.raises(InvalidInput):
        telegram_phone("12")


def test_sharing_ones_own_phone_links_the_roster_member(hub) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    manee = _imported(hub)
    before = _count(hub, Member)
    with hub.transaction() as s:
        result = link_by_phone(s, telegram_user_id=777010, contact_user_id=777010, phone="66891234567",
                               now=hub.clock.now())
    assert (result.outcome, result.member_id) == ("linked", manee)
    assert _count(hub, Member) == before
    with hub.transaction() as s:
        assert s.get(Member, manee).telegram_user_id == 777010
        again = link_by_phone(s, telegram_user_id=777010, contact_user_id=777010, phone="+66891234567",
                              now=hub.clock.now())
        assert again.outcome == "already"


@pytest.mark.parametrize(
    ("tg", "contact", "phone", "error", "thai"),
    [
        (777020, 999999, "66891234567", PermissionDenied, "ของท่านเอง"),  # a forwarded contact
        (777020, None, "66891234567", PermissionDenied, "ของท่านเอง"),  # a typed contact card
        (777020, 777020, "66899999999", NotFound, "ไม่พบเบอร์ 089-999-9999"),
        (1001, 1001, "abc", InvalidInput, "ไม่ใช่หมายเลขโทรศัพท์"),
    ],
)
def test_refused_phone_shares_change_nothing(hub, tg, contact, phone, error, thai) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    manee = _imported(hub)
    before = _count(hub, Member)
    with hub.transaction() as s, pytest.raises(error) as refused:
        link_by_phone(s, telegram_user_id=tg, contact_user_id=contact, phone=phone, now=hub.clock.now())
    assert thai in refused.value.message_th
    assert _count(hub, Member) == before
    with hub.transaction() as s:
        assert s.get(Member, manee).telegram_user_id is None


def test_a_phone_already_linked_to_another_account_is_refused(hub) -> None:
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
    with hub.transaction() as s, pytest.raises(Conflict) as refused:
        link_by_phone(s, telegram_user_id=777030, contact_user_id=777030, phone=people.reporter.phone,
                      now=hub.clock.now())
    assert "ผูกกับบัญชี Telegram อื่นแล้ว" in refused.value.message_th


def test_a_generic_joiner_who_shares_the_roster_phone_is_merged_into_the_roster_member(hub) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    manee = _imported(hub)
    code = _invite_generic(hub)
    with hub.transaction() as s:
        dup, _ = invites.redeem_invite(s, code, telegram_user_id=777040, name="Manee", now=hub.clock.now())
        dup_id = dup.id
    before = _count(hub, Member)
    with hub.transaction() as s:
        result = link_by_phone(s, telegram_user_id=777040, contact_user_id=777040, phone="66891234567",
                               now=hub.clock.now())
    assert (result.outcome, result.member_id) == ("merged", manee)
    assert _count(hub, Member) == before - 1
    with hub.transaction() as s:
        kept = s.get(Member, manee)
        assert kept.telegram_user_id == 777040 and kept.phone == "+66891234567" and s.get(Member, dup_id) is None
        assert s.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.member_id == manee)) == 1


def test_a_member_without_a_roster_phone_saves_theirs(hub) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    code = _invite_generic(hub)
    with hub.transaction() as s:
        member, _ = invites.redeem_invite(s, code, telegram_user_id=777050, name="New", now=hub.clock.now())
        member_id = member.id
    with hub.transaction() as s:
        result = link_by_phone(s, telegram_user_id=777050, contact_user_id=777050, phone="66897777777",
                               now=hub.clock.now())
        assert result.outcome == "phone_saved" and s.get(Member, member_id).phone == "+66897777777"


def _invite_generic(hub, **kwargs) -> str:
    with hub.transaction() as s:
        return invites.create_invite(s, role="reporter", area_code="52010101", now=hub.clock.now(), actor=SYSTEM,
                                     **kwargs).code


# -- merging -----------------------------------------------------------------------------------------
def test_merge_moves_grants_items_notifications_and_audit(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    manee = _imported(hub)
    code = _invite_generic(hub)
    with hub.transaction() as s:
        dup, _ = invites.redeem_invite(s, code, telegram_user_id=777060, name="Manee", now=now)
        dup_id = dup.id
        members.add_grant(s, dup_id, "reporter", "52010102", now=now, actor=SYSTEM)
        s.add(NewsItem(receipt_no="NH-2026-000901", village_code="52010101", author_id=dup_id,
                       category="event", title="t", body="b", status="submitted", submitted_at=now,
                       created_at=now, updated_at=now))
        s.add(Notification(member_id=dup_id, kind="status", payload={}, state="pending", due_at=now,
                           created_at=now))
        members.set_password(s, dup_id, "correct horse battery", now=now)
    with hub.transaction() as s:
        admin = load_actor(s, people.admin.id)
        kept = merge_members(s, manee, dup_id, now=now, actor=admin, reason="same person")
        assert kept.telegram_user_id == 777060 and kept.password_hash
    with hub.transaction() as s:
        assert s.get(Member, dup_id) is None
        grants = {(g.role, g.area_code) for g in members.grants_of(s, manee)}
        assert grants == {("reporter", "52010101"), ("reporter", "52010102")}  # the shared grant once
        assert s.scalar(select(NewsItem.author_id).where(NewsItem.receipt_no == "NH-2026-000901")) == manee
        assert s.scalar(select(Notification.member_id)) == manee
        events = {e.action: e for e in s.scalars(select(AuditEvent).where(AuditEvent.action.like("member.merge%")))}
        assert events["member.merge"].object_id == str(manee) and events["member.merge"].reason == "same person"
        assert events["member.merged_into"].object_id == str(dup_id)
        # The duplicate's own history (its creation by the invite) is kept, now attributed to the kept id.
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "invite.redeem", AuditEvent.actor_id == manee)) == 1


def test_bad_merges_change_nothing(hub) -> None:
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
    manee = _imported(hub)
    with hub.transaction() as s:
        moderator = load_actor(s, people.moderator.id)
        with pytest.raises(InvalidInput):
            merge_members(s, manee, manee, now=now, actor=SYSTEM)
        with pytest.raises(NotFound):
            merge_members(s, manee, 99999, now=now, actor=SYSTEM)
        with pytest.raises(Conflict):  # two phones, two Telegram ids: two people
            merge_members(s, people.reporter.id, people.reporter2.id, now=now, actor=SYSTEM)
        with pytest.raises(PermissionDenied):  # moderators do not manage the roster
            merge_members(s, manee, people.reporter.id, now=now, actor=moderator)
        with pytest.raises(PermissionDenied):  # a Chiang Mai admin cannot reach Lampang members
            cm_admin = members.add_member(s, name="แอดมินเชียงใหม่", now=now, actor=SYSTEM)
            members.add_grant(s, cm_admin.id, "admin", "50", now=now, actor=SYSTEM)
            merge_members(s, manee, people.reporter.id, now=now, actor=load_actor(s, cm_admin.id))
    with hub.transaction() as s:
        assert s.get(Member, people.reporter2.id) is not None and s.get(Member, manee) is not None
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "member.merge")) == 0


# -- the double redeem race (was an IntegrityError) -------------------------------------------------
def test_the_same_new_person_redeeming_two_links_at_once_gets_a_hub_error(hub, backend) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    codes = [_invite_generic(hub), _invite_generic(hub, max_uses=5)]
    for attempt in range(3):  # the interleaving is the database's; every outcome must be a clean one
        tg = 888000 + attempt
        results: list[str] = []
        barrier = threading.Barrier(2)

        def redeem(code: str, tg: int = tg, results: list[str] = results, barrier=barrier) -> None:
            try:
                barrier.wait()
                with hub.transaction() as s:
                    invites.redeem_invite(s, code, telegram_user_id=tg, name="คนเดียวกัน", now=hub.clock.now())
                results.append("ok")
            except HubError as exc:
                results.append(type(exc).__name__)
            except Exception as exc:  # an IntegrityError here is the bug this test guards
                results.append(f"BUG {type(exc).__name__}")

        threads = [threading.Thread(target=redeem, args=(c,)) for c in codes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(not r.startswith("BUG") for r in results), results
        assert "ok" in results
        with hub.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Member).where(Member.telegram_user_id == tg)) == 1
        codes = [_invite_generic(hub), _invite_generic(hub)]


def test_the_race_outcome_is_a_conflict_with_a_thai_message(hub) -> None:
    """The refusal itself (the branch the race takes), made deterministic with a pre-inserted twin."""
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    code = _invite_generic(hub)
    with hub.transaction() as s:
        invite = s.scalar(select(Invite).where(Invite.code == code))
        # Another transaction's member appears between our look-up and our insert:
        s.add(Member(name="twin", telegram_user_id=888100, language="th", status="active",
                     created_at=hub.clock.now(), updated_at=hub.clock.now()))
        s.flush()
        original = s.scalar

        def blind_scalar(statement, *args, **kwargs):  # the look-up that raced: it saw nobody
            if "members.telegram_user_id" in str(statement) and "FROM members" in str(statement):
                return None
            return original(statement, *args, **kwargs)

        s.scalar = blind_scalar  # type: ignore[method-assign]
        with pytest.raises(Conflict) as refused:
            invites.redeem_invite(s, invite.code, telegram_user_id=888100, name="x", now=hub.clock.now())
        s.rollback()
    assert "/start อีกครั้ง" in refused.value.message_th


def test_expired_personal_invite_is_refused(hub) -> None:
    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
    manee = _imported(hub)
    with hub.transaction() as s:
        code = invites.ensure_personal_invite(s, manee, now=hub.clock.now(), actor=SYSTEM,
                                              expires_in=timedelta(minutes=10)).code
    hub.clock.advance(hours=1)
    with hub.transaction() as s, pytest.raises(Conflict) as refused:
        invites.redeem_invite(s, code, telegram_user_id=777070, name="x", now=hub.clock.now())
    assert "หมดอายุ" in refused.value.message_th
