"""The item page's photo-check evidence: blurred region previews and "publish without this photo".

The preview of a flagged region is blurred by the server unless the moderator asks to reveal it,
so the personal data is not even sent to a browser before someone chooses to look. Returning the
item with the reason "รูปมีข้อมูลส่วนบุคคล" uses the ordinary return route (a form on the page).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from network_hub.db.models import PhotoCheck
from network_hub.errors import NotFound
from network_hub.newsroom.queries import get_item
from network_hub.permissions import Action, require
from network_hub.photo_checks.actions import drop_photo, redact_photo
from network_hub.photo_checks.present import region_preview
from network_hub.web.deps import CSRF, VIEWER, Viewer, get_hub, now, transaction

router = APIRouter()


@router.get("/items/{item_id}/photo-checks/{check_id}/{n}.jpg")
def finding_preview(request: Request, item_id: int, check_id: int, n: int, viewer: Viewer = VIEWER,
                    reveal: int = 0) -> Response:
    """Finding ``n`` (0-based) of a photo check: the region, blurred unless ``reveal=1``. Moderators only."""
    media_dir = get_hub(request).settings.resolved_media_dir
    with transaction(request) as session:
        item = get_item(session, item_id, actor=viewer.actor)
        require(viewer.actor, Action.MODERATE, item.village_code)
        check = session.get(PhotoCheck, check_id)
        if check is None or check.item_id != item.id or not 0 <= n < len(check.findings or []):
            raise NotFound(f"item {item_id} has no photo finding {check_id}/{n}", "ไม่พบจุดที่ตรวจพบในรูปนี้")
        path, box = media_dir / check.photo.path, check.findings[n]["box"]
    data = region_preview(path, box, reveal=bool(reveal))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/items/{item_id}/photos/{photo_id}/drop", dependencies=[CSRF])
def publish_without_photo(request: Request, item_id: int, photo_id: int, viewer: Viewer = VIEWER,
                          version: int = Form(...)) -> Response:
    """Remove the flagged photo from the item (audited); the moderator then approves as usual."""
    media_dir = get_hub(request).settings.resolved_media_dir
    with transaction(request) as session:
        drop_photo(session, item_id, photo_id, actor=viewer.actor, media_dir=media_dir, now=now(request),
                   expected_version=version, via="web")
    return RedirectResponse(f"/items/{item_id}?done=drop_photo", status_code=303)


@router.post("/items/{item_id}/photos/{photo_id}/redact", dependencies=[CSRF])
def publish_redacted_photo(request: Request, item_id: int, photo_id: int, viewer: Viewer = VIEWER,
                           version: int = Form(...)) -> Response:
    """Black out the found regions; the redacted photo replaces the original (kept until the decision)."""
    media_dir = get_hub(request).settings.resolved_media_dir
    with transaction(request) as session:
        redact_photo(session, item_id, photo_id, actor=viewer.actor, media_dir=media_dir, now=now(request),
                     expected_version=version, via="web")
    return RedirectResponse(f"/items/{item_id}?done=redact_photo", status_code=303)
