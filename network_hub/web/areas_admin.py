"""Villages and the moderators' Telegram group, on the web (what ``village add`` and ``area
set-moderation-chat`` do in the CLI), for those who may ``MANAGE_AREAS`` there.

The tambon is picked with the area picker; a village is added by its number (หมู่ที่ 1-99) and
name — the 8-digit code is made from them, never typed.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from network_hub import audit
from network_hub.areas import add_village, get_area, village_label
from network_hub.db.models import Area
from network_hub.errors import HubError, InvalidInput
from network_hub.permissions import Action, require
from network_hub.roster.members import audit_actor
from network_hub.states import AreaLevel
from network_hub.web.area_picker import area_path_label, build_picker, chosen_area, viewer_roots
from network_hub.web.deps import CSRF, VIEWER, Viewer, now, transaction
from network_hub.web.members_admin import page, status_of

router = APIRouter()
_GROUP_CHAT_ID = re.compile(r"^-\d{5,20}$")


def _view(request: Request, viewer: Viewer, form, *, error: str | None = None, status_code: int = 200,  # type: ignore[no-untyped-def]
          done: str | None = None) -> Response:
    with transaction(request) as session:
        picker = build_picker(session, form, viewer_roots(viewer, Action.MANAGE_AREAS), deepest=3,
                              language=viewer.language)
        area = session.get(Area, picker.chosen) if picker.chosen else None
        villages = []
        if area is not None and area.level == AreaLevel.SUBDISTRICT:
            villages = [(v.code, village_label(v)) for v in session.scalars(
                select(Area).where(Area.parent_code == area.code).order_by(Area.code))]
        chat = area.moderation_chat_id if area is not None else None
        label = area_path_label(session, area.code) if area is not None else ""
        is_tambon = area is not None and area.level == AreaLevel.SUBDISTRICT
        code = area.code if area is not None else ""
    return page(request, "villages.html", status_code=status_code, picker=picker, area=code, area_label=label,
                villages=villages, is_tambon=is_tambon, chat=chat, error=error, form=form, done=done)


@router.get("/areas/villages")
def villages_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_AREAS)
    return _view(request, viewer, request.query_params, done=request.query_params.get("done"))


@router.post("/areas/villages", dependencies=[CSRF])
async def add_village_route(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_AREAS)
    form = await request.form()
    if form.get("step"):
        return _view(request, viewer, form)
    try:
        tambon = chosen_area(form)
        number = str(form.get("number", "")).strip()
        if not number.isdigit() or not 1 <= int(number) <= 99:
            raise InvalidInput(f"{number!r} is not a village number (1-99)", "หมู่ที่ต้องเป็นตัวเลข 1 ถึง 99")
        at = now(request)
        with transaction(request) as session:
            area = get_area(session, tambon)
            if area.level != AreaLevel.SUBDISTRICT:
                raise InvalidInput(f"{tambon} is not a tambon", "กรุณาเลือกตำบลที่หมู่บ้านนี้อยู่")
            require(viewer.actor, Action.MANAGE_AREAS, area.code)
            village = add_village(session, f"{area.code}{int(number):02d}", str(form.get("name", "")), at,
                                  community=form.get("community") == "yes")
            audit.record(session, at=at, action="village.add", object_type="area", object_id=village.code,
                         after={"code": village.code, "name_th": village.name_th, "parent_code": area.code,
                                "is_community": village.is_community}, **audit_actor(viewer.actor))
    except HubError as exc:
        return _view(request, viewer, form, error=exc.message(viewer.language), status_code=status_of(exc))
    return RedirectResponse(f"/areas/villages?area={tambon}&done=village", status_code=303)


@router.post("/areas/moderation-chat", dependencies=[CSRF])
async def set_moderation_chat(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_AREAS)
    form = await request.form()
    code = str(form.get("area", "")).strip()
    raw = str(form.get("chat_id", "")).strip()
    try:
        if raw and not _GROUP_CHAT_ID.match(raw):
            raise InvalidInput(f"{raw!r} is not a Telegram group id",
                               f"'{raw}' ไม่ใช่รหัสกลุ่ม Telegram (รหัสกลุ่มเป็นเลขติดลบ เช่น -1001234567890)")
        new_id = int(raw) if raw else None
        at = now(request)
        with transaction(request) as session:
            area = get_area(session, code)
            require(viewer.actor, Action.MANAGE_AREAS, area.code)
            before = area.moderation_chat_id
            area.moderation_chat_id = new_id
            audit.record(session, at=at, action="area.set_moderation_chat", object_type="area", object_id=area.code,
                         before={"moderation_chat_id": before}, after={"moderation_chat_id": new_id},
                         **audit_actor(viewer.actor))
    except HubError as exc:
        return _view(request, viewer, form, error=exc.message(viewer.language), status_code=status_of(exc))
    return RedirectResponse(f"/areas/villages?area={code}&done=chat", status_code=303)
