"""Maintenance services run by every process (each pass is idempotent); their SQL lives in
``network_hub.outbox.sweep_queries``:

- the rescuer (``sweep_leases``): claimed past its lease → pending; sending past its lease →
  unknown (moderators told); old send-ledger rows pruned;
- the sweeper (``sweep_missed_posts``): scheduled items whose time came (e.g. during downtime) are
  marked approved, deliveries of withdrawn items still waiting are cancelled, items whose
  deliveries are all done but were not rolled up are rolled up (``roll_up_finished_items``), and
  overdue work is logged, so nothing waits silently.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from network_hub.outbox import sweep_queries
from network_hub.outbox.sweep_queries import LEDGER_KEEP

log = logging.getLogger(__name__)
OVERDUE = timedelta(minutes=5)
__all__ = ["LEDGER_KEEP", "OVERDUE", "sweep_leases", "sweep_missed_posts"]


def sweep_leases(session: Session, now: datetime) -> tuple[int, int]:
    """The rescuer: (claims released, in-flight sends marked unknown)."""
    rescued = sweep_queries.rescue_expired_leases(session, now)
    if rescued.released or rescued.unknown:
        log.warning("lease sweep: %d claim(s) released, %d in-flight send(s) marked unknown",
                    len(rescued.released), len(rescued.unknown))
    return len(rescued.released), len(rescued.unknown)


def sweep_missed_posts(session: Session, now: datetime) -> int:
    """The sweeper: the number of scheduled items whose time came."""
    promoted = sweep_queries.promote_reached_schedules(session, now, late_after=OVERDUE)
    sweep_queries.cancel_withdrawn_waiting(session, now)
    rolled = sweep_queries.roll_up_finished_items(session, now)
    if rolled:
        log.warning("roll-up sweep: %d item(s) had every delivery done but were not rolled up: %s",
                    len(rolled), rolled)
    overdue = sweep_queries.count_overdue(session, now, overdue=OVERDUE)
    if overdue:
        log.info("missed-post sweep: %d deliveries are more than %s past due (blocked, paused or paced outlets)",
                 overdue, OVERDUE)
    return len(promoted)
