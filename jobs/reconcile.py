"""Reconciling ``unknown`` deliveries.

Facebook: every rendered post carries the item's receipt number, so the page's published posts
tell whether the post exists: found → ``sent`` with its id; surely absent → ``pending`` (sent
again); the platform cannot tell → stays ``unknown``. A grace period after the attempt lets the
post become visible first.

Telegram has no history API for bots, but message ids in a chat are sequential: the probe
(publishers/telegram_probe.py) forwards the ids after the last post the hub knows in that chat
into the hub's probe chat and reads the receipt marker. Found → ``sent`` with its ids; nothing
past the end → ``pending`` (a post refused midway resumes at its first unknown part); anything
else stays with a person (``deliveries resolve``, the bot's buttons), who was told when the
delivery became unknown.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from jobs.dispatch import PublisherSource
from network_hub.hub import Hub
from network_hub.outbox import reconcile_queries
from network_hub.outbox.reconcile_queries import UnknownDelivery
from network_hub.states import Platform
from publishers.base import ErrorClass, OutletTarget, PublishError
from publishers.registry import target_for
from publishers.render import marker

log = logging.getLogger(__name__)
GRACE = timedelta(minutes=2)
TELEGRAM_GRACE = timedelta(seconds=10)  # a bot's message exists once Telegram answered
LOOK_BACK = timedelta(minutes=10)


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
    after_id: int | None = None  # Telegram: the last message id the hub knows before this post
    before_id: int | None = None  # Telegram: the first message id the hub knows after it


def _with_target(u: UnknownDelivery) -> Unknown:
    try:
        target, error = target_for(u.outlet), None
    except PublishError as exc:
        target, error = None, exc.message
    return Unknown(u.delivery_id, u.fence, u.item_id, u.receipt_no, u.started_at, target, error, u.platform,
                   u.known_ids, u.after_id, u.before_id)


def load_unknown(session: Session, now: datetime) -> list[Unknown]:
    """Facebook unknowns past ``GRACE``, then Telegram unknowns past ``TELEGRAM_GRACE``."""
    rows = (reconcile_queries.unknown_deliveries(session, Platform.FACEBOOK, now, grace=GRACE)
            + reconcile_queries.unknown_deliveries(session, Platform.TELEGRAM, now, grace=TELEGRAM_GRACE))
    return [_with_target(u) for u in rows]


async def reconcile_unknown(hub: Hub, publishers: PublisherSource) -> dict[str, int]:
    now = hub.clock.now()

    def load() -> list[Unknown]:
        with hub.transaction() as s:
            return load_unknown(s, now)

    counts = {"found": 0, "absent": 0, "undecided": 0}
    for u in await asyncio.to_thread(load):
        if u.target is None:
            counts["undecided"] += 1
            continue
        try:
            found = await _look(publishers, u)
        except PublishError as exc:
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


async def _look(publishers: PublisherSource, u: Unknown) -> object:
    """Found (a PublishResult), None (surely absent), or PublishError (cannot tell)."""
    publisher = publishers.get(u.platform)
    if u.platform != Platform.TELEGRAM:
        return await publisher.find_post(u.target, u.started_at - LOOK_BACK, u.receipt_no)  # type: ignore[arg-type]
    probe = getattr(publisher, "probe_post", None)
    if probe is None or u.after_id is None:
        raise PublishError(ErrorClass.AMBIGUOUS, "no earlier post of the hub in this chat to count message ids "
                           "from (or no probe): a person must look", code="probe_no_anchor")
    return await probe(u.target, marker(u.receipt_no), after_id=u.after_id, before_id=u.before_id)
