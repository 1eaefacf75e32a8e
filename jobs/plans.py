"""Post plans for the engine: what a delivery costs and which call a resumed send starts at.

The claim (``outbox.queries.claim_due``) charges a post's exact cost against its chat's sliding
windows. The cost is the publisher's post plan (``publishers/plan.py``): ``plan.messages`` for a
new delivery, ``plan.messages_from(parts_done)`` for one resuming after a refusal midway. A
publisher without ``plan()`` (older ones, test doubles) falls back to one message per photo.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jobs.posts import post_from_job
from network_hub.outbox.queries import Candidate, message_cost
from network_hub.outbox.transitions import JobKey, SendJob, load_jobs
from publishers.base import OutletTarget

log = logging.getLogger(__name__)


def planning_target(job: SendJob) -> OutletTarget:
    """The outlet as the plan sees it: no token is read (planning never touches the network)."""
    return OutletTarget(outlet_id=job.outlet_id, platform=job.platform, address=job.address,
                        name=job.outlet_name, thai_digits=job.thai_digits)


def plan_of(publisher: Any, job: SendJob) -> Any | None:
    """The publisher's post plan for this job, or None when it has none (or cannot make one)."""
    plan = getattr(publisher, "plan", None)
    if plan is None:
        return None
    try:
        return plan(post_from_job(job), planning_target(job))
    except Exception as exc:  # a post that cannot be planned fails properly when it is sent
        log.warning("delivery %s: no post plan (%s: %s)", job.delivery_id, type(exc).__name__, exc)
        return None


def cost_of(publisher: Any, job: SendJob) -> int:
    plan = plan_of(publisher, job)
    if plan is None:
        return message_cost(len(job.photos))
    return max(1, plan.messages_from(job.parts_done))


def supports_resume(publisher: Any) -> bool:
    try:
        return "start_at" in inspect.signature(publisher.publish).parameters
    except (TypeError, ValueError):
        return False


class PlanCost:
    """The claim's cost function: builds each candidate's post and asks its publisher's plan."""

    def __init__(self, publishers: Any, media_dir: Path, clock: Any) -> None:
        self.publishers, self.media_dir, self.clock = publishers, media_dir, clock

    def __call__(self, session: Session, candidates: list[Candidate]) -> dict[int, int]:
        now: datetime = self.clock.now()
        jobs = load_jobs(session, [JobKey(delivery_id=c.delivery_id, item_id=c.item_id, outlet_id=c.outlet_id,
                                          parts_done=c.parts_done) for c in candidates], now, self.media_dir)
        costs = {}
        for job in jobs:
            try:
                publisher = self.publishers.get(job.platform)
            except Exception:  # an unknown platform fails at send time with a clear error
                costs[job.delivery_id] = 1
                continue
            costs[job.delivery_id] = cost_of(publisher, job)
        return costs
