"""The post plan per platform and resuming a post midway (the contract ENGINE builds on)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeTelegram
from publishers.base import ErrorClass, OutletTarget, PostPhoto, PublishError
from publishers.facebook import FacebookPublisher
from publishers.render import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, plan_sandbox, visible_text
from publishers.telegram import TelegramPublisher
from tests.publishers.conftest import CHANNEL, PAGE_ID, make_post

SENTENCE = "ชาวบ้านร่วมกันปลูกป่าชุมชนเพื่อรักษาแหล่งน้ำและสร้างรายได้จากผลผลิตในท้องถิ่น "
LONG = SENTENCE * 120  # about 9,500 UTF-16 units: three text parts


def test_telegram_plan_costs_every_message(tg_pub: TelegramPublisher, tg_target: OutletTarget,
                                           photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    short = tg_pub.plan(make_post(), tg_target)
    assert [(c.method, c.messages) for c in short.calls] == [("sendMessage", 1)]
    long = tg_pub.plan(make_post(LONG), tg_target)
    assert [c.method for c in long.calls] == ["sendMessage"] * 3 and long.messages == 3
    assert all(len(visible_text(c.text).encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_LIMIT for c in long.calls)
    one = tg_pub.plan(make_post(photos=photo_files(1)), tg_target)
    assert [(c.method, c.messages, c.photo_indexes) for c in one.calls] == [("sendPhoto", 1, (0,))]
    album = tg_pub.plan(make_post(LONG, photos=photo_files(4)), tg_target)
    assert [(c.method, c.messages) for c in album.calls] == [("sendMediaGroup", 4)] + [("sendMessage", 1)] * 3
    assert album.messages == 7 and album.messages_from(2) == 2
    assert len(visible_text(album.calls[0].text).encode("utf-16-le")) // 2 <= TELEGRAM_CAPTION_LIMIT
    assert [c.index for c in album.calls] == list(range(4))


def test_facebook_and_sandbox_plans(fb_pub: FacebookPublisher, fb_target: OutletTarget,
                                    photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    plan = fb_pub.plan(make_post(LONG, photos=photo_files(3)), fb_target)
    assert [(c.method, c.messages, c.photo_indexes) for c in plan.calls] == [
        ("photo_upload", 1, (0,)), ("photo_upload", 1, (1,)), ("photo_upload", 1, (2,)), ("feed", 1, (0, 1, 2))]
    assert SENTENCE.strip() in plan.calls[-1].text
    assert [c.method for c in plan_sandbox(make_post()).calls] == ["sandbox"]


@pytest.mark.parametrize("refused_part", [1, 2, 3])
async def test_a_429_at_any_part_resumes_to_one_whole_post(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                           tg_target: OutletTarget, refused_part: int) -> None:
    post = make_post(LONG)
    plan = tg_pub.plan(post, tg_target)
    await tg_pub.check(tg_target)
    original = tg.handlers["sendmessage"]
    seen = 0

    # The fake's fault queue answers the *next* call: arm it right after the part before.
    async def arming(params: dict, files: dict) -> object:  # type: ignore[type-arg]
        nonlocal seen
        seen += 1
        result = await original(params, files)
        if seen == refused_part - 1:
            tg.handlers["sendmessage"] = original
            tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 5",
                         retry_after=5)
        return result

    if refused_part == 1:
        tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 5", retry_after=5)
    else:
        tg.handlers["sendmessage"] = arming
    with pytest.raises(PublishError) as caught:
        await tg_pub.publish(post, tg_target)
    error = caught.value
    assert error.error_class is ErrorClass.RATE_LIMITED and error.retry_after == 5  # not AMBIGUOUS
    assert error.completed_calls == refused_part - 1
    assert error.partial_external_ids == [str(m.message_id) for m in tg.posts(CHANNEL)]
    assert len(error.partial_external_ids) == refused_part - 1

    result = await tg_pub.publish(post, tg_target, start_at=error.completed_calls,
                                  prior_external_ids=error.partial_external_ids)
    posts = tg.posts(CHANNEL)
    assert result.external_ids == [str(m.message_id) for m in posts] and len(posts) == 3
    assert [m.html for m in posts] == list(plan.texts)  # one whole post, each part once, in order
    first = posts[0].message_id
    assert [m.reply_to_message_id for m in posts[1:]] == [first, first]  # resumed parts still reply


async def test_a_read_timeout_on_a_later_part_is_ambiguous_with_the_parts_done(
        tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget) -> None:
    await tg_pub.check(tg_target)
    original = tg.handlers["sendmessage"]

    async def then_drop(params: dict, files: dict) -> object:  # type: ignore[type-arg]
        tg.handlers["sendmessage"] = original
        result = await original(params, files)
        tg.drop_next("sendMessage", commit=True)
        return result

    tg.handlers["sendmessage"] = then_drop
    with pytest.raises(PublishError) as caught:
        await tg_pub.publish(make_post(LONG), tg_target)
    assert caught.value.error_class is ErrorClass.AMBIGUOUS
    assert caught.value.completed_calls == 1 and len(caught.value.partial_external_ids) == 1


async def test_album_then_replies_resume_after_the_album(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                         tg_target: OutletTarget,
                                                         photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    post = make_post(LONG, photos=photo_files(3))
    await tg_pub.check(tg_target)
    tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 2", retry_after=2)
    with pytest.raises(PublishError) as caught:
        await tg_pub.publish(post, tg_target)
    assert caught.value.error_class is ErrorClass.RATE_LIMITED
    assert caught.value.completed_calls == 1 and len(caught.value.partial_external_ids) == 3
    result = await tg_pub.publish(post, tg_target, start_at=1, prior_external_ids=caught.value.partial_external_ids)
    posts = tg.posts(CHANNEL)
    assert len(result.external_ids) == 6 == len(posts)
    assert all(m.reply_to_message_id == posts[0].message_id for m in posts[3:])


async def test_publish_past_the_end_sends_nothing(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                  tg_target: OutletTarget) -> None:
    result = await tg_pub.publish(make_post(), tg_target, start_at=1, prior_external_ids=["41"])
    assert result.external_ids == ["41"] and tg.count(CHANNEL) == 0


async def test_facebook_refusal_resumes_from_the_start(fb: FakeFacebook, fb_pub: FacebookPublisher,
                                                       fb_target: OutletTarget,
                                                       photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    post = make_post(LONG, photos=photo_files(2))
    fb.fail_next("feed", code=32, message="Page request limit reached")
    with pytest.raises(PublishError) as caught:
        await fb_pub.publish(post, fb_target)
    assert caught.value.error_class is ErrorClass.RATE_LIMITED
    # The two photo uploads were made (unpublished: nothing a resident sees), then the feed post was
    # refused: the calls done are counted for the windows, no post id exists.
    assert caught.value.completed_calls == 2 and caught.value.partial_external_ids == []
    result = await fb_pub.publish(post, fb_target, start_at=caught.value.completed_calls)
    [posted] = fb.posts(PAGE_ID)
    assert result.external_ids == [posted.id] and posted.message == fb_pub.plan(post, fb_target).calls[-1].text


async def test_a_connect_error_on_a_later_part_stays_retryable(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                               tg_target: OutletTarget,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The request for part 2 never left (connect refused): RETRYABLE, not AMBIGUOUS, resumable."""
    import httpx
    from telegram import Bot
    from telegram.error import NetworkError

    await tg_pub.check(tg_target)
    real_send = Bot.send_message
    calls = 0

    async def send(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            error = NetworkError("httpx.ConnectError: All connection attempts failed")
            error.__cause__ = httpx.ConnectError("All connection attempts failed")
            raise error
        return await real_send(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Bot, "send_message", send)
    post = make_post(LONG)
    with pytest.raises(PublishError) as caught:
        await tg_pub.publish(post, tg_target)
    assert caught.value.error_class is ErrorClass.RETRYABLE
    assert caught.value.completed_calls == 1 and len(caught.value.partial_external_ids) == 1
    await tg_pub.publish(post, tg_target, start_at=1, prior_external_ids=caught.value.partial_external_ids)
    assert [m.html for m in tg.posts(CHANNEL)] == list(tg_pub.plan(post, tg_target).texts)
