"""Buddhist Era date and time pickers: day / Thai month / BE year selects and a 24-hour time.

The browser's own ``<input type=date>`` shows Christian Era years and mm/dd/yyyy on many Thai
phones, so every date a person enters on the dashboard comes from these selects and is parsed
here, on the server, in the hub's timezone (Asia/Bangkok). A field named ``at`` arrives as
``at_day``, ``at_month``, ``at_year`` (BE), ``at_hour`` and ``at_minute``. An ISO value in the plain
field (``at=2026-11-25T09:00``, ``start=2026-11-01``) is still accepted for links and scripts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from network_hub.errors import InvalidInput
from network_hub.thai import MONTHS

BE_OFFSET = 543
PARTS_DATE = ("day", "month", "year")
PARTS_TIME = ("hour", "minute")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")
MINUTE_STEP = 5


@dataclass(frozen=True)
class Picked:
    """What a picker shows: local day, month, BE year, hour and minute (None: nothing chosen)."""

    day: int | None = None
    month: int | None = None
    year_be: int | None = None
    hour: int | None = None
    minute: int | None = None


def picked_from(value: datetime | date | None, tz: ZoneInfo) -> Picked:
    if value is None:
        return Picked()
    if isinstance(value, datetime):
        local = value.astimezone(tz) if value.tzinfo else value
        return Picked(local.day, local.month, local.year + BE_OFFSET, local.hour, local.minute)
    return Picked(value.day, value.month, value.year + BE_OFFSET)


def month_names(language: str) -> tuple[str, ...]:
    return MONTHS_EN if language == "en" else MONTHS


def year_options(around: int, *, back: int = 1, ahead: int = 2, language: str = "th") -> list[tuple[int, str]]:
    """(BE year, shown text) from ``around - back`` to ``around + ahead`` (``around`` is a CE year)."""
    years = range(around - back, around + ahead + 1)
    if language == "en":
        return [(y + BE_OFFSET, str(y)) for y in years]
    return [(y + BE_OFFSET, f"พ.ศ. {y + BE_OFFSET}") for y in years]


def minute_options(current: int | None) -> list[int]:
    """Every fifth minute, plus the current value when it is not one of them (a stored 09:07 stays 09:07)."""
    minutes = list(range(0, 60, MINUTE_STEP))
    if current is not None and current not in minutes:
        minutes = sorted([*minutes, current])
    return minutes


def _number(fields: Mapping[str, Any], key: str) -> int | None:
    raw = str(fields.get(key, "") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(f"{key}={raw!r} is not a number", f"ค่าที่เลือก '{raw}' ไม่ใช่ตัวเลข")
    return int(raw)


def parse_date(fields: Mapping[str, Any], name: str, *, what_th: str = "วันที่") -> date | None:
    """The date a picker called ``name`` sent, or None when nothing was chosen. BE years are converted."""
    plain = str(fields.get(name, "") or "").strip()
    parts = [_number(fields, f"{name}_{p}") for p in PARTS_DATE]
    if all(p is None for p in parts):
        if not plain:
            return None
        try:
            return date.fromisoformat(plain[:10])
        except ValueError:
            raise InvalidInput(f"{plain!r} is not a date (YYYY-MM-DD)", f"{what_th} '{plain}' ไม่ใช่วันที่") from None
    day, month, year = parts
    if day is None or month is None or year is None:
        raise InvalidInput(f"{name}: choose the day, the month and the year",
                           f"{what_th}: กรุณาเลือกทั้งวัน เดือน และปี")
    ce_year = year - BE_OFFSET if year > 2400 else year
    try:
        return date(ce_year, month, day)
    except ValueError:
        month_th = MONTHS[month - 1] if 1 <= month <= 12 else str(month)
        raise InvalidInput(f"{name}: {ce_year}-{month:02d}-{day:02d} does not exist",
                           f"{what_th}: ไม่มีวันที่ {day} {month_th} พ.ศ. {ce_year + BE_OFFSET}") from None


def parse_datetime(fields: Mapping[str, Any], name: str, tz: ZoneInfo, *, what_th: str = "วันเวลา") -> datetime | None:
    """The local date and 24-hour time a picker sent, as an aware datetime in ``tz`` (None: nothing chosen)."""
    plain = str(fields.get(name, "") or "").strip()
    has_parts = any(str(fields.get(f"{name}_{p}", "") or "").strip() for p in PARTS_DATE + PARTS_TIME)
    if not has_parts:
        if not plain:
            return None
        try:
            naive = datetime.strptime(plain.replace("T", " ")[:16], "%Y-%m-%d %H:%M")
        except ValueError:
            raise InvalidInput(f"{plain!r} is not a time (YYYY-MM-DD HH:MM)",
                               f"{what_th} '{plain}' ไม่ใช่วันเวลาที่ถูกต้อง") from None
        if naive.year > 2400:
            naive = naive.replace(year=naive.year - BE_OFFSET)
        return naive.replace(tzinfo=tz)
    day = parse_date(fields, name, what_th=what_th)
    assert day is not None  # parts were sent
    hour, minute = _number(fields, f"{name}_hour"), _number(fields, f"{name}_minute")
    if hour is None or minute is None:
        raise InvalidInput(f"{name}: choose the hour and the minute", f"{what_th}: กรุณาเลือกเวลา (ชั่วโมงและนาที)")
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise InvalidInput(f"{name}: {hour}:{minute} is not a time of day", f"{what_th}: เวลา {hour}.{minute} ไม่ถูกต้อง")
    return datetime.combine(day, time(hour, minute), tz)


def helpers(language: str, tz: ZoneInfo, today: date) -> dict[str, Any]:
    """What the picker macros in templates/_pickers.html need."""
    return {
        "picked": lambda value: picked_from(value, tz),
        "picker_months": month_names(language),
        "picker_years": lambda back=1, ahead=2: year_options(today.year, back=back, ahead=ahead, language=language),
        "picker_minutes": minute_options,
        # What "approve and schedule" offers first: tomorrow at 09.00, local time.
        "default_schedule": datetime.combine(today + timedelta(days=1), time(9, 0), tz),
    }
