"""Which publisher serves which platform, and an outlet's target with its credentials.

``Publishers(settings)`` creates one publisher per platform lazily and closes them all with
``aclose()``. ``target_for(outlet)`` reads a Facebook Page token from the outlet's environment
variable or file at each use, so a renewed token needs no restart; tokens never touch the
database.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from config.settings import Settings
from publishers.base import ErrorClass, OutletTarget, Publisher, PublishError
from publishers.facebook import FacebookPublisher
from publishers.line import LinePublisher
from publishers.sandbox import SandboxPublisher
from publishers.telegram import TelegramPublisher

PLATFORMS = ("telegram", "facebook", "sandbox", "line")


def make_publisher(platform: str, settings: Settings) -> Publisher:
    if platform == "telegram":
        return TelegramPublisher(settings)
    if platform == "facebook":
        return FacebookPublisher(settings)
    if platform == "sandbox":
        return SandboxPublisher(settings.sandbox_dir)
    if platform == "line":
        return LinePublisher(settings)
    raise ValueError(f"unknown platform {platform!r} (expected one of {', '.join(PLATFORMS)})")


class Publishers:
    """One publisher per platform, made on first use."""

    def __init__(self, settings: Settings, factory: Callable[[str, Settings], Publisher] = make_publisher) -> None:
        self.settings = settings
        self._factory = factory
        self._made: dict[str, Publisher] = {}

    def get(self, platform: str) -> Publisher:
        if platform not in self._made:
            self._made[platform] = self._factory(platform, self.settings)
        return self._made[platform]

    def put(self, platform: str, publisher: Publisher) -> None:
        """Use a given publisher for a platform (tests, benchmarks)."""
        self._made[platform] = publisher

    async def aclose(self) -> None:
        made, self._made = self._made, {}
        for publisher in made.values():
            await publisher.aclose()


class OutletLike(Protocol):
    id: int
    platform: str
    address: str
    name: str
    token_env: str | None
    token_file: str | None
    thai_digits: bool


class TokenMissing(PublishError):
    """The outlet names a token variable or file that is empty or absent (NEEDS_HUMAN)."""


def read_token(outlet: OutletLike | Any) -> str | None:
    """The outlet's credential, read now from its variable or file; None when it names neither."""
    if outlet.token_env:
        value = os.environ.get(outlet.token_env, "").strip()
        if not value:
            raise TokenMissing(
                ErrorClass.NEEDS_HUMAN,
                f"outlet {outlet.id}: environment variable {outlet.token_env} is not set or empty; "
                "put the Page token there (docs/OUTLETS.md)",
                code="token_missing",
            )
        return value
    if outlet.token_file:
        path = Path(outlet.token_file).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise TokenMissing(
                ErrorClass.NEEDS_HUMAN,
                f"outlet {outlet.id}: cannot read token file {path}: {exc.strerror}",
                code="token_missing",
            ) from None
        if not value:
            raise TokenMissing(
                ErrorClass.NEEDS_HUMAN, f"outlet {outlet.id}: token file {path} is empty", code="token_missing"
            )
        return value
    return None


def target_for(outlet: OutletLike | Any) -> OutletTarget:
    """The outlet's address and credentials for a publisher call (raises TokenMissing)."""
    token = read_token(outlet)
    if outlet.platform == "facebook" and token is None:
        raise TokenMissing(
            ErrorClass.NEEDS_HUMAN,
            f"outlet {outlet.id}: a Facebook outlet needs --token-env or --token-file",
            code="token_missing",
        )
    return OutletTarget(
        outlet_id=outlet.id,
        platform=outlet.platform,
        address=outlet.address,
        name=outlet.name or "",
        token=token,
        thai_digits=bool(outlet.thai_digits),
    )
