"""An in-memory publisher with the real interface, for deterministic engine tests.

It records every post per outlet address and can be told to fail the next calls with a
classified error, so each row of the engine's state table can be driven without a network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import count

from publishers.base import CheckResult, ErrorClass, OutletTarget, Post, PublishError, PublishResult
from publishers.plan import PlannedCall, PostPlan


@dataclass
class MemoryPublisher:
    platform: str = "sandbox"
    posts: dict[str, list[tuple[str, Post]]] = field(default_factory=dict)
    edits: list[tuple[list[str], str]] = field(default_factory=list)
    deletes: list[list[str]] = field(default_factory=list)
    failures: list[PublishError] = field(default_factory=list)
    post_then_fail: list[PublishError] = field(default_factory=list)  # the post exists, the answer is lost
    # Plan call index → the error its next execution raises (once): a refusal midway through a post.
    fail_calls: dict[int, PublishError] = field(default_factory=dict)
    # Every message that reached the "platform", per address: (message id, receipt, plan call index).
    messages: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)  # start_at of every publish call
    _ids: count = field(default_factory=lambda: count(1))

    def fail_next(self, *errors: PublishError) -> None:
        self.failures.extend(errors)

    def all_posts(self) -> list[tuple[str, Post]]:
        return [p for posts in self.posts.values() for p in posts]

    def plan(self, post: Post, target: OutletTarget) -> PostPlan:
        """One text call per paragraph of the body (a long Thai text of N parts); photos first, as
        one album call costing a message each (pure: no network, no state)."""
        calls: list[PlannedCall] = []
        if post.photos:
            calls.append(PlannedCall(0, "sendMediaGroup", len(post.photos), post.title,
                                     tuple(range(len(post.photos)))))
        for part in [p for p in post.body.split("\n\n") if p.strip()] or [post.body]:
            calls.append(PlannedCall(len(calls), "sendMessage", 1, part))
        return PostPlan(self.platform, tuple(calls))

    async def publish(self, post: Post, target: OutletTarget, *, start_at: int = 0,
                      prior_external_ids: tuple[str, ...] = ()) -> PublishResult:
        self.starts.append(start_at)
        if self.failures:
            raise self.failures.pop(0)
        plan = self.plan(post, target)
        posted: list[str] = []
        for call in plan.calls[start_at:]:
            if call.index in self.fail_calls:
                error = self.fail_calls.pop(call.index)
                error.completed_calls = call.index
                error.partial_external_ids = list(posted)
                raise error
            for _ in range(call.messages):
                message_id = f"{target.address}_{next(self._ids)}"
                self.messages.setdefault(target.address, []).append((message_id, post.receipt_no, call.index))
                posted.append(message_id)
        ids = [*prior_external_ids, *posted]
        self.posts.setdefault(target.address, []).append((ids[0], post))
        if self.post_then_fail:
            raise self.post_then_fail.pop(0)
        return PublishResult(external_ids=ids, permalink=f"https://example.test/{ids[0]}")

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
