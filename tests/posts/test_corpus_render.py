"""Golden check over the corpus: every platform's plan shows every sentence exactly once."""

from __future__ import annotations

import pytest

from network_hub.thai import utf16_len
from publishers.render import (
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    plan_facebook,
    plan_sandbox,
    plan_telegram,
    visible_text,
)
from tests.posts.corpus import MODES, check_whole_text, corpus_post, load_corpus, visible_parts

CORPUS = load_corpus()
PLANNERS = {"telegram": plan_telegram, "facebook": plan_facebook, "sandbox": plan_sandbox}


def test_the_corpus_covers_the_cases_the_issue_names() -> None:
    assert len(CORPUS) >= 40
    lengths = [utf16_len(p.text) for p in CORPUS]
    assert sum(n > 4096 for n in lengths) >= 5 and sum(n > 8000 for n in lengths) >= 5
    assert all(p.url.startswith("https://www.thaigov.go.th/") for p in CORPUS)
    assert any("\n" not in p.text.strip() for p in CORPUS)  # one-paragraph posts
    assert sum(len(p.text.split("\n")[0]) > 200 for p in CORPUS) >= 10
    assert any("#" in p.text for p in CORPUS) and any("https://" in p.text for p in CORPUS)
    assert {p.photos for p in CORPUS} == set(range(11))


@pytest.mark.parametrize("platform", sorted(PLANNERS))
@pytest.mark.parametrize("record", CORPUS, ids=[p.id for p in CORPUS])
def test_every_sentence_exactly_once(record, platform: str) -> None:  # type: ignore[no-untyped-def]
    for mode in MODES:
        post = corpus_post(record, mode)
        if post is None:
            continue
        plan = PLANNERS[platform](post)
        try:
            check_whole_text(post, visible_parts(plan), platform)
        except AssertionError as error:
            raise AssertionError(f"post {record.id} ({record.url}), title {mode}: {error}") from None


@pytest.mark.parametrize("record", CORPUS, ids=[p.id for p in CORPUS])
def test_telegram_parts_respect_the_limits_and_costs(record) -> None:  # type: ignore[no-untyped-def]
    post = corpus_post(record)
    assert post is not None
    plan = plan_telegram(post)
    for call in plan.calls:
        limit = TELEGRAM_TEXT_LIMIT if call.method == "sendMessage" else TELEGRAM_CAPTION_LIMIT
        assert utf16_len(visible_text(call.text)) <= limit
    photo_calls = [c for c in plan.calls if c.photo_indexes]
    assert sum(c.messages for c in photo_calls) == record.photos
    assert plan.messages == record.photos + sum(c.method == "sendMessage" for c in plan.calls)


def test_the_check_catches_what_residents_saw_before() -> None:
    """The check is not vacuous: the old layout (derived title printed above the body), a lost
    part, a doubled part and a split inside a sentence each fail it."""
    record = next(p for p in CORPUS if len(p.text.split("\n")[0]) > 200)
    post = corpus_post(record)
    assert post is not None
    parts = visible_parts(plan_telegram(post))
    check_whole_text(post, parts, "telegram")
    with pytest.raises(AssertionError):  # the 49-of-62 bug: a truncated copy of the opening above it
        check_whole_text(post, [post.title + "\n" + parts[0], *parts[1:]], "telegram")
    long_post = corpus_post(next(p for p in CORPUS if utf16_len(p.text) > 8000))
    assert long_post is not None
    long_parts = visible_parts(plan_telegram(long_post))
    assert len(long_parts) >= 3
    with pytest.raises(AssertionError):
        check_whole_text(long_post, [long_parts[0], long_parts[2]], "telegram")
    with pytest.raises(AssertionError):
        check_whole_text(long_post, [long_parts[0], long_parts[1], long_parts[1], long_parts[2]], "telegram")
    middle = len(long_parts[1]) // 2
    while long_parts[1][middle].isspace() or long_parts[1][middle - 1].isspace():
        middle += 1
    with pytest.raises(AssertionError):  # a cut inside a sentence shows up as two broken sentences
        check_whole_text(long_post, [long_parts[0], long_parts[1][:middle], long_parts[1][middle:],
                                     *long_parts[2:]], "telegram")


@pytest.mark.parametrize("record", [p for p in CORPUS if "://" in p.text or "#" in p.text],
                         ids=lambda p: p.id)
def test_thai_digits_leave_urls_hashtags_and_the_marker_working(record) -> None:  # type: ignore[no-untyped-def]
    import re

    post = corpus_post(record)
    assert post is not None
    for plan in (plan_telegram(post, thai_digits=True), plan_facebook(post, thai_digits=True)):
        shown = "\n".join(visible_parts(plan))
        for spared in re.findall(r"https?://\S+|#\S+", post.body):
            assert spared in shown, spared
        assert f"รหัสข่าว {post.receipt_no}" in shown
        assert not re.search(r"[0-9]", re.sub(r"https?://\S+|www\.\S+|#\S+|รหัสข่าว \S+", "", shown))
