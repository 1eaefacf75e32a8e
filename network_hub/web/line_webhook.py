"""``POST /line/webhook``: LINE's webhook for the hub's Official Account.

The raw body is checked against ``x-line-signature`` (Base64 HMAC-SHA256 with
``HUB_LINE_CHANNEL_SECRET``) before anything else; a wrong or missing signature is refused with
401 and logged without the body. Verified events are stored (de-duplicated by ``webhookEventId``)
and the answer goes back at once — LINE wants one within about 2 s; processing runs after the
response, from the stored events, so a restart loses nothing.

No session, no CSRF token: LINE is not a browser; the signature is the authentication.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.responses import JSONResponse, Response

from network_hub.hub import Hub
from network_hub.line.events import BadSignature, parse_verified, store_events
from network_hub.line.startup import process_with_hub_oa
from network_hub.web.bodylimit import allow_body
from network_hub.web.deps import get_hub

log = logging.getLogger(__name__)
router = APIRouter()
WEBHOOK_PATH = "/line/webhook"
allow_body(WEBHOOK_PATH, 1024 * 1024)  # LINE batches events; far below a megabyte


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def line_webhook(request: Request, background: BackgroundTasks) -> Response:
    hub = get_hub(request)
    secret = hub.settings.line_channel_secret
    if not secret:
        return JSONResponse({"message": "LINE is not configured on this hub"}, status_code=404)
    body = await request.body()
    try:
        destination, events = parse_verified(secret, body, request.headers.get("x-line-signature"))
    except BadSignature as exc:
        client = request.client.host if request.client else "?"
        log.warning("refused a LINE webhook from %s: %s (%d bytes, body not logged)", client, exc, len(body))
        return JSONResponse({"message": "bad signature"}, status_code=401)
    from starlette.concurrency import run_in_threadpool

    stored = await run_in_threadpool(store_events, hub, destination, events)
    if stored.repeated:
        log.info("LINE webhook: %d repeated event(s) ignored", stored.repeated)
    background.add_task(_process, hub)
    return JSONResponse({})


async def _process(hub: Hub) -> None:
    await process_with_hub_oa(hub)
