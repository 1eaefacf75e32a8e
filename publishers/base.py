"""The publisher interface the delivery engine calls.

Every method is async. A platform failure is always a ``PublishError`` carrying an
``ErrorClass``; no library exception (telegram.error.*, GraphAPIError, requests/httpx errors,
KeyError, JSON errors) may escape a publisher.

The engine maps classes to delivery states:
- ``RETRYABLE``: the request surely did not take effect → back off with jitter, retry (an attempt).
- ``RATE_LIMITED``: the platform said wait ``retry_after`` seconds → block the outlet, not an attempt.
- ``AMBIGUOUS``: it may or may not have posted → ``unknown``, never retried blindly.
- ``NEEDS_HUMAN``: bad token, missing permission, bot not admin → pause the outlet, tell admins.
- ``PERMANENT``: this post can never go (e.g. rejected content) → ``failed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from publishers.plan import PostPlan

# The engine's own enum (network_hub/states.py), so the outbox needs nothing from publishers.
from network_hub.states import ErrorClass


class PublishError(Exception):
    def __init__(
        self,
        error_class: ErrorClass,
        message: str,
        *,
        code: str | int | None = None,
        retry_after: float | None = None,
        new_chat_id: int | None = None,
        partial_external_ids: list[str] | None = None,
        completed_calls: int = 0,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message  # English, actionable, never contains a token
        self.code = code  # the platform's own error code, when it gave one
        self.retry_after = retry_after  # seconds, for RATE_LIMITED
        self.new_chat_id = new_chat_id  # Telegram ChatMigrated: the outlet's new chat id
        # Parts already posted when a multi-message post failed midway (so nothing is posted twice).
        self.partial_external_ids = partial_external_ids or []
        # How many calls of the post plan (publishers/plan.py) were fully done, counted from the
        # start of the plan, when the post failed midway: a RATE_LIMITED or RETRYABLE refusal of
        # a later call resumes at this index (``publish(..., start_at=completed_calls)``).
        self.completed_calls = completed_calls

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code is not None else ""
        return f"{self.error_class.value}{code}: {self.message}"


@dataclass(frozen=True)
class PostPhoto:
    sha256: str
    path: Path | None = None  # a local file (re-encoded JPEG without EXIF)
    telegram_file_id: str | None = None  # re-sent by id when the bot already has it


@dataclass(frozen=True)
class Post:
    """A news item ready to render, platform-neutral."""

    receipt_no: str  # the stable marker every rendered post carries (reconciliation)
    category: str
    title: str
    body: str
    attribution: dict[str, str]  # village, tambon, district, province
    published_at: datetime  # shown as a Buddhist Era date, Asia/Bangkok
    photos: tuple[PostPhoto, ...] = ()
    link: str | None = None


@dataclass(frozen=True)
class OutletTarget:
    """Where to post: the outlet's address and resolved credentials (never logged)."""

    outlet_id: int
    platform: str
    address: str  # Telegram chat id or @username / Facebook page id / sandbox name
    name: str = ""
    token: str | None = None  # Facebook page token, read from the outlet's env var or file
    thai_digits: bool = False
    # LINE: the delivery's X-Line-Retry-Key (stored before the first attempt, reused on every
    # retry) and when it was made (LINE forgets a key after 24 h). None elsewhere.
    retry_key: str | None = None
    retry_key_created_at: datetime | None = None
    secret: str | None = None  # LINE: the OA's channel secret (webhook signatures), never logged
    budget_left: int | None = None  # LINE: messages the outlet's monthly budget still allows (None: no budget)


@dataclass
class PublishResult:
    external_ids: list[str]  # every message/post id created, in order
    permalink: str | None = None
    # sha256 → platform file id, so the engine can store them for re-use
    photo_file_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    verdict: str  # short machine word: ok, token_invalid, not_admin, chat_not_found, ...
    detail: str  # a sentence a person can act on


class Publisher(Protocol):
    platform: str

    def plan(self, post: Post, target: OutletTarget) -> PostPlan:
        """The exact calls ``publish`` makes for this post, in order, with what each costs against
        the chat's rate limit (publishers/plan.py). Pure: no network, never raises for content."""
        ...

    async def publish(
        self,
        post: Post,
        target: OutletTarget,
        *,
        start_at: int = 0,
        prior_external_ids: Sequence[str] = (),
    ) -> PublishResult:
        """Execute ``plan(post, target).calls[start_at:]`` in order.

        ``prior_external_ids``: ids posted by earlier invocations of this post (a resumed Telegram
        text part replies to the first). A failing call raises PublishError with its own class,
        ``completed_calls`` (plan calls fully done, counted from 0) and ``partial_external_ids``
        (ids posted by this invocation).
        """
        ...

    async def edit(self, external_ids: list[str], post: Post, target: OutletTarget) -> None: ...

    async def delete(self, external_ids: list[str], target: OutletTarget) -> None: ...

    async def check(self, target: OutletTarget) -> CheckResult: ...

    async def find_post(self, target: OutletTarget, since: datetime, marker: str) -> PublishResult | None:
        """Look up a post carrying ``marker`` created after ``since``; None when surely absent.

        Raises PublishError(AMBIGUOUS) when the platform cannot tell (Telegram: no history API).
        """
        ...

    async def aclose(self) -> None: ...
