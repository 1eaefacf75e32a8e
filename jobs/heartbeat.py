"""A heartbeat row per process, so a dead scheduler is visible in ``status`` and ``/healthz``."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy.orm import Session

from network_hub.db.models import ProcessHeartbeat


def beat(session: Session, process_id: str, roles: list[str], now: datetime) -> None:
    row = session.get(ProcessHeartbeat, process_id)
    if row is None:
        session.add(ProcessHeartbeat(process_id=process_id, hostname=socket.gethostname(), pid=os.getpid(),
                                     roles=roles, started_at=now, last_tick_at=now))
    else:
        row.last_tick_at = now
        row.roles = roles
        row.stopped_at = None


def stopped(session: Session, process_id: str, now: datetime) -> None:
    row = session.get(ProcessHeartbeat, process_id)
    if row is not None:
        row.stopped_at = now
        row.last_tick_at = now
