"""Receipt numbers: ``NH-2569-000123``, easy to read over the phone and unique forever.

The number is the item's id (unique by construction, also across several hub processes) with
the Buddhist Era year of submission in front, so a reporter can say "เอ็นเอช สองห้าหกเก้า
หนึ่งสองสาม". Every rendered post carries it as the stable marker the Facebook reconciler
looks for.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from network_hub.thai import BANGKOK

PREFIX = "NH"
_RECEIPT = re.compile(r"^\s*NH[-\s]?(\d{4})[-\s]?(\d{1,9})\s*$", re.IGNORECASE)


def placeholder() -> str:
    """A unique temporary value for the insert that gives the item its id."""
    return f"pending-{uuid.uuid4().hex[:24]}"


def receipt_number(item_id: int, submitted_at: datetime) -> str:
    be_year = submitted_at.astimezone(BANGKOK).year + 543
    return f"{PREFIX}-{be_year}-{item_id:06d}"


def parse_receipt(text: str) -> int | None:
    """The item id in a receipt number as people type it (``nh 2569 123``), else None."""
    match = _RECEIPT.match(text or "")
    return int(match.group(2)) if match else None


def normalize_receipt(text: str) -> str | None:
    """``nh 2569 123`` → ``NH-2569-000123`` (None when it is not a receipt number)."""
    match = _RECEIPT.match(text or "")
    return f"{PREFIX}-{match.group(1)}-{int(match.group(2)):06d}" if match else None
