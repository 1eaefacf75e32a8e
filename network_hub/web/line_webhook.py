"""``POST /line/webhook``: LINE's webhook for the hub's Official Account.

The raw body is checked against ``x-line-signature`` (Base64 HMAC-SHA256 with
``HUB_LINE_CHANNEL_SECRET``, or the secret of another registered OA) before anything else; a
wrong or missing signature is refused with 401 and logged without the body. Verified events are
stored (de-duplicated by ``webhookEventId``) and the answer goes back at once — LINE wants one
within about 2 s; processing runs after the response, from the stored events, so a restart loses
nothing.

No session, no CSRF token: LINE is not a browser; the signature is the authentication.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from network_hub.hub import Hub
from network_hub.line.accounts import learn_bot_user_id, list_accounts
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
    candidates = await run_in_threadpool(_secrets, hub)
    if not candidates:
        return JSONResponse({"message": "LINE is not configured on this hub"}, status_code=404)
    body = await request.body()
    signature = request.headers.get("x-line-signature")
    verified: tuple[str, str, list[dict[str, Any]]] | None = None
    for account, secret in candidates:  # the hub's OA first, then other OAs (``line account add``)
        try:
            destination, events = parse_verified(secret, body, signature)
        except BadSignature:
            continue
        verified = (account, destination, events)
        break
    if verified is None:
        client = request.client.host if request.client else "?"
        log.warning("refused a LINE webhook from %s: x-line-signature matches no configured channel secret "
                    "(%d bytes, body not logged)", client, len(body))
        return JSONResponse({"message": "bad signature"}, status_code=401)
    account, destination, events = verified
    if account != "hub" and destination:
        await run_in_threadpool(_learn, hub, account, destination)
    stored = await run_in_threadpool(store_events, hub, destination, events)
    if stored.repeated:
        log.info("LINE webhook: %d repeated event(s) ignored", stored.repeated)
    background.add_task(_process, hub)
    return JSONResponse({})


def _secrets(hub: Hub) -> list[tuple[str, str]]:
    found = [("hub", hub.settings.line_channel_secret)] if hub.settings.line_channel_secret else []
    with hub.transaction() as session:
        found += [(a.name, a.secret()) for a in list_accounts(session)]
    return [(name, secret) for name, secret in found if secret]


def _learn(hub: Hub, account: str, destination: str) -> None:
    with hub.transaction() as session:
        learn_bot_user_id(session, account, destination, hub.clock.now())


async def _process(hub: Hub) -> None:
    await process_with_hub_oa(hub)
