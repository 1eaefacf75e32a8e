"""News items: the list, one item with its history and deliveries, its photos, and every lifecycle action.

Each action form sends the item's ``version``; the newsroom refuses (``Conflict``) when the item
changed since the page was drawn, so two moderators cannot both decide the same item. With HTMX
the card the button sat on is replaced by the result; without JavaScript the browser is sent back
to the page it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from starlette.responses import FileResponse, RedirectResponse, Response

from network_hub.db.models import Delivery, Member, Outlet, Photo
from network_hub.errors import InvalidInput, NotFound
from network_hub.newsroom import moderation
from network_hub.newsroom.queries import get_item, item_history, list_items
from network_hub.permissions import Action
from network_hub.photo_checks.present import views as photo_views
from network_hub.states import ItemStatus
from network_hub.thai import be_datetime
from network_hub.web.datepicker import parse_datetime
from network_hub.web.deps import CSRF, VIEWER, Viewer, get_hub, now, render, safe_next, transaction
from network_hub.web.i18n import via_label
from network_hub.web.post_preview import item_post, item_previews
from network_hub.web.presenters import area_options, item_cards

router = APIRouter()
VIA = "web"


@router.get("/items")
def items_page(request: Request, viewer: Viewer = VIEWER, status: str = "", area: str = "") -> Response:
    """News in the viewer's areas, filtered by status and by an area chosen by its Thai name. A wrong
    filter value shows the page again with the error next to the form (never a dead end)."""
    error = None
    area = area.strip()
    with transaction(request) as session:
        options = area_options(session, viewer.areas(Action.SUBMIT))  # every area the viewer holds a role in
        if status and status not in {s.value for s in ItemStatus}:
            error, status = InvalidInput(f"unknown status {status!r}", f"ไม่รู้จักสถานะ '{status}'"), ""
        if area and area not in {code for code, _ in options}:
            error = InvalidInput(f"area {area!r} is not one of yours", f"พื้นที่ '{area}' ไม่อยู่ในพื้นที่ของท่าน")
            area = ""
        items = list_items(session, actor=viewer.actor, status=status or None, area=area or None)
        cards = item_cards(session, viewer, items)
    message = error.message(viewer.language) if error else None
    return render(request, "items.html", status_code=400 if error else 200, cards=cards, status=status, area=area,
                  statuses=list(ItemStatus), area_options=options, error=message)


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, viewer: Viewer = VIEWER) -> Response:
    with transaction(request) as session:
        item = get_item(session, item_id, actor=viewer.actor)
        card = item_cards(session, viewer, [item])[0]
        history = item_history(session, item.id)
        actor_ids = {h["actor_id"] for h in history if h["actor_id"]}
        names = dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(actor_ids))).all()) \
            if actor_ids else {}
        deliveries = [
            {"id": d.id, "state": d.state, "attempts": d.attempts, "permalink": d.permalink,
             "last_error": d.last_error, "outlet": o.name, "platform": o.platform, "due_at": d.due_at,
             "sent_at": d.sent_at, "followup_action": d.followup_action, "followup_state": d.followup_state}
            for d, o in session.execute(
                select(Delivery, Outlet).join(Outlet, Outlet.id == Delivery.outlet_id)
                .where(Delivery.item_id == item.id).order_by(Delivery.id)).all()
        ]
        checks = photo_views(session, item.id)  # issue 16: personal data found in the photos
        hub = get_hub(request)  # issue 12: the post as each platform will show it, from the publishers' plan
        previews = item_previews(item_post(session, item, now(request), hub.settings.resolved_media_dir),
                                 viewer.language)
    for entry in history:
        entry["at_dt"] = datetime.fromisoformat(entry["at"]) if entry.get("at") else None
        # No member behind it: the hub itself did it ("ระบบ"), whatever channel label was stored.
        entry["who"] = names.get(entry["actor_id"], f"#{entry['actor_id']}") if entry["actor_id"] else \
            via_label(entry.get("via"), viewer.language)
    done = request.query_params.get("done")
    return render(request, "item.html", card=card, history=history, deliveries=deliveries, done=done,
                  photo_checks=checks, post_previews=previews)


@router.get("/items/{item_id}/photos/{position}")
def item_photo(request: Request, item_id: int, position: int, viewer: Viewer = VIEWER) -> Response:
    """A photo preview for people who may see the item (the public /media route serves published ones)."""
    hub = get_hub(request)
    with transaction(request) as session:
        item = get_item(session, item_id, actor=viewer.actor)
        photo = session.scalar(select(Photo).where(Photo.item_id == item.id, Photo.position == position))
        if photo is None:
            raise NotFound(f"item {item_id} has no photo {position}", "ไม่พบภาพนี้")
        path = _media_file(hub.settings.resolved_media_dir, photo.path)
    return FileResponse(path, media_type=photo.content_type, headers={"Cache-Control": "private, no-store"})


def _media_file(media_dir: Path, relative: str) -> Path:
    root = media_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"media file {relative} is missing", "ไม่พบไฟล์ภาพ")
    return path


async def form_fields(request: Request) -> Mapping[str, Any]:
    """The whole posted form (Starlette caches it, so the Form(...) parameters still read it too)."""
    return await request.form()


FIELDS = Depends(form_fields)


def _when(request: Request, fields: Mapping[str, Any]) -> datetime | None:
    """The Buddhist Era picker's local time (or an ISO ``at``), which must lie in the future."""
    tz = get_hub(request).settings.tz
    when = parse_datetime(fields, "at", tz, what_th="เวลาเผยแพร่")
    if when is not None and when <= now(request):
        shown = be_datetime(when, tz)
        raise InvalidInput(f"{when.isoformat()} is in the past", f"เวลา {shown} ผ่านไปแล้ว กรุณาเลือกเวลาในอนาคต")
    return when


