"""Named leases in the database: one holder at a time (e.g. the process polling Telegram)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from network_hub.db.models import LeaderLease


def acquire(session: Session, name: str, owner: str, *, ttl: timedelta, now: datetime) -> bool:
    """Take or renew the lease; True when ``owner`` holds it until ``now + ttl``."""
    renewed = session.execute(
        update(LeaderLease)
        .where(LeaderLease.name == name, or_(LeaderLease.owner == owner, LeaderLease.until < now))
        .values(owner=owner, until=now + ttl, fence=LeaderLease.fence + 1)
    ).rowcount
    if renewed:
        return True
    if session.scalar(select(LeaderLease.name).where(LeaderLease.name == name)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(LeaderLease(name=name, owner=owner, until=now + ttl, fence=1))
    except IntegrityError:
        return False
    return True


def release(session: Session, name: str, owner: str, *, now: datetime) -> None:
    """Give the lease up at once (clean shutdown) so another process takes over without waiting."""
    session.execute(update(LeaderLease).where(LeaderLease.name == name, LeaderLease.owner == owner)
                    .values(until=now))
