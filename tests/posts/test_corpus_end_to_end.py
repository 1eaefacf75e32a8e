"""The whole-text check end to end: the real publishers post every corpus post to the loopback
fakes, and what the fakes stored (Telegram's text after its own HTML entity parsing, the Page
post's message, the sandbox record) passes the same check and equals the plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeTelegram
from publishers.base import OutletTarget, PostPhoto
from publishers.facebook import FacebookPublisher
from publishers.render import visible_text
from publishers.sandbox import SandboxPublisher
from publishers.telegram import TelegramPublisher
from tests.posts.corpus import MODES, check_whole_text, corpus_post, load_corpus, visible_parts
from tests.publishers.conftest import CHANNEL, PAGE_ID

CORPUS = load_corpus()


def _post(index: int, photos: tuple[PostPhoto, ...]):  # type: ignore[no-untyped-def]
    record = CORPUS[index]
    # Every title case in turn (derived, the page's headline typed, the first line typed, a prefix).
    return corpus_post(record, MODES[index % len(MODES)], photos=photos) or corpus_post(record, photos=photos)


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[p.id for p in CORPUS])
async def test_corpus_through_the_real_publishers(
        index: int, tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget, fb: FakeFacebook,
        fb_pub: FacebookPublisher, fb_target: OutletTarget, tmp_path: Path,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    record = CORPUS[index]
    post = _post(index, photo_files(record.photos))

    plan = tg_pub.plan(post, tg_target)
    result = await tg_pub.publish(post, tg_target)
    messages = tg.posts(CHANNEL)
    assert result.external_ids == [str(m.message_id) for m in messages]
    assert len(messages) == plan.messages  # the plan's cost is what the channel received
    shown = [m.text if m.text is not None else m.caption for m in messages]
    shown = [s for s in shown if s]
    assert shown == visible_parts(plan)  # Telegram's own parsing of the HTML shows the planned text
    check_whole_text(post, shown, "telegram")

    fb_plan = fb_pub.plan(post, fb_target)
    await fb_pub.publish(post, fb_target)
    [page_post] = fb.posts(PAGE_ID)
    assert len(page_post.media_fbids) == record.photos
    assert [page_post.message] == visible_parts(fb_plan)
    check_whole_text(post, [page_post.message], "facebook")

    sandbox = SandboxPublisher(tmp_path / "sandbox")
    target = OutletTarget(outlet_id=3, platform="sandbox", address="practice")
    await sandbox.publish(post, target)
    [saved] = sandbox.list_posts("practice")
    check_whole_text(post, [saved["text"]], "sandbox")
    check_whole_text(post, [visible_text(t) for t in saved["telegram_html"]], "telegram")
