"""The news item lifecycle: every transition checked, versioned, audited, and told to the author.

Each function loads the item under a row lock (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
transactions are already serialised by ``BEGIN IMMEDIATE``), checks the actor's permission,
then ``expected_version`` (when the caller had a card or page showing an older version), then
the current status. A stale or repeated action raises ``Conflict`` before anything is written,
so a double click or two moderators pressing at once change the item exactly once.

``TRANSITIONS`` is the lifecycle as data (verb → statuses it may start from); interfaces use
``allowed_verbs`` to decide which buttons to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from network_hub.db.models import Delivery, NewsItem
from network_hub.errors import Conflict, InvalidInput, NeedsConfirmation, NotFound, PermissionDenied
from network_hub.newsroom import events, pdpa
from network_hub.newsroom.labels import PDPA_FLAG_TH, status_th
from network_hub.newsroom.photos import PhotoInput, attach_photos, prepare_photos
from network_hub.newsroom.records import record_change, snapshot, tell_author
from network_hub.newsroom.routing import route
from network_hub.newsroom.submission import clean_body, title_after_text_change
from network_hub.newsroom.text import normalize_text
from network_hub.notifications import NotificationKind
from network_hub.outbox import api as outbox_api
from network_hub.permissions import Action, Actor, require
from network_hub.photo_checks import checks as photo_checks
from network_hub.states import FollowupAction, ItemStatus

S = ItemStatus
TRANSITIONS: dict[str, frozenset[ItemStatus]] = {
    "edit": frozenset({S.SUBMITTED}),
    "approve": frozenset({S.SUBMITTED}),
    "reschedule": frozenset({S.SCHEDULED}),
    "unschedule": frozenset({S.SCHEDULED}),
    "reject": frozenset({S.SUBMITTED, S.CHANGES_REQUESTED}),
    "return": frozenset({S.SUBMITTED}),
    "resubmit": frozenset({S.CHANGES_REQUESTED}),
    "correct": frozenset({S.PUBLISHED, S.PARTIALLY_PUBLISHED}),
    "withdraw": frozenset({S.APPROVED, S.SCHEDULED, S.PUBLISHING, S.PUBLISHED, S.PARTIALLY_PUBLISHED, S.FAILED}),
}
VERB_TH = {
    "edit": "แก้ไขข่าว", "approve": "อนุมัติ", "reschedule": "เลื่อนเวลาเผยแพร่",
    "unschedule": "ยกเลิกการตั้งเวลา", "reject": "ไม่อนุมัติ", "return": "ส่งกลับให้แก้ไข",
    "resubmit": "ส่งข่าวที่แก้ไขแล้ว", "correct": "แก้ไขข่าวที่เผยแพร่แล้ว", "withdraw": "ถอนข่าว",
}
REASON_MAX = 500

# Delivery state is written only by the engine's API (network_hub/outbox/api.py); these sets live there.
UNSENT = outbox_api.UNSENT
MAY_BE_POSTED = outbox_api.MAY_BE_POSTED


def allowed_verbs(item: NewsItem) -> list[str]:
    return [verb for verb, sources in TRANSITIONS.items() if item.status in sources]


# --- shared steps -------------------------------------------------------------------------------

def _load_locked(session: Session, item_id: int) -> NewsItem:
    item = session.scalar(
        select(NewsItem).where(NewsItem.id == item_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFound(f"news item {item_id} does not exist", f"ไม่พบข่าวหมายเลข {item_id}")
    return item


def _check_state(item: NewsItem, verb: str, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != item.version:
        raise Conflict(
            f"item {item.receipt_no} changed since you loaded it (now version {item.version}, you had "
            f"{expected_version}; it is {item.status}); reload it and try again. Nothing was changed.",
            f"ข่าว {item.receipt_no} ถูกเปลี่ยนแปลงไปแล้ว (สถานะปัจจุบัน: {status_th(item.status)}) "
            "กรุณาโหลดข้อมูลใหม่แล้วลองอีกครั้ง ยังไม่มีการเปลี่ยนแปลงใด ๆ",
        )
    if item.status not in TRANSITIONS[verb]:
        allowed = ", ".join(sorted(TRANSITIONS[verb]))
        raise Conflict(
            f"item {item.receipt_no} is {item.status}; '{verb}' needs it to be {allowed}. Nothing was changed.",
            f"ข่าว {item.receipt_no} อยู่ในสถานะ '{status_th(item.status)}' จึง{VERB_TH[verb]}ไม่ได้ "
            "ยังไม่มีการเปลี่ยนแปลงใด ๆ",
        )


def _open(
    session: Session, item_id: int, verb: str, actor: Actor, action: Action, expected_version: int | None,
) -> NewsItem:
    item = _load_locked(session, item_id)
    require(actor, action, item.village_code, author_id=item.author_id)
    _check_state(item, verb, expected_version)
    return item


def _require_aware(at: datetime | None) -> None:
    if at is not None and at.tzinfo is None:
        raise ValueError("times given to the newsroom must be timezone-aware (parse with timeparse)")


def _bump(item: NewsItem, now: datetime) -> None:
    item.version += 1
    item.updated_at = now


def _clean_reason(reason: str | None) -> str:
    text = normalize_text(reason or "")
    if not text or len(text) > REASON_MAX:
        raise InvalidInput(
            f"a reason is required (1-{REASON_MAX} characters); it is sent to the author",
            f"กรุณาระบุเหตุผล (1-{REASON_MAX} ตัวอักษร) ผู้ส่งข่าวจะได้รับเหตุผลนี้",
        )
    return text


def _member_or_none(actor: Actor) -> int | None:
    return actor.member_id or None  # the CLI's system actor (0) is no member row


def _deliveries(session: Session, item_id: int) -> list[Delivery]:
    return list(session.scalars(
        select(Delivery).where(Delivery.item_id == item_id).order_by(Delivery.id).with_for_update()
    ))


def _require_pdpa_confirmation(item: NewsItem, flags: Sequence[str], confirm_pdpa: bool) -> None:
    if flags and not confirm_pdpa:
        names = ", ".join(flags)
        names_th = ", ".join(PDPA_FLAG_TH.get(f, f) for f in flags)
        raise NeedsConfirmation(
            f"item {item.receipt_no} may contain personal data ({names}); check it, then confirm "
            "(CLI: --confirm-pdpa). Nothing was changed.",
            f"ข่าว {item.receipt_no} อาจมีข้อมูลส่วนบุคคล ({names_th}) กรุณาตรวจสอบและยืนยันก่อนเผยแพร่",
        )


def _recheck_flags(item: NewsItem) -> None:
    flags = pdpa.detect_flags(f"{item.title}\n{item.body}", pdpa.Consent.from_dict(item.consent))
    item.pdpa_flags = [f.value for f in flags]
    session = object_session(item)
    if session is not None:  # issue 16: flags found in the photos stay until the photo goes
        item.pdpa_flags = item.pdpa_flags + [f for f in photo_checks.photo_flags(session, item.id)
                                             if f not in item.pdpa_flags]


# --- before approval ----------------------------------------------------------------------------

def edit_item(
    session: Session, item_id: int, *, actor: Actor, title: str | None = None, body: str | None = None,
    expected_version: int | None = None, now: datetime, via: str = "cli",
) -> NewsItem:
    """A moderator edits the title and/or body of a submitted item; the author is told."""
    item = _open(session, item_id, "edit", actor, Action.MODERATE, expected_version)
    new_body = clean_body(body) if body is not None else item.body
    new_title = title_after_text_change(item, new_body, title)
    if (new_title, new_body) == (item.title, item.body):
        raise InvalidInput("the edit changes nothing (same title and text)",
                           "ข้อความที่แก้ไขเหมือนเดิม ไม่มีการเปลี่ยนแปลง")
    before = snapshot(item, with_text=True)
    old_title = item.title
    item.title, item.body = new_title, new_body
    _recheck_flags(item)
    item.pdpa_confirmed_by = None
    _bump(item, now)
    record_change(session, item, action="edit", actor=actor, via=via, now=now, before=before, with_text=True)
    tell_author(session, item, NotificationKind.ITEM_EDITED, now=now, actor=actor, old_title=old_title,
                stage="before_approval")
    return item


def approve_item(
    session: Session, item_id: int, *, actor: Actor, at: datetime | None = None, confirm_pdpa: bool = False,
    expected_version: int | None = None, now: datetime, via: str = "cli",
) -> list[Delivery]:
    """Approve now (``approved``) or for a later time (``scheduled``) and write one delivery per outlet.

    The deliveries are written in the caller's transaction; an existing row for the same
    item × outlet (cancelled by an earlier unschedule) is reused. The dispatcher is signalled
    after commit.
    """
    _require_aware(at)
    item = _open(session, item_id, "approve", actor, Action.MODERATE, expected_version)
    photo_checks.require_photos_checked(session, item, now=now)  # issue 16: "กำลังตรวจรูป…"
    _require_pdpa_confirmation(item, item.pdpa_flags or [], confirm_pdpa)
    outlets = route(session, item)
    if not outlets:
        raise Conflict(
            f"no outlet takes item {item.receipt_no} (village {item.village_code}, category {item.category}); "
            f"add one first, e.g.: network-hub outlet add --platform sandbox --area {item.village_code[:6]}. "
            "Nothing was changed.",
            "ยังไม่มีช่องทางเผยแพร่ (เพจหรือช่อง) สำหรับพื้นที่และหมวดข่าวนี้ กรุณาให้ผู้ดูแลระบบเพิ่มช่องทางก่อน",
        )
    scheduled = at is not None and at > now
    due_at = at if scheduled and at is not None else now
    before = snapshot(item)
    deliveries = outbox_api.schedule(session, item.id, [o.id for o in outlets], due_at=due_at, now=now,
                                     receipt_no=item.receipt_no)
    item.status = (S.SCHEDULED if scheduled else S.APPROVED).value
    item.scheduled_at = at if scheduled else None
    item.decided_by = _member_or_none(actor)
    item.decided_at = now
    item.decision_reason = None
    item.pdpa_confirmed_by = _member_or_none(actor) if item.pdpa_flags else None
    _bump(item, now)
    session.flush()
    record_change(session, item, action="approve", actor=actor, via=via, now=now, before=before,
                  extra={"outlets": [o.id for o in outlets], "pdpa_confirmed": bool(item.pdpa_flags)})
    if scheduled:
        tell_author(session, item, NotificationKind.ITEM_SCHEDULED, now=now, actor=actor, scheduled_at=at)
    else:
        tell_author(session, item, NotificationKind.ITEM_APPROVED, now=now, actor=actor)
    events.fire_after_commit(session, events.item_approved, item.id)
    return deliveries


def _require_nothing_started(item: NewsItem, deliveries: Sequence[Delivery]) -> None:
    started = outbox_api.started(deliveries)
    if started:
        raise Conflict(
            f"publishing of item {item.receipt_no} has already started "
            f"({', '.join(f'delivery {d.id} is {d.state}' for d in started)}); the schedule can no "
            "longer be changed (withdraw the item instead). Nothing was changed.",
            f"ข่าว {item.receipt_no} เริ่มเผยแพร่แล้ว จึงเปลี่ยนเวลาไม่ได้ (ใช้การถอนข่าวแทน)",
        )


def reschedule_item(
    session: Session, item_id: int, *, actor: Actor, at: datetime, expected_version: int | None = None,
    now: datetime, via: str = "cli",
) -> NewsItem:
    """Move a scheduled item to another future time (its pending deliveries move with it)."""
    _require_aware(at)
    item = _open(session, item_id, "reschedule", actor, Action.MODERATE, expected_version)
    if at <= now:
        raise InvalidInput("the new time is in the past; give a future time",
                           "เวลาที่เลือกผ่านไปแล้ว กรุณาเลือกเวลาในอนาคต")
    deliveries = _deliveries(session, item.id)
    _require_nothing_started(item, deliveries)
    before = snapshot(item)
    outbox_api.reschedule_pending(session, deliveries, due_at=at, now=now)
    item.scheduled_at = at
    _bump(item, now)
    record_change(session, item, action="reschedule", actor=actor, via=via, now=now, before=before)
    tell_author(session, item, NotificationKind.ITEM_SCHEDULED, now=now, actor=actor, scheduled_at=at)
    events.fire_after_commit(session, events.item_approved, item.id)
    return item


def unschedule_item(
    session: Session, item_id: int, *, actor: Actor, expected_version: int | None = None, now: datetime,
    via: str = "cli",
) -> NewsItem:
    """Cancel the schedule: the item goes back to ``submitted`` and its pending deliveries are cancelled."""
    item = _open(session, item_id, "unschedule", actor, Action.MODERATE, expected_version)
    deliveries = _deliveries(session, item.id)
    _require_nothing_started(item, deliveries)
    before = snapshot(item)
    outbox_api.cancel_pending(deliveries, now=now)
    item.status = S.SUBMITTED.value
    item.scheduled_at = None
    item.decided_by = None
    item.decided_at = None
    item.pdpa_confirmed_by = None
    _bump(item, now)
    record_change(session, item, action="unschedule", actor=actor, via=via, now=now, before=before)
    tell_author(session, item, NotificationKind.ITEM_UNSCHEDULED, now=now, actor=actor)
    return item


def reject_item(
    session: Session, item_id: int, *, actor: Actor, reason: str, expected_version: int | None = None,
    now: datetime, via: str = "cli",
) -> NewsItem:
    return _decide_against(session, item_id, "reject", S.REJECTED, NotificationKind.ITEM_REJECTED,
                           actor=actor, reason=reason, expected_version=expected_version, now=now, via=via)


def return_item(
    session: Session, item_id: int, *, actor: Actor, reason: str, expected_version: int | None = None,
    now: datetime, via: str = "cli",
) -> NewsItem:
    """Send the item back to its author with a reason (``changes_requested``)."""
    return _decide_against(session, item_id, "return", S.CHANGES_REQUESTED, NotificationKind.ITEM_RETURNED,
                           actor=actor, reason=reason, expected_version=expected_version, now=now, via=via)


def _decide_against(
    session: Session, item_id: int, verb: str, target: ItemStatus, kind: str, *, actor: Actor, reason: str,
    expected_version: int | None, now: datetime, via: str,
) -> NewsItem:
    text = _clean_reason(reason)
    item = _open(session, item_id, verb, actor, Action.MODERATE, expected_version)
    before = snapshot(item)
    item.status = target.value
    item.decided_by = _member_or_none(actor)
    item.decided_at = now
    item.decision_reason = text
    _bump(item, now)
    record_change(session, item, action=verb, actor=actor, via=via, now=now, before=before, reason=text)
    tell_author(session, item, kind, now=now, actor=actor, reason=text)
    return item


def resubmit_item(
    session: Session, item_id: int, *, actor: Actor, body: str, title: str | None = None,
    photos: Sequence[PhotoInput] | None = None, consent: pdpa.Consent | None = None,
    expected_version: int | None = None, now: datetime, media_dir: Path | None = None, via: str = "cli",
) -> NewsItem:
    """The author sends a returned item again. ``photos=None`` keeps the photos; a list replaces them."""
    new_body = clean_body(body)
    item = _load_locked(session, item_id)
    if actor.member_id != item.author_id:
        raise PermissionDenied(f"only the author (member {item.author_id}) may resubmit item {item.receipt_no}",
                               "เฉพาะผู้ส่งข่าวเท่านั้นที่ส่งข่าวที่แก้ไขแล้วได้")
    require(actor, Action.SUBMIT, item.village_code)
    _check_state(item, "resubmit", expected_version)
    new_title = title_after_text_change(item, new_body, title)
    prepared = prepare_photos(photos) if photos is not None else None
    if prepared is not None and prepared and media_dir is None:
        raise ValueError("resubmit_item needs media_dir to store new photos")
    before = snapshot(item, with_text=True)
    item.title, item.body = new_title, new_body
    if consent is not None:
        item.consent = consent.to_dict()
    if prepared is not None:
        item.photos.clear()
        session.flush()  # old positions freed before new rows take them
        if prepared and media_dir is not None:
            attach_photos(item, prepared, media_dir, now)
    _recheck_flags(item)
    item.status = S.SUBMITTED.value
    item.submitted_at = now  # the pending-approval clock starts again
    item.decision_reason = None
    item.decided_by = None
    item.decided_at = None
    _bump(item, now)
    session.flush()
    record_change(session, item, action="resubmit", actor=actor, via=via, now=now, before=before, with_text=True)
    tell_author(session, item, NotificationKind.ITEM_RECEIVED, now=now, actor=actor, resubmitted=True)
    return item


# --- after publishing ---------------------------------------------------------------------------

def correct_item(
    session: Session, item_id: int, *, actor: Actor, body: str, title: str | None = None,
    confirm_pdpa: bool = False, expected_version: int | None = None, now: datetime, via: str = "cli",
) -> NewsItem:
    """Correct a published item's text; every delivery that may be posted gets an edit follow-up.

    A correction that brings in new PDPA flags needs ``confirm_pdpa`` like an approval.
    """
    new_body = clean_body(body)
    # CORRECT_PUBLISHED refuses the item's author: their correction goes to another moderator.
    item = _open(session, item_id, "correct", actor, Action.CORRECT_PUBLISHED, expected_version)
    new_title = title_after_text_change(item, new_body, title)
    if (new_title, new_body) == (item.title, item.body):
        raise InvalidInput("the correction changes nothing (same title and text)",
                           "ข้อความที่แก้ไขเหมือนเดิม ไม่มีการเปลี่ยนแปลง")
    new_flags = [f.value for f in pdpa.detect_flags(f"{new_title}\n{new_body}",
                                                      pdpa.Consent.from_dict(item.consent))]
    _require_pdpa_confirmation(item, [f for f in new_flags if f not in (item.pdpa_flags or [])], confirm_pdpa)
    before = snapshot(item, with_text=True)
    item.title, item.body, item.pdpa_flags = new_title, new_body, new_flags
    if new_flags:
        item.pdpa_confirmed_by = _member_or_none(actor)
    edited = outbox_api.request_followup(session, _deliveries(session, item.id), FollowupAction.EDIT, now=now)
    _bump(item, now)
    record_change(session, item, action="correct", actor=actor, via=via, now=now, before=before, with_text=True,
                  extra={"followup_edit_deliveries": edited})
    tell_author(session, item, NotificationKind.ITEM_EDITED, now=now, actor=actor, stage="correction")
    events.fire_after_commit(session, events.followup_requested, item.id)
    return item


def withdraw_item(
    session: Session, item_id: int, *, actor: Actor, reason: str, expected_version: int | None = None,
    now: datetime, via: str = "cli",
) -> NewsItem:
    """Withdraw an approved or published item.

    Unsent deliveries are cancelled (a claimed one also loses its lease: the fence is bumped so
    the worker holding it cannot write back). Deliveries that are or may be on the platform
    (sent, sending, unknown) get a delete follow-up; the engine must never (re)send a delivery
    of a withdrawn item, and resolves an unknown one as "delete if posted".
    """
    text = _clean_reason(reason)
    item = _open(session, item_id, "withdraw", actor, Action.CHANGE_PUBLISHED, expected_version)
    before = snapshot(item)
    deliveries = _deliveries(session, item.id)
    cancelled = outbox_api.cancel_unsent(deliveries, now=now)
    to_delete = outbox_api.request_followup(session, deliveries, FollowupAction.DELETE, now=now)
    item.status = S.WITHDRAWN.value
    item.withdrawn_at = now
    item.decision_reason = text
    _bump(item, now)
    record_change(session, item, action="withdraw", actor=actor, via=via, now=now, before=before, reason=text,
                  extra={"cancelled_deliveries": cancelled, "followup_delete_deliveries": to_delete})
    tell_author(session, item, NotificationKind.ITEM_WITHDRAWN, now=now, actor=actor, reason=text)
    if to_delete:
        events.fire_after_commit(session, events.followup_requested, item.id)
    return item