def _finish(request: Request, viewer: Viewer, item_id: int, verb: str, next_url: str) -> Response:
    if request.headers.get("hx-request"):
        with transaction(request) as session:
            item = get_item(session, item_id, actor=viewer.actor)
            card = item_cards(session, viewer, [item])[0]
        return render(request, "_item_done.html", card=card, verb=verb)
    target = safe_next(next_url) if next_url else f"/items/{item_id}"
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}done={verb}", status_code=303)


@router.post("/items/{item_id}/approve", dependencies=[CSRF])
def approve(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
            confirm_pdpa: str = Form(""), approve_now: str = Form(""), schedule: str = Form(""),
            next: str = Form(""), fields: Mapping[str, Any] = FIELDS) -> Response:
    # The "approve now" button wins over a time chosen in the same form.
    when = None if approve_now == "1" else _when(request, fields)
    if when is None and schedule == "1":
        raise InvalidInput("choose the time to publish", "กรุณาเลือกวันและเวลาเผยแพร่")
    with transaction(request) as session:
        moderation.approve_item(session, item_id, actor=viewer.actor, at=when, confirm_pdpa=confirm_pdpa == "1",
                                expected_version=version, now=now(request), via=VIA)
    return _finish(request, viewer, item_id, "approve", next)


@router.post("/items/{item_id}/reschedule", dependencies=[CSRF])
def reschedule(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
               next: str = Form(""), fields: Mapping[str, Any] = FIELDS) -> Response:
    when = _when(request, fields)
    if when is None:
        raise InvalidInput("choose the new time", "กรุณาเลือกเวลาใหม่")
    with transaction(request) as session:
        moderation.reschedule_item(session, item_id, actor=viewer.actor, at=when,
                                   expected_version=version, now=now(request), via=VIA)
    return _finish(request, viewer, item_id, "reschedule", next)


@router.post("/items/{item_id}/unschedule", dependencies=[CSRF])
def unschedule(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
               next: str = Form("")) -> Response:
    with transaction(request) as session:
        moderation.unschedule_item(session, item_id, actor=viewer.actor, expected_version=version,
                                   now=now(request), via=VIA)
    return _finish(request, viewer, item_id, "unschedule", next)


@router.post("/items/{item_id}/reject", dependencies=[CSRF])
def reject(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
           reason: str = Form(""), next: str = Form("")) -> Response:
    with transaction(request) as session:
        moderation.reject_item(session, item_id, actor=viewer.actor, reason=reason, expected_version=version,
                               now=now(request), via=VIA)
    return _finish(request, viewer, item_id, "reject", next)


@router.post("/items/{item_id}/return", dependencies=[CSRF])
def return_to_author(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
                     reason: str = Form(""), next: str = Form("")) -> Response:
    with transaction(request) as session:
        moderation.return_item(session, item_id, actor=viewer.actor, reason=reason, expected_version=version,
                               now=now(request), via=VIA)
    return _finish(request, viewer, item_id, "return", next)


@router.post("/items/{item_id}/edit", dependencies=[CSRF])
def edit(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
         title: str = Form(""), body: str = Form(""), next: str = Form("")) -> Response:
    with transaction(request) as session:
        moderation.edit_item(session, item_id, actor=viewer.actor, title=title or None, body=body or None,
                             expected_version=version, now=now(request), via=VIA)
    return _finish(request, viewer, item_id, "edit", next)


@router.post("/items/{item_id}/correct", dependencies=[CSRF])
def correct(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
            title: str = Form(""), body: str = Form(""), confirm_pdpa: str = Form(""),
            next: str = Form("")) -> Response:
    with transaction(request) as session:
        moderation.correct_item(session, item_id, actor=viewer.actor, body=body, title=title or None,
                                confirm_pdpa=confirm_pdpa == "1", expected_version=version, now=now(request),
                                via=VIA)
    return _finish(request, viewer, item_id, "correct", next)


@router.post("/items/{item_id}/withdraw", dependencies=[CSRF])
def withdraw(request: Request, item_id: int, viewer: Viewer = VIEWER, version: int = Form(...),
             reason: str = Form(""), next: str = Form("")) -> Response:
    with transaction(request) as session:
        moderation.withdraw_item(session, item_id, actor=viewer.actor, reason=reason, expected_version=version,
                                 now=now(request), via=VIA)
    return _finish(request, viewer, item_id, "withdraw", next)

