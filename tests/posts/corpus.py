"""The corpus of real Thai government PR posts (corpus/thai_pr_posts/) and the whole-text check.

The check, used for every platform and feed: take what residents see (the visible text of every
part, markup stripped, parts joined by a line break), remove the frame the hub adds (date line,
attribution, receipt marker, link, hashtags) — each must be there exactly once — and what is
left, split into sentences on spaces and line breaks (Thai separates sentences and phrases
with a space), must be exactly the sentences of the printed title (if any) and the body, in
order: none lost at a split, none doubled, none changed (emoji, Thai digits, URLs, hashtags).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from network_hub.newsroom.text import comparable, default_title, is_preamble_line, normalize_line, normalize_text
from network_hub.thai import be_date
from publishers.base import Post, PostPhoto
from publishers.plan import PostPlan
from publishers.render import (
    FACEBOOK_TAGS,
    HUB_TAG_FACEBOOK,
    HUB_TAG_TELEGRAM,
    TELEGRAM_TAGS,
    attribution_line,
    marker,
    printed_title,
    visible_text,
)

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus" / "thai_pr_posts"
ATTRIBUTION = {"village": "หมู่ที่ 3 บ้านปงยางคก", "tambon": "ปงยางคก", "district": "ห้างฉัตร", "province": "ลำปาง"}
PUBLISHED_AT = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
MODES = ("derived", "typed_headline", "typed_first_line", "typed_prefix")


@dataclass(frozen=True)
class CorpusPost:
    id: str
    url: str
    title: str
    text: str
    photos: int
    features: str


def load_corpus() -> list[CorpusPost]:
    posts = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        posts.append(CorpusPost(record["id"], record["url"], record.get("title") or "", record["text"],
                                int(record.get("photos", 0)), record.get("features", "")))
    return posts


def first_content_line(body: str) -> str:
    for line in body.split("\n"):
        if line.strip() and not is_preamble_line(line):
            return " ".join(line.split())
    return ""


def title_for(mode: str, record: CorpusPost, body: str) -> str | None:
    """The title a person would have typed in each case; None when the case does not apply."""
    if mode == "derived":
        return default_title(body)
    if mode == "typed_headline":
        title = normalize_line(record.title)
        return title if 0 < len(title) <= 200 else None
    first = first_content_line(body)
    if mode == "typed_first_line":
        return first if 0 < len(first) <= 200 else None
    if mode == "typed_prefix":
        words = first.split()
        return " ".join(words[:3])[:120] if len(words) > 3 else None
    raise ValueError(mode)


def corpus_post(record: CorpusPost, mode: str = "derived", *, photos: Iterable[PostPhoto] | None = None,
                receipt: str | None = None) -> Post | None:
    body = normalize_text(record.text)  # what submission stores
    title = title_for(mode, record, body)
    if title is None:
        return None
    if photos is None:
        photos = tuple(PostPhoto(sha256=f"{record.id}{i:02d}".ljust(64, "0")) for i in range(record.photos))
    return Post(receipt_no=receipt or f"NH-2569-{int(record.id):06d}", category="announcement", title=title,
                body=body, attribution=ATTRIBUTION, published_at=PUBLISHED_AT, photos=tuple(photos))


def frame(post: Post, platform: str) -> list[str]:
    """The strings the hub adds around the text, each expected exactly once."""
    tags = (f"{TELEGRAM_TAGS[post.category]} {HUB_TAG_TELEGRAM}" if platform == "telegram"
            else f"{FACEBOOK_TAGS[post.category]} {HUB_TAG_FACEBOOK}")
    parts = [f"🗓 {be_date(post.published_at)}", f"📍 {attribution_line(post.attribution)}",
             marker(post.receipt_no), tags]
    if post.link:
        parts.append(post.link)
    return parts


def visible_parts(plan: PostPlan) -> list[str]:
    """What a resident reads of each call: Telegram's HTML made visible, plain text as is."""
    return [visible_text(c.text) if plan.platform == "telegram" else c.text for c in plan.calls if c.text]


def expected_sentences(post: Post) -> list[str]:
    title = printed_title(post)
    return ((title + "\n") if title else "").split() + post.body.split()


def leftover_sentences(parts: list[str], frame_parts: list[str]) -> list[str]:
    """The sentences left once the frame is removed; each frame string must be there exactly once."""
    text = "\n".join(parts)
    for piece in frame_parts:
        count = text.count(piece)
        assert count == 1, f"{piece!r} appears {count} times"
        text = text.replace(piece, "\n", 1)
    return text.split()


def doubled_opening(post: Post, parts: list[str]) -> bool:
    """Whether the body's opening (its first 40 letters) shows more often than the author wrote it."""
    opening = comparable(first_content_line(post.body))[:40]
    if not opening:
        return False
    written = comparable(((printed_title(post) + "\n") if printed_title(post) else "") + post.body).count(opening)
    shown = comparable("\n".join(parts)).count(opening)
    return shown != written


def check_whole_text(post: Post, parts: list[str], platform: str) -> None:
    """The whole-text check (module docstring); raises AssertionError with the first difference."""
    got = leftover_sentences(parts, frame(post, platform))
    want = expected_sentences(post)
    if got != want:
        for index, (a, b) in enumerate(zip(got, want, strict=False)):
            if a != b:
                raise AssertionError(f"sentence {index}: shown {a!r}, written {b!r}")
        raise AssertionError(f"{len(got)} sentences shown, {len(want)} written")
    assert not doubled_opening(post, parts), "the opening is printed twice"
