"""What ``network-hub run`` says and schedules for LINE (hooks in ``jobs/service.py``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from config.settings import Settings
from network_hub.hub import Hub

log = logging.getLogger("network_hub.line")
EVENTS_INTERVAL_S = 30.0  # pending webhook events left by a crash are applied within this


def announce(settings: Settings) -> bool:
    """Log LINE's state at start-up; True when LINE is on (the hub's own OA has a token)."""
    if not settings.line_channel_access_token:
        log.info("LINE is off: HUB_LINE_CHANNEL_ACCESS_TOKEN is not set (LINE outlets with their own "
                 "--token-env/--token-file still post)")
        return False
    if urlsplit(settings.public_base_url).scheme != "https":
        log.warning("LINE outlets cannot post photos: HUB_PUBLIC_BASE_URL (%s) is not https:// and LINE fetches "
                    "images from it; photo posts to LINE wait with a clear reason until it is fixed",
                    settings.public_base_url)
    if not settings.line_channel_secret:
        log.warning("LINE webhook off: HUB_LINE_CHANNEL_SECRET is not set, so /line/webhook refuses every call "
                    "(groups cannot be recorded)")
    log.info("LINE is on (API %s, webhook at %s/line/webhook)", settings.line_api_base_url,
             settings.public_base_url.rstrip("/"))
    return True


async def process_with_hub_oa(hub: Hub) -> int:
    """Apply pending webhook events, talking to LINE with the hub's own OA (when it has a token)."""
    from network_hub.line.events import process_pending
    from network_hub.line.io import HubLineIO

    io = HubLineIO(hub) if hub.settings.line_channel_access_token else None
    try:
        return await process_pending(hub, io=io)
    except Exception:  # the events stay pending; the next webhook or pass retries them
        log.exception("processing LINE webhook events failed")
        return 0
    finally:
        if io is not None:
            await io.aclose()


SUMMARY_HOUR = 18  # Bangkok time: the day's decisions are in, before the evening


def summary_job(hub: Hub) -> Callable[[], Awaitable[object]]:
    """The daily status summary to volunteers who use LINE (one push each, only with news)."""
    from network_hub.line.notices import send_daily_summaries
    from publishers.line import LinePublisher

    async def run() -> object:
        publisher = LinePublisher(hub.settings, clock=hub.clock)
        try:
            return await send_daily_summaries(hub, publisher)
        finally:
            await publisher.aclose()

    return run


def scheduled_job(hub: Hub) -> Callable[[], Awaitable[object]]:
    """Apply webhook events still pending (stored, then the process died before processing them)."""

    async def run() -> object:
        return await process_with_hub_oa(hub)

    return run
