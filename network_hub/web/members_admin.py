"""Roster administration on the web: add, edit, suspend/resume, forget (PDPA), grants with the area
picker, passwords (an admin's reset and "change my password"), personal invites and merging.

Every change goes through the roster services, which check the actor with ``permissions.require``
and audit. Grants follow ``Action.ASSIGN_ROLE`` (``permissions.decide_assign``): an admin may give
any role in their area, a coordinator the reporter and moderator roles inside their own area to the
members of that area (never themselves); the page offers only that and the service checks it again.
A refused or invalid request re-renders the page with the Thai reason and the values
typed (no dead-end page) and changes nothing (one transaction). Forms carry the CSRF token and
work without JavaScript; the area picker steps with ``step=1`` (a POST that changes nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from network_hub import audit
from network_hub.db.models import Invite, Member
from network_hub.errors import HubError, InvalidInput, PermissionDenied
from network_hub.permissions import Action, decide
from network_hub.roster import members as roster
from network_hub.roster.invites import active_personal_invite, ensure_personal_invite, invite_link
from network_hub.roster.merge import merge_members
from network_hub.roster.passwords import password_matches
from network_hub.states import MemberStatus, Role
from network_hub.web import office_text
from network_hub.web.area_picker import area_labels, build_picker, require_chosen, viewer_roots
from network_hub.web.deps import (
    CSRF,
    VIEWER,
    Viewer,
    get_hub,
    language_of,
    now,
    render,
    transaction,
)
from network_hub.web.roster import record_links_shown

router = APIRouter()
_HTTP = {"PermissionDenied": 403, "NotFound": 404, "Conflict": 409, "InvalidInput": 400}


# Wording of the grant form (Thai, English); the rest comes from office_text.
GRANT_WORDING: dict[str, tuple[str, str]] = {
    "grant_scope_coordinator": (
        "ในฐานะผู้ประสานงาน ท่านมอบหรือถอนบทบาทผู้ส่งข่าวและผู้ตรวจข่าวได้เฉพาะในพื้นที่ที่ท่านรับผิดชอบ "
        "บทบาทอื่นหรือพื้นที่อื่นต้องให้ผู้ดูแลระบบดำเนินการ",
        "As a coordinator you may give or take away the reporter and moderator roles inside your own area; "
        "other roles and areas are the admin's.",
    ),
    "grant_not_yours": (
        "บทบาทนี้ถอนได้โดยผู้ดูแลระบบเท่านั้น",
        "Only an admin may take this role away",
    ),
}


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """``render`` with the office wording ``o`` added."""
    language = language_of(request)
    office = office_text.translator(language)

    def o(key: str, **values: object) -> str:
        pair = GRANT_WORDING.get(key)
        if pair is None:
            return office(key, **values)
        return pair[1] if language == "en" else pair[0]

    return render(request, template, status_code=status_code, o=o, **context)


def status_of(exc: HubError) -> int:
    return _HTTP.get(type(exc).__name__, 400)


def bot_username(request: Request) -> str:
    return get_hub(request).settings.telegram_bot_username.strip().removeprefix("@")


def _roles_viewer_may_grant(viewer: Viewer) -> list[str]:
    return roster.assignable_roles(viewer.actor)


def _roles_for_new_member(viewer: Viewer) -> list[str]:
    return [r.value for r in Role] if viewer.can(Action.MANAGE_ROSTER) else []


def can_manage(session: Session, viewer: Viewer, member: Member) -> bool:
    try:
        roster.require_over_member(session, viewer.actor, member)
    except HubError:
        return False
    return True


def can_assign(session: Session, viewer: Viewer, member: Member) -> bool:
    """The viewer may change this member's roles (a coordinator: a reporter/moderator of their area)."""
    return roster.may_assign_roles_of(session, viewer.actor, member)


def can_invite_for(session: Session, viewer: Viewer, member: Member) -> bool:
    grants = roster.grants_of(session, member.id)
    return bool(grants) and all(decide(viewer.actor, Action.INVITE, g.area_code, invite_role=g.role)
                                for g in grants)


