"""The X-Line-Retry-Key of a LINE delivery: made and stored in the transaction that starts the
first attempt (committed before any request leaves), and sent unchanged on every retry.

LINE remembers an accepted key for 24 hours. A delivery held back without a real attempt (a quota
hold, a paused outlet: not counted in ``attempts``) gets a new key when it finally starts its first
real attempt, so a key never goes stale before it was used. A key that is stale at a later attempt
stays as it is: the publisher then refuses to guess and hands the delivery to a person.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

KEY_SAFE_AGE = timedelta(hours=23)  # publishers.line.KEY_SAFE_AGE (the domain does not import publishers)


def ensure_retry_key(delivery: Any, platform: str, now: datetime) -> None:
    """Give a LINE delivery that is starting an attempt its retry key (``attempts`` already counts it)."""
    if platform != "line":
        return
    made_at = delivery.line_retry_key_at
    stale = made_at is None or now - made_at > KEY_SAFE_AGE
    if delivery.line_retry_key is None or (stale and (delivery.attempts or 0) <= 1):
        delivery.line_retry_key = str(uuid.uuid4())
        delivery.line_retry_key_at = now


def assign_retry_keys(jobs: list[Any], deliveries: dict[int, Any], now: datetime) -> None:
    """The engine's hook (``outbox.transitions.start_sending_batch``): for each LINE send job, make
    sure its delivery row has a key (written by the same transaction, committed before the send)
    and hand the key to the job — with what the outlet's monthly budget still allows, if it has one."""
    from sqlalchemy.orm import object_session

    from network_hub.db.models import Outlet
    from network_hub.line.quota import budget_left

    for job in jobs:
        if job.platform != "line":
            continue
        delivery = deliveries[job.delivery_id]
        ensure_retry_key(delivery, job.platform, now)
        job.line_retry_key = delivery.line_retry_key
        job.line_retry_key_at = delivery.line_retry_key_at
        session = object_session(delivery)
        outlet = session.get(Outlet, job.outlet_id) if session is not None else None
        job.line_budget_left = budget_left(session, outlet, now) if outlet is not None else None
