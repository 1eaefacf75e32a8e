"""Quiet hours (no DMs 21:00–07:00 Bangkok time by default): they delay a message, never drop it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(when: datetime, window: tuple[time, time] | None, tz: ZoneInfo) -> bool:
    if window is None:
        return False
    start, end = window
    local = when.astimezone(tz).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # the window crosses midnight


def first_allowed(when: datetime, window: tuple[time, time] | None, tz: ZoneInfo) -> datetime:
    """``when`` itself, or the end of the quiet window it falls in."""
    if not in_quiet_hours(when, window, tz):
        return when
    assert window is not None
    local = when.astimezone(tz)
    end = local.replace(hour=window[1].hour, minute=window[1].minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end
