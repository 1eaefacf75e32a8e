"""Deliveries that need a person: ``unknown`` (was it posted?) and ``failed`` (send again once fixed)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from network_hub.db.models import Delivery, NewsItem, Outlet
from network_hub.newsroom import events
from network_hub.outbox.resolution import resolve_unknown, retry_failed
from network_hub.permissions import Action
from network_hub.states import DeliveryState
from network_hub.web.deps import CSRF, VIEWER, Viewer, now, render, transaction
from network_hub.web.presenters import area_clause

router = APIRouter()
NEEDS_PERSON = (DeliveryState.UNKNOWN.value, DeliveryState.FAILED.value)


@router.get("/deliveries")
def deliveries_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    areas = viewer.require_anywhere(Action.RESOLVE_DELIVERY)
    with transaction(request) as session:
        rows = session.execute(
            select(Delivery, Outlet, NewsItem)
            .join(Outlet, Outlet.id == Delivery.outlet_id).join(NewsItem, NewsItem.id == Delivery.item_id)
            .where(Delivery.state.in_(NEEDS_PERSON), area_clause(NewsItem.village_code, areas))
            .order_by(Delivery.updated_at.desc(), Delivery.id.desc()).limit(500)
        ).all()
        entries = [{"delivery": d, "outlet": o, "item": i} for d, o, i in rows
                   if viewer.can(Action.RESOLVE_DELIVERY, i.village_code)]
    return render(request, "deliveries.html", entries=entries, done=request.query_params.get("done"))


@router.post("/deliveries/{delivery_id}/resolve", dependencies=[CSRF])
def resolve(request: Request, delivery_id: int, viewer: Viewer = VIEWER, posted: str = Form(...),
            permalink: str = Form("")) -> Response:
    with transaction(request) as session:
        delivery = resolve_unknown(session, delivery_id, posted=posted == "1", actor=viewer.actor,
                                   now=now(request), permalink=permalink.strip() or None)
        if posted != "1":
            events.fire_after_commit(session, events.item_approved, delivery.item_id)
    return RedirectResponse("/deliveries?done=resolve", status_code=303)


@router.post("/deliveries/{delivery_id}/retry", dependencies=[CSRF])
def retry(request: Request, delivery_id: int, viewer: Viewer = VIEWER) -> Response:
    with transaction(request) as session:
        delivery = retry_failed(session, delivery_id, actor=viewer.actor, now=now(request))
        events.fire_after_commit(session, events.item_approved, delivery.item_id)
    return RedirectResponse("/deliveries?done=retry", status_code=303)
