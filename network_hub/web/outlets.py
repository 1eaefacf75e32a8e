"""Outlets with their health; admins pause, resume and check them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from network_hub.db.models import Outlet
from network_hub.line.quota import month_use_label
from network_hub.outlet_checks import check_outlet
from network_hub.outlets import get_outlet, list_outlets, pause_outlet, resume_outlet
from network_hub.permissions import Action, require
from network_hub.web.deps import CSRF, VIEWER, Viewer, get_hub, now, render, transaction
from network_hub.web.presenters import area_names
from publishers.registry import Publishers

router = APIRouter()


@router.get("/outlets")
def outlets_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    """Anyone who follows the network's numbers sees where news goes and whether it works."""
    viewer.require_anywhere(Action.VIEW_STATS)
    with transaction(request) as session:
        outlets = list_outlets(session)
        names = area_names(session, {o.area_code for o in outlets})
        # LINE: this month's posts and their estimated message cost (quota is money)
        line_use = {o.id: month_use_label(session, o, now(request)) for o in outlets if o.platform == "line"}
    rows = [{"outlet": o, "manage": viewer.can(Action.MANAGE_OUTLETS, o.area_code), "line_use": line_use.get(o.id)}
            for o in outlets]
    return render(request, "outlets.html", rows=rows, now=now(request), done=request.query_params.get("done"),
                  area_names=names)


@router.post("/outlets/{outlet_id}/pause", dependencies=[CSRF])
def pause(request: Request, outlet_id: int, viewer: Viewer = VIEWER, reason: str = Form("")) -> Response:
    with transaction(request) as session:
        pause_outlet(session, outlet_id, reason=reason or None, now=now(request), actor=viewer.actor)
    return RedirectResponse("/outlets?done=pause", status_code=303)


@router.post("/outlets/{outlet_id}/resume", dependencies=[CSRF])
def resume(request: Request, outlet_id: int, viewer: Viewer = VIEWER) -> Response:
    with transaction(request) as session:
        resume_outlet(session, outlet_id, now=now(request), actor=viewer.actor)
    return RedirectResponse("/outlets?done=resume", status_code=303)


@router.post("/outlets/{outlet_id}/check", dependencies=[CSRF])
async def check(request: Request, outlet_id: int, viewer: Viewer = VIEWER) -> Response:
    hub = get_hub(request)

    def load() -> Outlet:
        with hub.transaction() as session:
            outlet = get_outlet(session, outlet_id)
            require(viewer.actor, Action.MANAGE_OUTLETS, outlet.area_code)
            return outlet

    outlet = await asyncio.to_thread(load)
    publishers = Publishers(hub.settings)
    try:
        await check_outlet(hub, publishers, outlet)
    finally:
        await publishers.aclose()
    return RedirectResponse("/outlets?done=check", status_code=303)
