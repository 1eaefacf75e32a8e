"""Figures for docs/POSTS.md: the corpus through the renderer before this change and now.

Run: ``.venv/bin/python -m tests.posts.figures`` (needs git: the old renderer is read from
commit 5f43901, the last one before issue 12). Every corpus post is submitted the way volunteers
write (no separate title: the title is derived) and, as a second case, with the page's headline
typed as the title; for each platform the whole-text check of tests/posts/corpus.py is applied.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import ModuleType

from network_hub.newsroom.text import legacy_default_title, normalize_line, normalize_text
from publishers.base import Post
from publishers.render import plan_facebook, plan_sandbox, plan_telegram
from tests.posts.corpus import check_whole_text, corpus_post, doubled_opening, load_corpus, visible_parts

BEFORE = "5f43901"


def old_renderer() -> ModuleType:
    source = subprocess.run(["git", "show", f"{BEFORE}:publishers/render.py"], capture_output=True, text=True,
                            check=True).stdout
    path = Path(tempfile.mkdtemp()) / "render_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("render_before", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def old_parts(old: ModuleType, post: Post, platform: str) -> list[str]:
    if platform == "telegram":
        rendered = old.render_telegram(post)
        if post.photos:
            caption, replies = rendered.caption_and_replies()
            texts = [caption, *replies]
        else:
            texts = rendered.messages()
        from publishers.render import visible_text
        return [visible_text(t) for t in texts]
    return [old.render_plain(post, facebook_link_in_text=bool(post.photos))]


def main() -> None:
    old = old_renderer()
    corpus = load_corpus()
    planners = {"telegram": plan_telegram, "facebook": plan_facebook, "sandbox": plan_sandbox}
    rows: Counter[str] = Counter()
    for record in corpus:
        for case in ("derived", "typed_headline"):
            post = corpus_post(record, case)
            if post is None:
                continue
            if case == "derived":  # what earlier versions stored as the title
                post = Post(**{**post.__dict__, "title": legacy_default_title(post.body)})
            for platform in ("telegram", "facebook"):
                before = old_parts(old, post, platform)
                rows[f"{case} {platform} before doubled"] += doubled_opening(post, before)
                rows[f"{case} {platform} before failing"] += not _passes(post, before, platform)
            for platform, plan in planners.items():
                now = visible_parts(plan(post))
                rows[f"{case} {platform} now doubled"] += doubled_opening(post, now)
                rows[f"{case} {platform} now failing"] += not _passes(post, now, "telegram" if platform == "telegram"
                                                                     else "facebook")
                rows[f"{case} {platform} posts"] += 1
    typed = sum(1 for r in corpus if 0 < len(normalize_line(r.title)) <= 200)
    print(f"corpus: {len(corpus)} posts; typed-headline case applies to {typed} (headline ≤ 200 characters)")
    for key in sorted(rows):
        print(f"{key}: {rows[key]}")
    plans = [plan_telegram(p) for p in (corpus_post(r) for r in corpus) if p is not None]
    texts = [sum(c.method == "sendMessage" for c in plan.calls) for plan in plans]
    print(f"telegram: {sum(p.messages for p in plans)} messages for {len(plans)} posts; text parts per post "
          f"{dict(sorted(Counter(texts).items()))}; caption-overflow posts "
          f"{sum(1 for p in plans if p.calls[0].photo_indexes and len(p.calls) > 1)}")
    longest = max(len(normalize_text(r.text).encode('utf-16-le')) // 2 for r in corpus)
    print(f"longest body: {longest} UTF-16 units")


def _passes(post: Post, parts: list[str], platform: str) -> bool:
    try:
        check_whole_text(post, parts, platform)
    except AssertionError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
