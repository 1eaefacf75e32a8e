"""The moderation queue: submitted news in the viewer's areas (never their own), oldest first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from network_hub.newsroom.queries import pending_queue
from network_hub.permissions import Action
from network_hub.web.deps import VIEWER, Viewer, render, transaction
from network_hub.web.presenters import item_cards

router = APIRouter()


@router.get("/queue")
def queue_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MODERATE)
    with transaction(request) as session:
        cards = item_cards(session, viewer, pending_queue(session, viewer.actor))
    return render(request, "queue.html", cards=cards, done=request.query_params.get("done"))
