"""Fixtures for the LINE tests: the loopback fake, a publisher driven by the real SDK, posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.settings import Settings
from network_hub.clock import FrozenClock
from platform_fakes.line import Channel, FakeLine
from publishers.base import OutletTarget, Post, PostPhoto
from publishers.line import LinePublisher

ATTRIBUTION = {"village": "หมู่ที่ 3 บ้านปงยางคก", "tambon": "ปงยางคก", "district": "ห้างฉัตร", "province": "ลำปาง"}
PUBLISHED_AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PUBLIC_BASE = "https://hub.example.test"


def make_post(body: str = "ชาวบ้านร่วมกันทอผ้าฝ้ายลายโบราณเพื่อจำหน่ายในงานประจำปี", *, photos: int = 0,
              receipt: str = "N-2569-000123") -> Post:
    shots = tuple(PostPhoto(sha256=f"{i:02d}" + "ab" * 31) for i in range(photos))
    return Post(receipt_no=receipt, category="local_product", title="ผ้าทอมือบ้านปงยางคก", body=body,
                attribution=ATTRIBUTION, published_at=PUBLISHED_AT, photos=shots)


def line_settings(fake: FakeLine, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"line_api_base_url": fake.api_base_url, "line_data_api_base_url": fake.data_base_url,
                                 "public_base_url": PUBLIC_BASE, "http_timeout_s": 3.0, "data_dir": tmp_path}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def group_target(channel: Channel, group_id: str, **extra: object) -> OutletTarget:
    return OutletTarget(outlet_id=1, platform="line", address=group_id, token=channel.token, **extra)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 3, 3, 0, tzinfo=UTC))


@pytest.fixture
async def fake(clock: FrozenClock) -> AsyncIterator[FakeLine]:
    async with FakeLine(clock=clock.now) as server:
        yield server


@pytest.fixture
async def publisher(fake: FakeLine, tmp_path: Path, clock: FrozenClock) -> AsyncIterator[LinePublisher]:
    pub = LinePublisher(line_settings(fake, tmp_path), clock=clock)
    yield pub
    await pub.aclose()
