""""แชร์ไปยัง LINE" (``network_hub.line.share``): the template global for the item pages, and
``GET /news/{receipt}/line-share``, which counts the share (for the weekly digest's "shared least")
and sends the person on to LINE's own share screen (free: the person shares, not the OA)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from network_hub.db.models import NewsItem
from network_hub.errors import NotFound
from network_hub.line.share import PUBLIC_STATUSES, counted_share_path, item_share_url, record_share
from network_hub.web.deps import get_hub, transaction

router = APIRouter()


def install(env: Any, public_base_url: str) -> None:
    env.globals["line_share_url"] = counted_share_path
    env.globals["public_base_url"] = public_base_url.rstrip("/")


@router.get("/news/{receipt_no}/line-share", include_in_schema=False)
def line_share(request: Request, receipt_no: str) -> Response:
    hub = get_hub(request)
    with transaction(request) as session:
        item = session.scalar(select(NewsItem).where(NewsItem.receipt_no == receipt_no,
                                                     NewsItem.status.in_(PUBLIC_STATUSES)))
        if item is None:
            raise NotFound(f"no published news {receipt_no}", "ไม่พบข่าวนี้ หรือข่าวถูกถอนแล้ว")
        record_share(session, item.receipt_no, hub.clock.now())
        target = item_share_url(item, hub.settings.public_base_url)
    assert target is not None
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store",
                                                              "X-Robots-Tag": "noindex"})
