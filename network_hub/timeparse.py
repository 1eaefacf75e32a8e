"""Times and durations as people type them: Bangkok wall-clock times, ``30m``/``12h``/``7d``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from network_hub.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise InvalidInput(
            f"{text!r} is not a duration; use e.g. 30m, 12h or 7d",
            f"'{text}' ไม่ใช่ระยะเวลาที่ถูกต้อง ตัวอย่าง 30m, 12h หรือ 7d",
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_local_time(text: str, tz: ZoneInfo, *, now: datetime, allow_past: bool = False) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM`` (Christian Era, local time) into an aware UTC-comparable datetime."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except (ValueError, AttributeError):
        raise InvalidInput(
            f"{text!r} is not a time; use YYYY-MM-DD HH:MM (Christian Era, {tz.key} time)",
            f"'{text}' ไม่ใช่เวลาที่ถูกต้อง ใช้รูปแบบ ปปปป-ดด-วว ชช:นน (ปี ค.ศ.)",
        ) from None
    if naive.year > 2400:
        raise InvalidInput(
            f"{text!r} looks like a Buddhist Era year; give the Christian Era year (BE - 543)",
            f"'{text}' ดูเหมือนเป็นปี พ.ศ. กรุณาใช้ปี ค.ศ. (พ.ศ. - 543)",
        )
    when = naive.replace(tzinfo=tz)
    if not allow_past and when <= now:
        raise InvalidInput(
            f"{text} ({tz.key}) is in the past", f"เวลา {text} ผ่านไปแล้ว กรุณาเลือกเวลาในอนาคต"
        )
    return when
