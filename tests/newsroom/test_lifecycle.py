"""The lifecycle table: every verb from every status (allowed → the documented target status;
disallowed → Conflict, and nothing written), plus stale versions and double actions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from network_hub.db.models import AuditEvent, Delivery, NewsItem, Notification
from network_hub.errors import Conflict, NeedsConfirmation, PermissionDenied
from network_hub.newsroom import moderation
from network_hub.newsroom.moderation import TRANSITIONS
from network_hub.permissions import load_actor
from network_hub.states import DeliveryState, FollowupAction, FollowupState, ItemStatus
from tests.newsroom.conftest import Newsroom

S = ItemStatus


def _call(verb: str, nr: Newsroom, s: Session, item: NewsItem, **extra: Any) -> object:
    mod = nr.moderator(s)
    author = load_actor(s, item.author_id)
    now = nr.now
    calls: dict[str, Callable[[], object]] = {
        "edit": lambda: moderation.edit_item(s, item.id, actor=mod, body="ข้อความที่ผู้ดูแลแก้ไขแล้ว", now=now, **extra),
        "approve": lambda: moderation.approve_item(s, item.id, actor=mod, confirm_pdpa=True, now=now, **extra),
        "reschedule": lambda: moderation.reschedule_item(s, item.id, actor=mod, at=now + timedelta(days=2),
                                                         now=now, **extra),
        "unschedule": lambda: moderation.unschedule_item(s, item.id, actor=mod, now=now, **extra),
        "reject": lambda: moderation.reject_item(s, item.id, actor=mod, reason="ไม่เกี่ยวกับหมู่บ้าน", now=now, **extra),
        "return": lambda: moderation.return_item(s, item.id, actor=mod, reason="ขอรูปเพิ่ม", now=now, **extra),
        "resubmit": lambda: moderation.resubmit_item(s, item.id, actor=author, body="แก้ไขตามที่ขอแล้ว", now=now,
                                                     **extra),
        "correct": lambda: moderation.correct_item(s, item.id, actor=mod, body="ข้อความแก้ไขหลังเผยแพร่", now=now,
                                                   **extra),
        "withdraw": lambda: moderation.withdraw_item(s, item.id, actor=mod, reason="เจ้าของภาพขอให้ลบ", now=now,
                                                     **extra),
    }
    return calls[verb]()


EXPECTED_TARGET = {
    "edit": S.SUBMITTED, "approve": S.APPROVED, "reschedule": S.SCHEDULED, "unschedule": S.SUBMITTED,
    "reject": S.REJECTED, "return": S.CHANGES_REQUESTED, "resubmit": S.SUBMITTED, "withdraw": S.WITHDRAWN,
}


def _fingerprint(s: Session, item: NewsItem) -> tuple[object, ...]:
    s.flush()
    s.expire_all()
    row = s.get(NewsItem, item.id)
    assert row is not None
    deliveries = tuple(s.execute(select(Delivery.id, Delivery.state, Delivery.due_at, Delivery.followup_action,
                                        Delivery.fence).where(Delivery.item_id == item.id).order_by(Delivery.id)))
    return (row.status, row.version, row.title, row.body, row.scheduled_at, row.updated_at, deliveries,
            s.scalar(select(func.count()).select_from(AuditEvent)),
            s.scalar(select(func.count()).select_from(Notification)))


@pytest.mark.parametrize("verb", list(TRANSITIONS))
def test_every_verb_from_every_status(newsroom: Newsroom, verb: str) -> None:
    for status in ItemStatus:
        with newsroom.hub.transaction() as s:
            item = newsroom.item_in_status(s, status)
            assert item.status == status
            before = _fingerprint(s, item)
            if status in TRANSITIONS[verb]:
                _call(verb, newsroom, s, item)
                s.flush()
                target = EXPECTED_TARGET.get(verb, status)  # correct keeps the status
                assert item.status == target, (verb, status)
                assert item.version == before[1] + 1
                last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
                assert last is not None and last.action == f"news.{verb}"
                assert last.before["status"] == status and last.after["status"] == target
            else:
                with pytest.raises(Conflict) as err:
                    _call(verb, newsroom, s, item)
                assert item.receipt_no in err.value.message_en and "Nothing was changed" in err.value.message_en
                assert err.value.message_th != err.value.message_en
                assert _fingerprint(s, item) == before, (verb, status)


def test_double_approve_is_a_conflict_and_writes_deliveries_once(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        first = moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        assert len(first) == 2 and {d.state for d in first} == {DeliveryState.PENDING}
    with newsroom.hub.transaction() as s, pytest.raises(Conflict, match="is approved"):
        moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
    with newsroom.hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 2
        assert s.get(NewsItem, item.id).version == 2


def test_stale_version_is_refused_and_changes_nothing(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        seen_version = item.version
        moderation.edit_item(s, item.id, actor=newsroom.moderator(s), title="หัวข้อใหม่", now=newsroom.now)
    with newsroom.hub.transaction() as s:
        before = _fingerprint(s, item)
        with pytest.raises(Conflict, match="changed since you loaded it"):
            moderation.approve_item(s, item.id, actor=newsroom.moderator(s), expected_version=seen_version,
                                    now=newsroom.now)
        assert _fingerprint(s, item) == before
    with newsroom.hub.transaction() as s:
        moderation.approve_item(s, item.id, actor=newsroom.moderator(s), expected_version=seen_version + 1,
                                now=newsroom.now)
        assert s.get(NewsItem, item.id).status == S.APPROVED


def test_nobody_moderates_their_own_item(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, author=newsroom.people.moderator.id)
        with pytest.raises(PermissionDenied, match="own item"):
            moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        assert item.status == S.SUBMITTED
        moderation.approve_item(s, item.id, actor=load_actor(s, newsroom.people.admin.id), now=newsroom.now)
        assert item.status == S.APPROVED


def test_moderators_outside_the_area_and_reporters_cannot_moderate(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        for member in (newsroom.people.outsider, newsroom.people.reporter2, newsroom.people.coordinator):
            with pytest.raises(PermissionDenied):
                moderation.reject_item(s, item.id, actor=load_actor(s, member.id), reason="x", now=newsroom.now)
        with pytest.raises(PermissionDenied, match="only the author"):
            moderation.resubmit_item(s, item.id, actor=newsroom.moderator(s), body="x", now=newsroom.now)


def test_pdpa_flags_need_explicit_confirmation(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, body="มอบทุนให้ ด.ช.สมชาย ใจดี โทร 081-234-5678")
        assert item.pdpa_flags == ["phone_number", "minor"]
        with pytest.raises(NeedsConfirmation, match="phone_number, minor"):
            moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        assert item.status == S.SUBMITTED and item.version == 1
        moderation.approve_item(s, item.id, actor=newsroom.moderator(s), confirm_pdpa=True, now=newsroom.now)
        assert item.pdpa_confirmed_by == newsroom.people.moderator.id


def test_approval_in_the_future_schedules_and_deliveries_are_due_then(newsroom: Newsroom) -> None:
    at = newsroom.now + timedelta(hours=5)
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        deliveries = moderation.approve_item(s, item.id, actor=newsroom.moderator(s), at=at, now=newsroom.now)
        assert item.status == S.SCHEDULED and item.scheduled_at == at
        assert {d.due_at for d in deliveries} == {at}
        kinds = s.scalars(select(Notification.kind).where(Notification.item_id == item.id)).all()
        assert "item_scheduled" in kinds
    later = at + timedelta(days=1)
    with newsroom.hub.transaction() as s:
        moderation.reschedule_item(s, item.id, actor=newsroom.moderator(s), at=later, now=newsroom.now)
        assert set(s.scalars(select(Delivery.due_at).where(Delivery.item_id == item.id))) == {later}


def test_unschedule_cancels_and_reapproval_reuses_the_same_delivery_rows(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        first = moderation.approve_item(s, item.id, actor=newsroom.moderator(s), at=newsroom.now + timedelta(days=1),
                                        now=newsroom.now)
        ids = sorted(d.id for d in first)
        moderation.unschedule_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        assert item.status == S.SUBMITTED and item.scheduled_at is None
        assert set(s.scalars(select(Delivery.state).where(Delivery.item_id == item.id))) == {"cancelled"}
        again = moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        assert sorted(d.id for d in again) == ids and {d.state for d in again} == {"pending"}


def test_unschedule_is_refused_once_publishing_started(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        deliveries = moderation.approve_item(s, item.id, actor=newsroom.moderator(s),
                                             at=newsroom.now + timedelta(minutes=5), now=newsroom.now)
        deliveries[0].state = DeliveryState.CLAIMED.value
        s.flush()
        before = _fingerprint(s, item)
        with pytest.raises(Conflict, match="already started"):
            moderation.unschedule_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        assert _fingerprint(s, item) == before


def test_approval_without_any_routed_outlet_is_refused(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, village="50010101", author=newsroom.people.admin.id)
        with pytest.raises(Conflict, match="outlet add --platform sandbox"):
            moderation.approve_item(s, item.id, actor=load_actor(s, newsroom.people.outsider.id), now=newsroom.now)
        assert item.status == S.SUBMITTED
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0


def test_correct_marks_sent_deliveries_for_an_edit(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.item_in_status(s, S.PARTIALLY_PUBLISHED)
        moderation.correct_item(s, item.id, actor=newsroom.moderator(s), body="แก้ไขคำผิด", now=newsroom.now)
        rows = {d.state: d for d in s.scalars(select(Delivery).where(Delivery.item_id == item.id))}
        sent = rows["sent"]
        assert (sent.followup_action, sent.followup_state) == (FollowupAction.EDIT, FollowupState.PENDING)
        assert rows["failed"].followup_action is None
        assert item.body == "แก้ไขคำผิด" and item.title == "แก้ไขคำผิด"


def test_correction_bringing_new_pdpa_data_needs_confirmation(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.item_in_status(s, S.PUBLISHED)
        with pytest.raises(NeedsConfirmation):
            moderation.correct_item(s, item.id, actor=newsroom.moderator(s), body="ติดต่อ 0812345678", now=newsroom.now)
        moderation.correct_item(s, item.id, actor=newsroom.moderator(s), body="ติดต่อ 0812345678",
                                confirm_pdpa=True, now=newsroom.now)
        assert item.pdpa_flags == ["phone_number"]


def test_withdraw_cancels_unsent_and_asks_to_delete_sent(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.item_in_status(s, S.PUBLISHING)  # one sending, one pending
        moderation.withdraw_item(s, item.id, actor=newsroom.moderator(s), reason="ข้อมูลผิด", now=newsroom.now)
        rows = list(s.scalars(select(Delivery).where(Delivery.item_id == item.id).order_by(Delivery.id)))
        assert (rows[0].state, rows[0].followup_action, rows[0].followup_state) == ("sending", "delete", "pending")
        assert (rows[1].state, rows[1].followup_action) == ("cancelled", None)
        assert item.status == S.WITHDRAWN and item.withdrawn_at == newsroom.now
        assert item.decision_reason == "ข้อมูลผิด"


def test_withdraw_of_a_claimed_delivery_takes_the_lease_away(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.item_in_status(s, S.APPROVED)
        delivery = s.scalars(select(Delivery).where(Delivery.item_id == item.id)).first()
        delivery.state, delivery.fence, delivery.lease_owner = "claimed", 3, "worker-1"
        s.flush()
        moderation.withdraw_item(s, item.id, actor=newsroom.moderator(s), reason="ยกเลิก", now=newsroom.now)
        assert (delivery.state, delivery.fence, delivery.lease_owner) == ("cancelled", 4, None)


@pytest.mark.parametrize("reason", ["", "   ", "ก" * 501])
def test_reasons_are_required_and_bounded(newsroom: Newsroom, reason: str) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        before = _fingerprint(s, item)
        for verb in ("reject", "return"):
            fn = moderation.reject_item if verb == "reject" else moderation.return_item
            with pytest.raises(Exception, match="reason is required"):
                fn(s, item.id, actor=newsroom.moderator(s), reason=reason, now=newsroom.now)
        assert _fingerprint(s, item) == before


def test_return_then_resubmit_tells_the_author_and_rechecks_pdpa(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        moderation.return_item(s, item.id, actor=newsroom.moderator(s), reason="ขอชื่อผู้ร่วมงาน", now=newsroom.now)
        note = s.scalars(select(Notification).where(Notification.kind == "item_returned")).one()
        assert note.member_id == newsroom.people.reporter.id and note.payload["reason"] == "ขอชื่อผู้ร่วมงาน"
        moderation.resubmit_item(s, item.id, actor=load_actor(s, newsroom.people.reporter.id),
                                 body="ผู้ป่วยติดเตียงได้รับของ", now=newsroom.now)
        assert item.status == S.SUBMITTED and item.pdpa_flags == ["health_or_disability"]
        assert item.decision_reason is None


def test_moderator_edit_tells_the_author_and_keeps_an_explicit_title(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, title="ปลูกป่า")
        moderation.edit_item(s, item.id, actor=newsroom.moderator(s), body="เนื้อหาใหม่\nบรรทัดสอง", now=newsroom.now)
        assert (item.title, item.body) == ("ปลูกป่า", "เนื้อหาใหม่\nบรรทัดสอง")
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "news.edit")).one()
        assert event.before["body"].startswith("วันนี้") and event.after["body"] == "เนื้อหาใหม่\nบรรทัดสอง"
        assert s.scalars(select(Notification.kind).where(Notification.kind == "item_edited")).one()


def test_two_moderators_approving_at_once_approve_exactly_once(newsroom: Newsroom) -> None:
    """Two transactions race on one item: the row lock (PostgreSQL) / BEGIN IMMEDIATE (SQLite)
    makes the second wait and then see the first one's result, whatever the interleaving."""
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        admin_id = newsroom.people.admin.id
    outcomes: list[str] = []
    started = threading.Event()

    def second_moderator() -> None:
        started.set()
        try:
            with newsroom.hub.transaction() as s2:
                moderation.approve_item(s2, item.id, actor=load_actor(s2, admin_id), now=newsroom.now)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")

    with newsroom.hub.transaction() as s:
        moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        thread = threading.Thread(target=second_moderator)
        thread.start()
        started.wait()
    thread.join()
    assert outcomes == ["conflict"]
    with newsroom.hub.transaction() as s:
        assert s.get(NewsItem, item.id).version == 2
        assert s.scalar(select(func.count()).select_from(Delivery)) == 2
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "news.approve")) == 1
