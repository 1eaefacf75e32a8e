"""The moderation queue: submitted news in the viewer's areas (never their own), oldest first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from network_hub.db.models import NewsItem
from network_hub.newsroom.queries import pending_queue
from network_hub.permissions import Action
from network_hub.web.deps import VIEWER, Viewer, render, transaction
from network_hub.web.presenters import area_clause, item_cards

router = APIRouter()


@router.get("/queue")
def queue_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    areas = viewer.require_anywhere(Action.MODERATE)
    with transaction(request) as session:
        cards = item_cards(session, viewer, pending_queue(session, viewer.actor))
        # An empty queue on a new hub says how news gets here; on a working hub, where to look next.
        any_news = bool(cards) or session.scalar(
            select(NewsItem.id).where(area_clause(NewsItem.village_code, areas)).limit(1)) is not None
    return render(request, "queue.html", cards=cards, done=request.query_params.get("done"), any_news=any_news,
                  may_invite=viewer.can(Action.INVITE))
