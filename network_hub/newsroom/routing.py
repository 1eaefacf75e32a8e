"""Routing: which outlets an item goes to.

An outlet takes an item when the outlet's area is the item's village or any area above it (its
tambon, district, province, or ``TH``) and the outlet takes the item's category (``categories``
None means every category). Paused outlets are included: their deliveries wait until the outlet
is resumed, so nothing approved while a channel is broken is lost.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.areas import ancestors
from network_hub.db.models import NewsItem, Outlet


def takes_category(outlet: Outlet, category: str) -> bool:
    return outlet.categories is None or category in outlet.categories


def route(session: Session, item: NewsItem) -> list[Outlet]:
    """The outlets ``item`` is delivered to, ordered by id."""
    candidates = session.scalars(
        select(Outlet).where(Outlet.area_code.in_(ancestors(item.village_code))).order_by(Outlet.id)
    )
    return [outlet for outlet in candidates if takes_category(outlet, item.category)]
