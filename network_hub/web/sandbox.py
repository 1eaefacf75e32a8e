"""The sandbox viewer: what the sandbox outlets recorded, shown the way residents would see a post."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from network_hub.db.models import Outlet
from network_hub.states import Platform
from network_hub.web.deps import VIEWER, Viewer, get_hub, render, transaction
from publishers.sandbox import list_posts

router = APIRouter()


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
MAX_POSTS_PER_OUTLET = 50


@router.get("/sandbox")
def sandbox_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    """Any signed-in member may look: sandbox posts are what the public would have seen anyway."""
    root = get_hub(request).settings.sandbox_dir
    with transaction(request) as session:
        outlets = list(session.scalars(select(Outlet).where(Outlet.platform == Platform.SANDBOX.value)
                                       .order_by(Outlet.area_code, Outlet.id)))
    channels = []
    for outlet in outlets:
        posts = list_posts(root, outlet.address)[:MAX_POSTS_PER_OUTLET]
        for post in posts:
            # Stored in UTC (ISO text); shown in the hub's timezone like every other time on the dashboard.
            post["created"] = _parse_time(post.get("created_at"))
            post["photo_urls"] = [f"/media/{p['sha256'][:2]}/{p['sha256']}.jpg" for p in post.get("photos", [])
                                  if p.get("sha256")]
        channels.append({"outlet": outlet, "posts": posts})
    return render(request, "sandbox.html", channels=channels)