def _load_member(session: Session, viewer: Viewer, member_id: int) -> Member:
    """The member, if the viewer may manage them or make their invite (else a Thai refusal)."""
    member = roster.get_member(session, member_id)
    if member.status == MemberStatus.FORGOTTEN and not can_manage(session, viewer, member):
        raise PermissionDenied(f"member {member_id} is forgotten", "ท่านไม่มีสิทธิ์ดูข้อมูลสมาชิกนี้")
    if not (can_manage(session, viewer, member) or can_assign(session, viewer, member)
            or can_invite_for(session, viewer, member)):
        raise PermissionDenied(f"member {viewer.member_id} may not see member {member_id}",
                               "ท่านไม่มีสิทธิ์ดูหรือแก้ไขข้อมูลสมาชิกนี้ (อยู่นอกพื้นที่ของท่าน)")
    return member


def _merge_candidates(session: Session, viewer: Viewer, member: Member) -> list[Member]:
    """Members the viewer manages, in the member's areas (tambon level), other than the member."""
    areas = {g.area_code[:6] if len(g.area_code) > 6 else g.area_code for g in roster.grants_of(session, member.id)}
    seen: dict[int, Member] = {}
    for area in sorted(areas):
        for other in roster.list_members(session, area):
            if other.id != member.id and can_manage(session, viewer, other):
                seen[other.id] = other
    if not areas:  # a member with no grant: anyone the viewer manages who has none either
        for other in roster.list_members(session):
            if other.id != member.id and not other.grants and can_manage(session, viewer, other):
                seen[other.id] = other
    return sorted(seen.values(), key=lambda m: m.name)


def member_view(request: Request, viewer: Viewer, member_id: int, *, error: str | None = None,
                status_code: int = 200, form: FormData | dict[str, Any] | None = None,
                done: str | None = None) -> Response:
    at = now(request)
    form = form or {}
    with transaction(request) as session:
        member = _load_member(session, viewer, member_id)
        manage = can_manage(session, viewer, member)
        assign = member.status != MemberStatus.FORGOTTEN and (manage or can_assign(session, viewer, member))
        grants = roster.grants_of(session, member.id)
        pairs = [(g.role, g.area_code) for g in grants]
        removable = {(g.role, g.area_code) for g in grants if assign and decide(
            viewer.actor, Action.ASSIGN_ROLE, g.area_code, grant_role=g.role, target_id=member.id,
            target_grants=pairs)}
        # A member on Telegram only still gets a personal code: sent in the LINE chat, it links their LINE account.
        linked_both = member.telegram_user_id is not None and member.line_user_id is not None
        invite = active_personal_invite(session, member.id, at) if not linked_both else None
        if invite is not None and not decide(viewer.actor, Action.INVITE, invite.area_code, invite_role=invite.role):
            invite = None
        if invite is not None:
            record_links_shown(session, viewer, [invite], at)
        picker = build_picker(session, form, viewer_roots(viewer, Action.ASSIGN_ROLE), prefix="grant_",
                              language=viewer.language) if assign else None
        labels = area_labels(session, {g.area_code for g in grants})
        candidates = _merge_candidates(session, viewer, member) if manage else []
        session.expunge_all()
    bot = bot_username(request)
    return page(request, "member.html", status_code=status_code, member=member, grants=grants, labels=labels,
                manage=manage, assign=assign, removable=removable,
                coordinator_only=assign and not viewer.can(Action.MANAGE_ROSTER), invite=invite,
                invite_url=invite_link(invite, bot) if invite and bot else "",
                bot_configured=bool(bot), can_invite=not linked_both and member.status == "active",
                for_line=member.telegram_user_id is not None,
                picker=picker, roles=_roles_viewer_may_grant(viewer), candidates=candidates, error=error,
                form=form, done=done, is_self=viewer.member_id == member.id)


def _act(request: Request, viewer: Viewer, member_id: int, form: FormData, work: Any, done: str) -> Response:
    """Run ``work(session, at)`` in one transaction; on a refusal re-render with the reason."""
    try:
        with transaction(request) as session:
            work(session, now(request))
    except HubError as exc:
        return member_view(request, viewer, member_id, error=exc.message(viewer.language),
                           status_code=status_of(exc), form=form)
    return RedirectResponse(f"/roster/members/{member_id}?done={done}", status_code=303)


