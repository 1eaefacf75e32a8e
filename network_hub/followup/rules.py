"""The follow-up rules and their thresholds (from settings, all configurable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from config.settings import Settings


class Rule:
    QUIET_VILLAGE = "quiet_village"  # reporter: your village has sent no news for N days
    QUIET_VILLAGES_ESCALATION = "quiet_villages_escalation"  # coordinator: villages quiet for 2N days
    PENDING_APPROVAL = "pending_approval"  # moderators: items waiting over H hours
    PENDING_APPROVAL_ESCALATION = "pending_approval_escalation"  # coordinators: items waiting over 2H
    DELIVERY_PROBLEMS = "delivery_problems"  # moderators: failed/unknown deliveries to settle
    OUTLET_NEEDS_RECONNECT = "outlet_needs_reconnect"  # admins: a paused outlet needs a person
    WEEKLY_DIGEST = "weekly_digest"  # coordinators: counts per village for their area


@dataclass(frozen=True)
class Thresholds:
    quiet_village: timedelta
    pending_approval: timedelta
    quiet_hours: tuple[time, time] | None
    tz: ZoneInfo
    digest_weekday: str
    digest_hour: int
    # A digest whose time passed more than this long ago (downtime) is skipped, visibly.
    digest_stale_after: timedelta = timedelta(hours=12)
    # Deliveries are chased by the daily rule only once they have waited this long.
    delivery_problem_age: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            quiet_village=timedelta(days=settings.quiet_village_days),
            pending_approval=timedelta(hours=settings.pending_approval_hours),
            quiet_hours=settings.quiet_hours_window,
            tz=settings.tz,
            digest_weekday=settings.digest_weekday,
            digest_hour=settings.digest_hour,
        )
