"""Daily outlet health checks: each active outlet's publisher ``check`` (Facebook: debug_token).

A failed check is recorded on the outlet (shown by ``outlet list`` and the dashboard); a check
that says the credentials or rights are broken pauses the outlet and tells its admins, before a
real post fails on it.

Facebook Pages, when the hub has an app id and secret, are checked with ``GET /debug_token``
(``network_hub.facebook_pages.check_page_token``), which names what went wrong — expired,
password changed, app or permission removed, role on the Page lost — so the outlets and status
pages warn in Thai with a "เชื่อมต่อใหม่" button. Tokens stored by signing in with Facebook are read
from the database (``StoredPageTokens``); token variables and files as before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from sqlalchemy import select

from network_hub.db.models import Outlet
from network_hub.facebook_pages import StoredPageTokens, check_page_token, configured, warning_th
from network_hub.hub import Hub
from network_hub.outbox.transitions import pause_for_human
from network_hub.states import OutletStatus
from publishers.base import CheckResult, PublishError
from publishers.registry import target_for

log = logging.getLogger(__name__)


class PublisherSource(Protocol):
    def get(self, platform: str) -> Any: ...

# Verdicts that mean a person must fix credentials or rights (the publishers' check vocabulary);
# "unreachable", "rate_limited" and "error" may pass by themselves, so they only get recorded.
BROKEN_VERDICTS = frozenset({
    "token_invalid", "token_missing", "not_configured", "not_page_token", "wrong_page", "missing_permission",
    "version_unsupported", "not_admin", "cannot_post", "not_member", "chat_not_found", "bad_address",
    "not_writable",
    # Facebook tokens, named by debug_token (network_hub/facebook_pages.py)
    "token_expired", "password_changed", "app_removed", "role_removed",
})


async def check_outlet(hub: Hub, publishers: PublisherSource, outlet: Outlet) -> CheckResult:
    try:
        target = target_for(outlet, StoredPageTokens(hub.sessions, hub.settings))
        if outlet.platform == "facebook" and target.token and configured(hub.settings):
            result = await asyncio.to_thread(check_page_token, hub.settings, target.token, outlet.address,
                                             hub.clock.now())
        else:
            result = await publishers.get(outlet.platform).check(target)
    except PublishError as exc:
        result = CheckResult(False, str(exc.code or exc.error_class.value), exc.message)
    now = hub.clock.now()

    def record() -> None:
        with hub.transaction() as s:
            row = s.get(Outlet, outlet.id)
            if row is None:
                return
            row.last_check_at, row.last_check_ok = now, result.ok
            row.last_check_verdict, row.last_check_detail = result.verdict, result.detail
            if not result.ok and result.verdict in BROKEN_VERDICTS:
                # A Facebook token problem is told in Thai (the admins' notice, the outlets page); the
                # English detail stays in last_check_detail.
                thai = warning_th(result.verdict) if row.platform == "facebook" else ""
                pause_for_human(s, row, thai or f"check failed ({result.verdict}): {result.detail}", now)
            if row.platform == "line":  # LINE hook (issue 14): the OA quota the check read (/metrics, outlets page)
                from network_hub.line.quota import record_check_quota

                record_check_quota(s, row, result, now)

    await asyncio.to_thread(record)
    return result


async def check_all_outlets(hub: Hub, publishers: PublisherSource) -> dict[int, CheckResult]:
    def load() -> list[Outlet]:
        with hub.transaction() as s:
            return list(s.scalars(select(Outlet).where(Outlet.status == OutletStatus.ACTIVE)))

    results = {}
    for outlet in await asyncio.to_thread(load):
        results[outlet.id] = await check_outlet(hub, publishers, outlet)
        if not results[outlet.id].ok:
            log.warning("outlet %s (%s) check: %s — %s", outlet.id, outlet.name, results[outlet.id].verdict,
                        results[outlet.id].detail)
    return results