# -- add ----------------------------------------------------------------------------------------
def _new_form(request: Request, viewer: Viewer, form: FormData | dict[str, Any], *, error: str | None = None,
              status_code: int = 200) -> Response:
    with transaction(request) as session:
        picker = build_picker(session, form, viewer_roots(viewer, Action.MANAGE_ROSTER), language=viewer.language)
    return page(request, "member_new.html", status_code=status_code, picker=picker, form=form, error=error,
                roles=_roles_for_new_member(viewer))


@router.get("/roster/members/new")
def new_member_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_ROSTER)
    return _new_form(request, viewer, request.query_params)


@router.post("/roster/members", dependencies=[CSRF])
async def add_member(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_ROSTER)
    form = await request.form()
    return _add_member(request, viewer, form)


def _add_member(request: Request, viewer: Viewer, form: FormData) -> Response:
    if form.get("step"):
        return _new_form(request, viewer, form)
    try:
        area = require_chosen(form)
        with transaction(request) as session:
            at = now(request)
            roster.clean_role(str(form.get("role", "")))  # refuse a bad role before the member exists
            member = roster.add_member(session, name=str(form.get("name", "")), phone=str(form.get("phone", "")),
                                       language=str(form.get("language", "th")), now=at, actor=viewer.actor)
            roster.add_grant(session, member.id, str(form.get("role", "")), area, now=at, actor=viewer.actor)
            member_id = member.id
    except HubError as exc:
        return _new_form(request, viewer, form, error=exc.message(viewer.language), status_code=status_of(exc))
    return RedirectResponse(f"/roster/members/{member_id}?done=added", status_code=303)


