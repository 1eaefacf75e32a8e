"""The post plan: the exact platform calls a post becomes, decided before anything is sent.

A publisher turns a ``Post`` into a ``PostPlan`` without touching the network
(``Publisher.plan(post, target)``). The same plan is used three ways, so they can never disagree:

- **pacing**: the claim charges ``plan.messages`` against the chat's sliding window (a long Thai
  text of three parts costs three, an album of N photos costs N, a caption overflow reply one more);
- **preview**: the bot and the dashboard show ``call.text`` of each call, exactly as it will be sent;
- **sending**: ``Publisher.publish(post, target, start_at=k)`` executes ``plan.calls[k:]`` in order,
  so a post refused midway (a 429, a connect error before the request left) resumes from the part
  that was refused instead of being posted twice or left half-posted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedCall:
    """One platform request of a post, in the order it is made."""

    index: int  # position in the plan, 0-based
    method: str  # the platform call: "sendMessage", "sendMediaGroup", "sendPhoto", "feed", "push", "sandbox", ...
    messages: int  # messages it costs against the chat's rate limit (an album of N counts N)
    text: str = ""  # the rendered text or caption this call carries, markup included
    photo_indexes: tuple[int, ...] = ()  # indexes into ``Post.photos`` this call sends


@dataclass(frozen=True)
class PostPlan:
    platform: str
    calls: tuple[PlannedCall, ...]

    @property
    def messages(self) -> int:
        """What the whole post costs against the chat's rate limit."""
        return sum(call.messages for call in self.calls)

    def messages_from(self, start_at: int) -> int:
        """What the rest of a post costs when it resumes at call ``start_at``."""
        return sum(call.messages for call in self.calls[start_at:])

    @property
    def texts(self) -> list[str]:
        """Every rendered text in order (what a resident reads, part by part)."""
        return [call.text for call in self.calls if call.text]
