"""The printable invite sheet: one card per volunteer (name, role, village, QR code, link), A4.

``GET /roster/sheet`` picks the village or tambon (area picker, a GET form, no codes typed);
``GET /roster/sheet?area=CODE`` shows the cards of the members there who have a usable personal
invite, grouped by village with a page break between villages, and says who is already on
Telegram and who still needs a link. Making the missing links is a POST (``/roster/sheet/invites``,
CSRF-checked) — a GET never creates anything. Without the bot's username no link is shown or
made: a link to ``t.me/your_hub_bot`` printed on paper cannot be taken back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Form, Request
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from network_hub.areas import get_area
from network_hub.db.models import Invite
from network_hub.errors import HubError
from network_hub.permissions import Action, decide, require
from network_hub.roster.invites import active_personal_invite, invite_link, primary_grant
from network_hub.roster.members import list_members
from network_hub.roster.sheet import personal_invite_rows
from network_hub.states import MemberStatus
from network_hub.web.area_picker import area_path_label, build_picker, chosen_area, viewer_roots
from network_hub.web.deps import CSRF, VIEWER, Viewer, now, transaction
from network_hub.web.members_admin import bot_username, page, status_of
from network_hub.web.roster import record_links_shown

router = APIRouter()


@dataclass
class Card:
    name: str
    role: str
    place: str
    link: str
    qr_svg: Markup
    expires_at: datetime


@dataclass
class VillageGroup:
    label: str
    cards: list[Card]


def qr_svg(text: str) -> Markup:
    """The QR code as inline SVG (sharp when printed; no image request, nothing to cache)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    # Safe as markup: qrcode's own SVG paths; the link is only drawn, never inserted as text.
    return Markup(svg.replace('width="', 'data-w="', 1).replace('height="', 'data-h="', 1))


def _sheet(session: Session, viewer: Viewer, area: str, at: datetime, bot: str) -> dict[str, object]:
    groups: dict[str, VillageGroup] = {}
    linked: list[str] = []
    missing: list[str] = []
    skipped: list[str] = []
    shown: list[Invite] = []
    for member in list_members(session, area):
        if member.status == MemberStatus.FORGOTTEN or not member.grants:
            continue
        grant = primary_grant(session, member.id)
        if member.telegram_user_id is not None:
            linked.append(member.name)
            continue
        allowed = all(decide(viewer.actor, Action.INVITE, g.area_code, invite_role=g.role) for g in member.grants)
        if member.status != MemberStatus.ACTIVE or not allowed:
            skipped.append(member.name)
            continue
        invite = active_personal_invite(session, member.id, at)
        if invite is None or not bot:
            missing.append(member.name)
            continue
        shown.append(invite)
        link = invite_link(invite, bot)
        group = groups.setdefault(grant.area_code, VillageGroup(area_path_label(session, grant.area_code), []))
        group.cards.append(Card(member.name, grant.role, group.label, link, qr_svg(link), invite.expires_at))
    record_links_shown(session, viewer, shown, at)
    return {"groups": [groups[k] for k in sorted(groups)], "linked": linked, "missing": missing,
            "skipped": skipped}


@router.get("/roster/sheet")
def sheet_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.INVITE)
    area = chosen_area(request.query_params)  # as sent: checked below, never silently replaced
    at = now(request)
    bot = bot_username(request)
    with transaction(request) as session:
        picker = build_picker(session, request.query_params, viewer_roots(viewer, Action.INVITE),
                              language=viewer.language)
        if not area:
            return page(request, "invite_sheet.html", picker=picker, area="", bot=bot, sheet=None, error=None)
        try:
            get_area(session, area)
            require(viewer.actor, Action.INVITE, area)
            sheet = _sheet(session, viewer, area, at, bot)
        except HubError as exc:
            return page(request, "invite_sheet.html", status_code=status_of(exc), picker=picker, area="", bot=bot,
                        sheet=None, error=exc.message(viewer.language))
        label = area_path_label(session, area)
    return page(request, "invite_sheet.html", picker=picker, area=area, area_label=label, bot=bot, sheet=sheet,
                error=None, done=request.query_params.get("done"))


@router.post("/roster/sheet/invites", dependencies=[CSRF])
def make_sheet_invites(request: Request, viewer: Viewer = VIEWER, area: str = Form("")) -> Response:
    """One personal invite for every member of the area who has none (existing ones are kept)."""
    at = now(request)
    with transaction(request) as session:
        code = get_area(session, area.strip()).code
        require(viewer.actor, Action.INVITE, code)
        if not bot_username(request):  # no links for a bot that does not exist yet
            return RedirectResponse(f"/roster/sheet?area={code}", status_code=303)
        ids = [m.id for m in list_members(session, code) if m.grants]
        personal_invite_rows(session, ids, now=at, actor=viewer.actor)
    return RedirectResponse(f"/roster/sheet?area={code}&done=1", status_code=303)
