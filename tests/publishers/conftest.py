"""Fixtures for the publisher contract tests: the loopback fakes, real clients, sample posts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from config.settings import Settings
from platform_fakes.facebook import FakeFacebook, FakePage
from platform_fakes.telegram import FakeTelegram
from publishers.base import OutletTarget, Post, PostPhoto
from publishers.facebook import FacebookPublisher
from publishers.telegram import TelegramPublisher

CHANNEL = -1001234567890
PAGE_ID = "1000001"
ATTRIBUTION = {"village": "หมู่ที่ 3 บ้านปงยางคก", "tambon": "ปงยางคก", "district": "ห้างฉัตร", "province": "ลำปาง"}
PUBLISHED_AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok


def make_post(body: str = "ชาวบ้านร่วมกันทอผ้าฝ้ายลายโบราณเพื่อจำหน่ายในงานประจำปี", *, receipt: str = "N-2569-000123",
              title: str = "ผ้าทอมือบ้านปงยางคก", photos: tuple[PostPhoto, ...] = (), link: str | None = None,
              category: str = "local_product") -> Post:
    return Post(receipt_no=receipt, category=category, title=title, body=body, attribution=ATTRIBUTION,
                published_at=PUBLISHED_AT, photos=photos, link=link)


@pytest.fixture
def photo_files(tmp_path: Path) -> Callable[[int], tuple[PostPhoto, ...]]:
    def make(count: int) -> tuple[PostPhoto, ...]:
        photos = []
        for index in range(count):
            path = tmp_path / f"photo{index}.jpg"
            Image.new("RGB", (64 + index, 48), (index * 20 % 255, 120, 40)).save(path, "JPEG")
            photos.append(PostPhoto(sha256=f"{index:02d}" + "ab" * 31, path=path))
        return tuple(photos)

    return make


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_channel(CHANNEL, username="pongyangkok_news")
        yield fake


def telegram_settings(fake: FakeTelegram, **overrides: object) -> Settings:
    values: dict[str, object] = {"telegram_bot_token": fake.token, "telegram_api_base_url": fake.base_url,
                                 "telegram_file_base_url": fake.file_base_url, "http_timeout_s": 5.0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def tg_pub(tg: FakeTelegram) -> AsyncIterator[TelegramPublisher]:
    publisher = TelegramPublisher(telegram_settings(tg), read_timeout=0.5, connect_timeout=0.5)
    yield publisher
    await publisher.aclose()


@pytest.fixture
def tg_target() -> OutletTarget:
    return OutletTarget(outlet_id=1, platform="telegram", address=str(CHANNEL), name="ข่าวตำบล")


@pytest.fixture
async def fb() -> AsyncIterator[FakeFacebook]:
    async with FakeFacebook() as fake:
        yield fake


@pytest.fixture
def page(fb: FakeFacebook) -> FakePage:
    return fb.add_page(PAGE_ID, name="ข่าวตำบลปงยางคก")


def facebook_settings(fake: FakeFacebook, *, with_app: bool = True, **overrides: object) -> Settings:
    values: dict[str, object] = {"facebook_graph_url": fake.graph_url, "facebook_graph_version": "v25.0"}
    if with_app:
        values.update(facebook_app_id=fake.app_id, facebook_app_secret=fake.app_secret)
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def fb_pub(fb: FakeFacebook) -> FacebookPublisher:
    return FacebookPublisher(facebook_settings(fb), read_timeout=0.5, connect_timeout=0.5)


@pytest.fixture
def fb_target(page: FakePage) -> OutletTarget:
    return OutletTarget(outlet_id=2, platform="facebook", address=PAGE_ID, name="เพจตำบล", token=page.token)