# -- one member ---------------------------------------------------------------------------------
@router.get("/roster/members/{member_id}")
def member_page(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    return member_view(request, viewer, member_id, form=request.query_params,
                       done=request.query_params.get("done"))


@router.post("/roster/members/{member_id}/edit", dependencies=[CSRF])
async def edit_member(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()

    def work(session: Session, at: datetime) -> None:
        member = roster.get_member(session, member_id)
        roster.require_over_member(session, viewer.actor, member)  # permission before input checks
        phone = str(form.get("phone", "")).strip()
        if not phone and member.phone:  # an emptied phone field clears the number
            roster.require_over_member(session, viewer.actor, member)
            member.phone = None
            member.updated_at = at
            audit.record(session, at=at, action="member.update", object_type="member", object_id=member.id,
                         before={"phone": "(cleared)"}, after={"phone": None}, **roster.audit_actor(viewer.actor))
        roster.update_member(session, member_id, name=str(form.get("name", "")), phone=phone or None,
                             language=str(form.get("language", "")) or None, now=at, actor=viewer.actor)

    return _act(request, viewer, member_id, form, work, "saved")


@router.post("/roster/members/{member_id}/status", dependencies=[CSRF])
async def change_status(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()
    verb = str(form.get("to", ""))
    reason = str(form.get("reason", "")).strip() or None

    def work(session: Session, at: datetime) -> None:
        roster.require_over_member(session, viewer.actor, roster.get_member(session, member_id))
        if verb == "suspended":
            roster.suspend_member(session, member_id, now=at, actor=viewer.actor, reason=reason)
        elif verb == "active":
            roster.resume_member(session, member_id, now=at, actor=viewer.actor, reason=reason)
        else:
            raise InvalidInput(f"unknown status {verb!r}", "สถานะไม่ถูกต้อง")

    return _act(request, viewer, member_id, form, work, "saved")


@router.post("/roster/members/{member_id}/forget", dependencies=[CSRF])
async def forget(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()

    def work(session: Session, at: datetime) -> None:
        roster.require_over_member(session, viewer.actor, roster.get_member(session, member_id))
        if form.get("confirm") != "yes":
            raise InvalidInput("the erasure was not confirmed", office_text.OFFICE["need_confirm"][0])
        roster.forget_member(session, member_id, now=at, actor=viewer.actor,
                             reason=str(form.get("reason", "")).strip() or None)

    return _act(request, viewer, member_id, form, work, "forgotten")


@router.post("/roster/members/{member_id}/grants", dependencies=[CSRF])
async def add_grant(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()
    roster.require_assign_somewhere(viewer.actor, str(form.get("role", "")))  # permission before input checks
    if form.get("step"):
        return member_view(request, viewer, member_id, form=form)

    def work(session: Session, at: datetime) -> None:
        area = require_chosen(form, "grant_")
        roster.add_grant(session, member_id, str(form.get("role", "")), area, now=at, actor=viewer.actor)

    return _act(request, viewer, member_id, form, work, "saved")


@router.post("/roster/members/{member_id}/grants/remove", dependencies=[CSRF])
async def remove_grant(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()
    roster.require_assign_somewhere(viewer.actor, str(form.get("role", "")))  # permission before input checks

    def work(session: Session, at: datetime) -> None:
        roster.remove_grant(session, member_id, str(form.get("role", "")), str(form.get("area", "")), now=at,
                            actor=viewer.actor)

    return _act(request, viewer, member_id, form, work, "saved")


@router.post("/roster/members/{member_id}/password", dependencies=[CSRF])
async def set_password(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()

    def work(session: Session, at: datetime) -> None:
        new, again = str(form.get("password", "")), str(form.get("password_again", ""))
        if new != again:
            raise InvalidInput("the two passwords differ", office_text.OFFICE["passwords_differ"][0])
        roster.require_over_member(session, viewer.actor, roster.get_member(session, member_id))
        roster.set_password(session, member_id, new, now=at, actor=viewer.actor)

    return _act(request, viewer, member_id, {}, work, "password")  # never echo a password back


@router.post("/roster/members/{member_id}/invite", dependencies=[CSRF])
def personal_invite(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    def work(session: Session, at: datetime) -> None:
        _load_member(session, viewer, member_id)
        ensure_personal_invite(session, member_id, now=at, actor=viewer.actor)

    return _act(request, viewer, member_id, {}, work, "invite")


@router.post("/roster/members/{member_id}/merge", dependencies=[CSRF])
async def merge(request: Request, member_id: int, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()

    def work(session: Session, at: datetime) -> None:
        roster.require_over_member(session, viewer.actor, roster.get_member(session, member_id))
        other = str(form.get("other", "")).strip()
        if not other.isdigit():
            raise InvalidInput("choose the duplicate to merge", "กรุณาเลือกรายชื่อซ้ำที่จะรวม")
        if form.get("confirm") != "yes":
            raise InvalidInput("the merge was not confirmed", office_text.OFFICE["need_confirm"][0])
        merge_members(session, member_id, int(other), now=at, actor=viewer.actor,
                      reason=str(form.get("reason", "")).strip() or None, via="web")

    return _act(request, viewer, member_id, form, work, "merged")


# -- my own password ------------------------------------------------------------------------------
@router.get("/account/password")
def my_password_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    return page(request, "my_password.html", error=None, done=request.query_params.get("done"))


@router.post("/account/password", dependencies=[CSRF])
async def change_my_password(request: Request, viewer: Viewer = VIEWER) -> Response:
    form = await request.form()
    current, new, again = (str(form.get(k, "")) for k in ("current", "password", "password_again"))
    try:
        with transaction(request) as session:
            member = roster.get_member(session, viewer.member_id)
            if not password_matches(member.password_hash, current):
                raise PermissionDenied("the current password is wrong", office_text.OFFICE["wrong_password"][0])
            if new != again:
                raise InvalidInput("the two passwords differ", office_text.OFFICE["passwords_differ"][0])
            roster.set_password(session, viewer.member_id, new, now=now(request), actor=None)
    except HubError as exc:
        return page(request, "my_password.html", status_code=status_of(exc), error=exc.message(viewer.language),
                    done=None)
    return RedirectResponse("/account/password?done=1", status_code=303)


def personal_invites_of(session: Session, member_ids: list[int]) -> dict[int, Invite]:
    """Members' newest personal invites (any state), for listings."""
    rows = session.scalars(select(Invite).where(Invite.member_id.in_(member_ids))
                           .order_by(Invite.created_at, Invite.id))
    return {i.member_id: i for i in rows if i.member_id is not None}

