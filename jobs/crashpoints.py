"""Named points in a delivery where the reliability tests kill the process (SIGKILL).

Set ``HUB_CRASH_AT`` to one of ``POINTS`` and the process kills itself the first time it gets
there — the only way to prove "nothing lost, nothing posted twice" at each exact moment. Unset
(always, in production), ``reached`` is a dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
import signal

POINTS = ("after_claim", "after_sending", "after_platform_accepted", "after_sent")
_CRASH_AT = os.environ.get("HUB_CRASH_AT", "")


def reached(point: str) -> None:
    if _CRASH_AT and point == _CRASH_AT:
        os.kill(os.getpid(), signal.SIGKILL)
