"""Reconciling ``unknown`` deliveries.

Facebook: every rendered post carries the item's receipt number, so the page's published posts
tell whether the post exists: found → ``sent`` with its id; surely absent → ``pending`` (sent
again); the platform cannot tell → stays ``unknown``. A grace period after the attempt lets the
post become visible first.

Telegram has no history API for bots, but message ids in a chat are sequential: the probe
(publishers/telegram_probe.py) forwards the ids after a message surely before the post (the
delivery's own known parts, else the last post whose ids the hub knew before this send began:
``reconcile_queries``) into the hub's probe chat and reads the receipt markers, passing over the
ids of the hub's other deliveries in that chat and leaving other posts' marked runs to them.
Sends overlap, so no bound is taken from the order sends started. Found → ``sent`` with its ids;
every message there another post's and the scan past the end → ``pending`` (a post refused
midway resumes at its first unknown part); anything else — an unmarked message no post
accounts for above all — stays with a person (``deliveries resolve``, the bot's buttons), who
was told when the delivery became unknown; the next pass looks again (once another unknown
there is settled, its ids are passed over).

The probe's calls cost what any post costs: each forward is a message into the probe chat and,
with its delete, two calls against the bot's 30 a second. ``ProbeBudget`` charges them to the
send ledger (``ledger.charge_unclaimed``) before each forward, so the dispatcher's claims in every
process see them; when a window is full the reconciler waits (up to ``PROBE_MAX_WAIT``: the bot's
one-second window) or defers the rest of this pass's Telegram unknowns to the next pass
(``deferred``); a 429 while probing defers the same way. A deferred probe has settled nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from jobs.dispatch import PublisherSource
from network_hub.hub import Hub
from network_hub.outbox import ledger, reconcile_queries
from network_hub.outbox.reconcile_queries import UnknownDelivery
from network_hub.states import Platform
from publishers.base import ErrorClass, OutletTarget, PublishError
from publishers.registry import target_for
from publishers.render import marker

log = logging.getLogger(__name__)
GRACE = timedelta(minutes=2)
TELEGRAM_GRACE = timedelta(seconds=10)  # a bot's message exists once Telegram answered
LOOK_BACK = timedelta(minutes=10)
PROBE_MAX_WAIT = 2.0  # seconds a probe may wait for room in the ledger before the pass defers
Sleep = Callable[[float], Awaitable[None]]


class ProbeBudget:
    """Charges each probe forward and its delete to the send ledger before they are made: one
    message to the probe chat's window, two calls to the bot's window. Used as the probe's
    ``budget`` (an async context manager per forward); the charge is closed, stamped with the time
    the calls were done, when the block ends."""

    def __init__(self, hub: Hub, delivery_id: int, *, max_wait: float = PROBE_MAX_WAIT,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.hub, self.delivery_id, self.max_wait, self.sleep = hub, delivery_id, max_wait, sleep
        settings = hub.settings
        limits = ledger.RateLimits.from_settings(settings)
        chat = str(settings.telegram_probe_chat_id).strip()
        # Every process's reconciler may charge the probe chat, and no outlet row guards it: lock it
        # like the bot's scope.
        self.windows = [dataclasses.replace(w, shared=True)
                        for w in ledger.windows_for(limits, Platform.TELEGRAM.value, chat)] if chat else []
        self.costs = {w.scope: (2 if w.scope == ledger.TELEGRAM_BOT_SCOPE else 1) for w in self.windows}
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.charged = 0  # forwards charged (tests, logs)

    def _charge(self, fence: int) -> tuple[bool, datetime, datetime]:
        with self.hub.transaction() as s:
            now = self.hub.clock.now()
            at = ledger.charge_unclaimed(s, self.windows, self.costs, now, lease=self.lease,
                                         delivery_id=self.delivery_id, fence=fence)
            return at <= now, now, at

    def _close(self, fence: int) -> None:
        with self.hub.transaction() as s:
            ledger.close(s, [(self.delivery_id, fence, self.hub.clock.now(), None)])

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        if not self.windows:
            yield
            return
        fence = -1 - secrets.randbelow(2**31 - 2)  # negative: never a claim's fence
        waited = 0.0
        while True:
            charged, now, at = await asyncio.to_thread(self._charge, fence)
            if charged:
                break
            wait = (at - now).total_seconds()
            if waited + wait > self.max_wait:
                raise PublishError(ErrorClass.RATE_LIMITED, f"the send ledger has no room for the probe's forward "
                                   f"for {wait:.1f} s (probe chat or bot window full)", code="probe_window_full",
                                   retry_after=wait)
            await self.sleep(wait)
            waited += wait
        self.charged += 1
        try:
            yield
        finally:
            await asyncio.to_thread(self._close, fence)


@dataclass(frozen=True)
class Unknown:
    delivery_id: int
    fence: int
    item_id: int
    receipt_no: str
    started_at: datetime
    target: OutletTarget | None
    error: str | None
    platform: str = Platform.FACEBOOK.value
    known_ids: tuple[str, ...] = ()  # parts of this post already known posted
    after_id: int | None = None  # Telegram: a message id surely before this post
    skip_ids: tuple[int, ...] = ()  # Telegram: the chat's ids known as other deliveries' (passed over)


def _with_target(u: UnknownDelivery) -> Unknown:
    try:
        target, error = target_for(u.outlet), None
    except PublishError as exc:
        target, error = None, exc.message
    return Unknown(u.delivery_id, u.fence, u.item_id, u.receipt_no, u.started_at, target, error, u.platform,
                   u.known_ids, u.after_id, u.skip_ids)


def load_unknown(session: Session, now: datetime) -> list[Unknown]:
    """Facebook unknowns past ``GRACE``, then Telegram unknowns past ``TELEGRAM_GRACE``."""
    rows = (reconcile_queries.unknown_deliveries(session, Platform.FACEBOOK, now, grace=GRACE)
            + reconcile_queries.unknown_deliveries(session, Platform.TELEGRAM, now, grace=TELEGRAM_GRACE))
    return [_with_target(u) for u in rows]


async def reconcile_unknown(hub: Hub, publishers: PublisherSource, *, sleep: Sleep = asyncio.sleep,
                            probe_max_wait: float = PROBE_MAX_WAIT) -> dict[str, int]:
    """One pass over the unknown deliveries: counts of found, absent, undecided (stays with a
    person for now) and deferred (a Telegram probe had no room in the rate limits: next pass)."""
    now = hub.clock.now()

    def load() -> list[Unknown]:
        with hub.transaction() as s:
            return load_unknown(s, now)

    counts = {"found": 0, "absent": 0, "undecided": 0, "deferred": 0}
    telegram_wait: PublishError | None = None
    for u in await asyncio.to_thread(load):
        if u.target is None:
            counts["undecided"] += 1
            continue
        if u.platform == Platform.TELEGRAM and telegram_wait is not None:
            counts["deferred"] += 1
            continue
        try:
            found = await _look(publishers, u, ProbeBudget(hub, u.delivery_id, max_wait=probe_max_wait, sleep=sleep))
        except PublishError as exc:
            if u.platform == Platform.TELEGRAM and exc.error_class is ErrorClass.RATE_LIMITED:
                log.info("delivery %s: probe deferred to the next pass: %s", u.delivery_id, exc)
                telegram_wait = exc
                counts["deferred"] += 1
                continue
            log.info("delivery %s: cannot reconcile yet: %s", u.delivery_id, exc)
            counts["undecided"] += 1
            continue

        def settle(u: Unknown = u, found: object = found) -> bool:
            with hub.transaction() as s:
                ids = found.external_ids if found is not None else None  # type: ignore[attr-defined]
                if ids is not None and u.known_ids:
                    ids = [*u.known_ids, *(i for i in ids if i not in u.known_ids)]
                link = found.permalink if found is not None else None  # type: ignore[attr-defined]
                return reconcile_queries.settle(s, u.delivery_id, u.fence, found_ids=ids, permalink=link,
                                                now=hub.clock.now())

        if await asyncio.to_thread(settle):
            counts["found" if found is not None else "absent"] += 1
    return counts


async def _look(publishers: PublisherSource, u: Unknown, budget: ProbeBudget) -> object:
    """Found (a PublishResult), None (surely absent), or PublishError (cannot tell)."""
    publisher = publishers.get(u.platform)
    if u.platform != Platform.TELEGRAM:
        return await publisher.find_post(u.target, u.started_at - LOOK_BACK, u.receipt_no)  # type: ignore[arg-type]
    probe = getattr(publisher, "probe_post", None)
    if probe is None or u.after_id is None:
        raise PublishError(ErrorClass.AMBIGUOUS, "no earlier post of the hub in this chat to count message ids "
                           "from (or no probe): a person must look", code="probe_no_anchor")
    return await probe(u.target, marker(u.receipt_no), after_id=u.after_id, skip_ids=u.skip_ids,
                       budget=budget)
