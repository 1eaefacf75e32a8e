"""Which publisher serves which platform, and an outlet's target with its credentials.

``Publishers(settings)`` creates one publisher per platform lazily and closes them all with
``aclose()``. ``target_for(outlet)`` reads a Facebook Page token from the outlet's environment
variable or file at each use, so a renewed token needs no restart.

A Facebook Page connected by signing in with Facebook (issue 13) names neither: its long-lived
Page token is stored encrypted in the database (``network_hub/facebook_pages.py``). This package
does not import the hub, so the hub registers a *stored token source* factory here
(``set_stored_token_factory``); every ``Publishers`` makes one source for its settings and keeps
it active while it lives (weakly referenced, dropped by ``aclose()``), and ``target_for`` asks the
active source — or the ``tokens`` it is given — for outlets that name no variable or file. The
token is read at each use as well, so a reconnected Page needs no restart either.
"""

from __future__ import annotations

import os
import weakref
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


class StoredTokenSource(Protocol):
    """Where the tokens of outlets connected by signing in are kept (the hub's database)."""

    def page_token(self, outlet_id: int) -> str | None:
        """The outlet's decrypted Page token; None when it has none stored. Raises PublishError."""
        ...


_token_factory: Callable[[Settings], StoredTokenSource | None] | None = None
_active_sources: list[weakref.ref[Any]] = []


def set_stored_token_factory(factory: Callable[[Settings], StoredTokenSource | None] | None) -> None:
    """The hub's way to read stored Page tokens for a given configuration (set once, at import)."""
    global _token_factory
    _token_factory = factory


def _activate(source: StoredTokenSource) -> None:
    _active_sources[:] = [r for r in _active_sources if r() is not None]
    _active_sources.append(weakref.ref(source))


def _deactivate(source: StoredTokenSource | None) -> None:
    _active_sources[:] = [r for r in _active_sources if r() is not None and r() is not source]


def active_token_source() -> StoredTokenSource | None:
    """The stored token source of the newest live ``Publishers`` (None: nothing can be stored)."""
    for ref in reversed(_active_sources):
        source = ref()
        if source is not None:
            return source  # type: ignore[no-any-return]
    return None


class Publishers:
    """One publisher per platform, made on first use."""

    def __init__(self, settings: Settings, factory: Callable[[str, Settings], Publisher] = make_publisher, *,
                 stored_tokens: StoredTokenSource | None = None) -> None:
        self.settings = settings
        self._factory = factory
        self._made: dict[str, Publisher] = {}
        if stored_tokens is None and _token_factory is not None:
            stored_tokens = _token_factory(settings)
        self.stored_tokens = stored_tokens
        if stored_tokens is not None:
            _activate(stored_tokens)

    def get(self, platform: str) -> Publisher:
        if platform not in self._made:
            self._made[platform] = self._factory(platform, self.settings)
        return self._made[platform]

    def put(self, platform: str, publisher: Publisher) -> None:
        """Use a given publisher for a platform (tests, benchmarks)."""
        self._made[platform] = publisher

    async def aclose(self) -> None:
        made, self._made = self._made, {}
        _deactivate(self.stored_tokens)
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


def read_token(outlet: OutletLike | Any, tokens: StoredTokenSource | None = None) -> str | None:
    """The outlet's credential, read now from its variable or file, or (a Facebook Page connected by
    signing in) from the stored token source; None when there is none."""
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
    if outlet.platform == "facebook":
        source = tokens if tokens is not None else active_token_source()
        if source is not None:
            return source.page_token(outlet.id)
    return None


def target_for(outlet: OutletLike | Any, tokens: StoredTokenSource | None = None) -> OutletTarget:
    """The outlet's address and credentials for a publisher call (raises TokenMissing)."""
    token = read_token(outlet, tokens)
    if outlet.platform == "facebook" and token is None:
        raise TokenMissing(
            ErrorClass.NEEDS_HUMAN,
            f"outlet {outlet.id}: a Facebook outlet needs a Page connected by signing in with Facebook "
            "(web: /outlets/facebook), or --token-env / --token-file",
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
