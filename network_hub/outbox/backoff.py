"""Retry delays: exponential backoff with full jitter (AWS Architecture Blog)."""

from __future__ import annotations

import random
from datetime import timedelta

BASE_SECONDS = 15.0
CAP_SECONDS = 3600.0


def full_jitter(attempt: int, rng: random.Random | None = None, *, base: float = BASE_SECONDS,
                cap: float = CAP_SECONDS) -> timedelta:
    """Delay before retry number ``attempt`` (1-based): uniform in [base, min(cap, base·2^(attempt-1))]."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    draw = (rng or random).uniform(0.0, ceiling)
    return timedelta(seconds=max(1.0, draw))
