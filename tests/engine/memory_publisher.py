"""An in-memory publisher with the real interface, for deterministic engine tests.

It records every post per outlet address and can be told to fail the next calls with a
classified error, so each row of the engine's state table can be driven without a network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import count

from publishers.base import CheckResult, ErrorClass, OutletTarget, Post, PublishError, PublishResult


@dataclass
class MemoryPublisher:
    platform: str = "sandbox"
    posts: dict[str, list[tuple[str, Post]]] = field(default_factory=dict)
    edits: list[tuple[list[str], str]] = field(default_factory=list)
    deletes: list[list[str]] = field(default_factory=list)
    failures: list[PublishError] = field(default_factory=list)
    post_then_fail: list[PublishError] = field(default_factory=list)  # the post exists, the answer is lost
    _ids: count = field(default_factory=lambda: count(1))

    def fail_next(self, *errors: PublishError) -> None:
        self.failures.extend(errors)

    def all_posts(self) -> list[tuple[str, Post]]:
        return [p for posts in self.posts.values() for p in posts]

    async def publish(self, post: Post, target: OutletTarget) -> PublishResult:
        if self.failures:
            raise self.failures.pop(0)
        post_id = f"{target.address}_{next(self._ids)}"
        self.posts.setdefault(target.address, []).append((post_id, post))
        if self.post_then_fail:
            raise self.post_then_fail.pop(0)
        return PublishResult(external_ids=[post_id], permalink=f"https://example.test/{post_id}")

    async def edit(self, external_ids: list[str], post: Post, target: OutletTarget) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.edits.append((external_ids, post.body))

    async def delete(self, external_ids: list[str], target: OutletTarget) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.deletes.append(external_ids)

    async def check(self, target: OutletTarget) -> CheckResult:
        return CheckResult(True, "ok", "memory publisher")

    async def find_post(self, target: OutletTarget, since: datetime, marker: str) -> PublishResult | None:
        if self.failures:
            raise self.failures.pop(0)
        for post_id, post in self.posts.get(target.address, []):
            if post.receipt_no == marker:
                return PublishResult(external_ids=[post_id])
        return None

    async def aclose(self) -> None:
        return None


class MemoryPublishers:
    """One MemoryPublisher per platform, with the ``get(platform)`` interface of the registry."""

    def __init__(self) -> None:
        self.by_platform: dict[str, MemoryPublisher] = {}

    def get(self, platform: str) -> MemoryPublisher:
        return self.by_platform.setdefault(platform, MemoryPublisher(platform=platform))


def err(cls: ErrorClass, msg: str = "test", **kw: object) -> PublishError:
    return PublishError(cls, msg, **kw)  # type: ignore[arg-type]
