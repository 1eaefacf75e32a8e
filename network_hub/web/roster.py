"""The roster: members and their roles, invites with copyable deep links and QR codes, CSV export."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import qrcode
from fastapi import APIRouter, Form, Request
from qrcode.image.pil import PilImage
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from network_hub import audit
from network_hub.db.models import AuditEvent, Invite
from network_hub.errors import InvalidInput, NotFound
from network_hub.permissions import Action, require
from network_hub.roster.csv_io import export_roster
from network_hub.roster.invites import create_invite, get_invite, invite_link, invite_state, list_invites, revoke_invite
from network_hub.roster.members import list_members
from network_hub.states import Role
from network_hub.web.deps import CSRF, VIEWER, Viewer, get_hub, now, render, transaction
from network_hub.web.presenters import area_names, area_options

router = APIRouter()
DEFAULT_BOT = "your_hub_bot"


def _bot_username(request: Request) -> str:
    return get_hub(request).settings.telegram_bot_username or DEFAULT_BOT


def bot_configured(request: Request) -> bool:
    """Invite links and QR codes only make sense once the hub has a bot people can open: without
    one they would point at a placeholder (t.me/your_hub_bot), so the page says how to set it up."""
    settings = get_hub(request).settings
    return bool(settings.telegram_bot_token.strip() and settings.telegram_bot_username.strip())


def _roster_areas(viewer: Viewer) -> list[str]:
    """Areas whose people the viewer may see: where they manage the roster or may invite."""
    areas = sorted(set(viewer.areas(Action.MANAGE_ROSTER)) | set(viewer.areas(Action.INVITE)))
    if not areas:
        viewer.require_anywhere(Action.INVITE)  # raises PermissionDenied through the permission function
    return _outermost(areas)


def record_links_shown(session: Session, viewer: Viewer, invites: list[Invite], at: datetime) -> None:
    """Audit who saw which invite link: one ``invite.link_shown`` event per viewer and invite (not per view)."""
    if not invites:
        return
    ids = [str(i.id) for i in invites]
    seen = set(session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "invite.link_shown", AuditEvent.object_type == "invite",
        AuditEvent.actor_id == viewer.member_id, AuditEvent.object_id.in_(ids))))
    for invite in invites:
        if str(invite.id) not in seen:
            audit.record(session, at=at, action="invite.link_shown", object_type="invite", object_id=invite.id,
                         actor_id=viewer.member_id, actor_label="web",
                         after={"role": invite.role, "area_code": invite.area_code})


def _outermost(areas: list[str]) -> list[str]:
    if "TH" in areas:
        return ["TH"]
    return [a for a in areas if not any(a != b and a.startswith(b) for b in areas)]


@router.get("/roster")
def roster_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    return _roster(request, viewer)


def _roster(request: Request, viewer: Viewer, *, error: str | None = None, status_code: int = 200) -> Response:
    """The roster page; ``error`` (a refused form) is shown above the form it came from."""
    areas = _roster_areas(viewer)
    at = now(request)
    bot = _bot_username(request)
    with transaction(request) as session:
        members = {m.id: m for area in areas for m in list_members(session, area)}
        # Only invites the viewer could have created themselves: a moderator who saw an admin
        # invite's link could redeem it and become admin (security review, finding 1).
        invites = [i for area in areas for i in list_invites(session, area)
                   if viewer.can(Action.INVITE, i.area_code, invite_role=i.role)]
        record_links_shown(session, viewer, [i for i in invites if invite_state(i, at) == "active"], at)
        member_rows = [{"member": m, "grants": [(g.role, g.area_code) for g in m.grants]}
                       for m in sorted(members.values(), key=lambda m: m.id)]
        shown_areas = {i.area_code for i in invites} | {a for r in member_rows for _, a in r["grants"]}
        names = area_names(session, shown_areas)
        invite_area_options = area_options(session, viewer.areas(Action.INVITE))
    invite_rows = [{"invite": i, "state": invite_state(i, at), "link": invite_link(i, bot), "revocable": True}
                   for i in sorted(invites, key=lambda i: i.created_at, reverse=True)]
    roles = [r.value for r in Role if viewer.can(Action.INVITE, areas[0], invite_role=r.value)] if areas else []
    return render(request, "roster.html", members=member_rows, invites=invite_rows, areas=areas, roles=roles,
                  bot_ready=bot_configured(request), area_names=names, invite_area_options=invite_area_options,
                  error=error, status_code=status_code,
                  show_phone=viewer.can(Action.MANAGE_ROSTER), done=request.query_params.get("done"))


@router.post("/roster/invites", dependencies=[CSRF])
def new_invite(request: Request, viewer: Viewer = VIEWER, role: str = Form(...), area: str = Form(...),
               max_uses: int = Form(1), expires_days: int = Form(7)) -> Response:
    try:
        if not 1 <= expires_days <= 90:
            raise InvalidInput("an invite is valid for 1 to 90 days", "ลิงก์เชิญมีอายุได้ 1 ถึง 90 วัน")
        with transaction(request) as session:
            create_invite(session, role=role, area_code=area, max_uses=max_uses,
                          expires_in=timedelta(days=expires_days), now=now(request), actor=viewer.actor)
    except (InvalidInput, NotFound) as exc:  # a wrong value: the form again, with the reason
        return _roster(request, viewer, error=exc.message(viewer.language), status_code=400)
    return RedirectResponse("/roster?done=invite#invites", status_code=303)


@router.post("/roster/invites/{code}/revoke", dependencies=[CSRF])
def revoke(request: Request, code: str, viewer: Viewer = VIEWER) -> Response:
    with transaction(request) as session:
        revoke_invite(session, code, now=now(request), actor=viewer.actor)
    return RedirectResponse("/roster?done=revoke#invites", status_code=303)


@router.get("/roster/invites/{code}/qr.png")
def invite_qr(request: Request, code: str, viewer: Viewer = VIEWER) -> Response:
    with transaction(request) as session:
        invite = get_invite(session, code)
        require(viewer.actor, Action.INVITE, invite.area_code, invite_role=invite.role)
        if not bot_configured(request):
            raise NotFound("no Telegram bot is configured (HUB_TELEGRAM_BOT_TOKEN, HUB_TELEGRAM_BOT_USERNAME)",
                           "ยังไม่ได้ตั้งค่าบอท Telegram จึงยังไม่มี QR สำหรับลิงก์เชิญ")
        record_links_shown(session, viewer, [invite], now(request))
        link = invite_link(invite, _bot_username(request))
    image = qrcode.make(link, image_factory=PilImage, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


@router.get("/roster.csv")
def roster_csv(request: Request, viewer: Viewer = VIEWER, area: str = "") -> Response:
    areas = viewer.require_anywhere(Action.MANAGE_ROSTER)
    code = area.strip() or _outermost(areas)[0]
    require(viewer.actor, Action.MANAGE_ROSTER, code)
    with transaction(request) as session:
        text = export_roster(session, None if code == "TH" else code)
    body = text.encode("utf-8")
    if not body.startswith(b"\xef\xbb\xbf"):
        body = b"\xef\xbb\xbf" + body
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="roster-{code}.csv"',
                             "Cache-Control": "private, no-store"})
