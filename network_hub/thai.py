"""Thai presentation: Buddhist Era dates with Thai month names, Thai digits, UTF-16 lengths."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
MONTHS_SHORT = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)
_TO_THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_TO_ARABIC = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def to_thai_digits(text: str) -> str:
    return text.translate(_TO_THAI)


def to_arabic_digits(text: str) -> str:
    return text.translate(_TO_ARABIC)


def be_date(when: datetime, tz: ZoneInfo = BANGKOK, *, short: bool = False) -> str:
    """``24 พฤศจิกายน 2569`` (or ``24 พ.ย. 69`` when short) in the given zone."""
    local = when.astimezone(tz)
    if short:
        return f"{local.day} {MONTHS_SHORT[local.month - 1]} {str(local.year + 543)[-2:]}"
    return f"{local.day} {MONTHS[local.month - 1]} {local.year + 543}"


def be_datetime(when: datetime, tz: ZoneInfo = BANGKOK, *, short: bool = False) -> str:
    """``24 พฤศจิกายน 2569 เวลา 09.00 น.`` (the official Thai time style)."""
    local = when.astimezone(tz)
    return f"{be_date(local, tz, short=short)} เวลา {local:%H.%M} น."


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2
