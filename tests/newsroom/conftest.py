"""Newsroom fixtures: a seeded network with outlets, and helpers to put an item in any status."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from network_hub.db.models import Delivery, NewsItem, Outlet
from network_hub.hub import Hub
from network_hub.newsroom import moderation
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import Actor, load_actor
from network_hub.states import DeliveryState, ItemStatus
from tests.factories import People, seed_network


def add_outlet(session: Session, now: datetime, area: str, *, categories: list[str] | None = None,
               status: str = "active", platform: str = "sandbox", name: str | None = None) -> Outlet:
    outlet = Outlet(platform=platform, name=name or f"{platform} {area}", area_code=area,
                    address=f"{platform}-{area}", categories=categories, status=status,
                    created_at=now, updated_at=now)
    session.add(outlet)
    session.flush()
    return outlet


def jpeg_bytes(size: tuple[int, int] = (64, 48), color: str = "red", **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **save)
    return buffer.getvalue()


@dataclass
class Newsroom:
    hub: Hub
    people: People
    media_dir: Path

    @property
    def now(self) -> datetime:
        return self.hub.clock.now()

    def submit(self, session: Session, *, body: str = "วันนี้ชาวบ้านร่วมกันปลูกป่าชุมชน\nมีผู้ร่วมงาน 50 คน",
               author: int | None = None, village: str = "52010101", category: str = "event",
               photos: list[PhotoInput] | None = None, **kwargs: object) -> NewsItem:
        author_id = author or self.people.reporter.id
        return submit_item(session, actor=load_actor(session, author_id), author_id=author_id,
                           village_code=village, category=category, body=body, photos=photos or [],
                           now=self.now, media_dir=self.media_dir, **kwargs)

    def moderator(self, session: Session) -> Actor:
        return load_actor(session, self.people.moderator.id)

    def item_in_status(self, session: Session, status: ItemStatus) -> NewsItem:
        """A real item brought to ``status`` (engine-owned statuses are set as the engine would)."""
        item = self.submit(session)
        mod = self.moderator(session)
        now = self.now
        if status is ItemStatus.SUBMITTED:
            return item
        if status is ItemStatus.CHANGES_REQUESTED:
            return moderation.return_item(session, item.id, actor=mod, reason="ขอรูปเพิ่ม", now=now)
        if status is ItemStatus.REJECTED:
            return moderation.reject_item(session, item.id, actor=mod, reason="ซ้ำ", now=now)
        if status is ItemStatus.SCHEDULED:
            moderation.approve_item(session, item.id, actor=mod, at=now + timedelta(days=1), now=now)
            return item
        deliveries = moderation.approve_item(session, item.id, actor=mod, now=now)
        if status is ItemStatus.APPROVED:
            return item
        states = {
            ItemStatus.PUBLISHING: [DeliveryState.SENDING, DeliveryState.PENDING],
            ItemStatus.PUBLISHED: [DeliveryState.SENT, DeliveryState.SENT],
            ItemStatus.PARTIALLY_PUBLISHED: [DeliveryState.SENT, DeliveryState.FAILED],
            ItemStatus.FAILED: [DeliveryState.FAILED, DeliveryState.FAILED],
            ItemStatus.WITHDRAWN: [DeliveryState.SENT, DeliveryState.SENT],
        }[status]
        for delivery, state in zip(deliveries, states, strict=True):
            _set_delivery(delivery, state, now)
        item.status = (ItemStatus.PUBLISHED if status is ItemStatus.WITHDRAWN else status).value
        if status is ItemStatus.WITHDRAWN:
            moderation.withdraw_item(session, item.id, actor=mod, reason="ผู้ปกครองขอให้ลบ", now=now)
        session.flush()
        return item


def _set_delivery(delivery: Delivery, state: DeliveryState, now: datetime) -> None:
    delivery.state = state.value
    if state is DeliveryState.SENT:
        delivery.external_ids = [f"post-{delivery.id}"]
        delivery.sent_at = now
        delivery.attempts = 1


@pytest.fixture
def newsroom(hub: Hub, tmp_path: Path) -> Newsroom:
    """Seeded people, a sandbox outlet on tambon 520101 and a Telegram outlet on province 52."""
    with hub.transaction() as session:
        people = seed_network(session, hub.clock.now())
        add_outlet(session, hub.clock.now(), "520101")
        add_outlet(session, hub.clock.now(), "52", platform="telegram")
    return Newsroom(hub=hub, people=people, media_dir=tmp_path / "media")
