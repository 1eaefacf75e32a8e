"""Rows for engine tests: approved items with deliveries, written directly (no newsroom needed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from network_hub.db.models import Delivery, NewsItem, Outlet


def add_outlet(session: Session, now: datetime, *, platform: str = "sandbox", area: str = "520101",
               address: str = "village-news", min_interval_s: float = 0.0, name: str | None = None) -> Outlet:
    outlet = Outlet(platform=platform, name=name or f"{platform}:{address}", area_code=area, address=address,
                    min_interval_s=min_interval_s, status="active", created_at=now, updated_at=now)
    session.add(outlet)
    session.flush()
    return outlet


_receipts = iter(range(1, 10**9))


def add_approved_item(session: Session, now: datetime, author_id: int, outlets: list[Outlet], *,
                      village: str = "52010101", due_at: datetime | None = None, status: str = "approved",
                      body: str = "ข่าวดีจากหมู่บ้าน") -> NewsItem:
    item = NewsItem(receipt_no=f"T-{next(_receipts):06d}", village_code=village, author_id=author_id,
                    category="announcement", title=body.split("\n")[0][:100], body=body, status=status,
                    pdpa_flags=[], consent={}, submitted_at=now, decided_at=now, created_at=now, updated_at=now,
                    scheduled_at=due_at if status == "scheduled" else None)
    session.add(item)
    session.flush()
    for outlet in outlets:
        session.add(Delivery(item_id=item.id, outlet_id=outlet.id, state="pending", due_at=due_at or now,
                             created_at=now, updated_at=now))
    session.flush()
    return item
