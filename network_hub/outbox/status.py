"""The numbers behind ``network-hub status`` and the web status page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from network_hub.db.models import Delivery, NewsItem, Outlet, ProcessHeartbeat
from network_hub.states import DeliveryState, ItemStatus, OutletStatus

STALE_AFTER = timedelta(seconds=60)


def hub_status(session: Session, now: datetime) -> dict[str, Any]:
    by_state = {s.value: 0 for s in DeliveryState}
    by_state.update(dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()))
    oldest_due = session.scalar(
        select(func.min(Delivery.due_at)).where(
            Delivery.state.in_((DeliveryState.PENDING, DeliveryState.RETRY_WAIT)), Delivery.due_at <= now)
    )
    processes = [
        {
            "process_id": hb.process_id,
            "hostname": hb.hostname,
            "pid": hb.pid,
            "roles": hb.roles,
            "started_at": hb.started_at,
            "last_tick_at": hb.last_tick_at,
            "age_s": round((now - hb.last_tick_at).total_seconds(), 1),
            "alive": hb.stopped_at is None and now - hb.last_tick_at <= STALE_AFTER,
            "stopped_at": hb.stopped_at,
        }
        for hb in session.scalars(select(ProcessHeartbeat).order_by(ProcessHeartbeat.last_tick_at.desc()))
    ]
    blocked = [
        {"id": o.id, "name": o.name, "platform": o.platform, "status": o.status,
         "blocked_until": o.blocked_until if o.blocked_until and o.blocked_until > now else None,
         "reason": o.paused_reason if o.status == OutletStatus.PAUSED else o.blocked_reason}
        for o in session.scalars(
            select(Outlet).where(or_(Outlet.status == OutletStatus.PAUSED, Outlet.blocked_until > now))
            .order_by(Outlet.id))
    ]
    pending_items = session.scalar(
        select(func.count()).select_from(NewsItem).where(NewsItem.status == ItemStatus.SUBMITTED))
    return {
        "now": now,
        "processes": processes,
        "deliveries_by_state": by_state,
        "oldest_due_age_s": round((now - oldest_due).total_seconds(), 1) if oldest_due else 0.0,
        "blocked_outlets": blocked,
        "items_waiting_for_approval": pending_items or 0,
    }
