"""Contract tests: the real python-telegram-bot client against the loopback Bot API fake."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable

import pytest

from network_hub.thai import utf16_len
from platform_fakes.telegram import FakeTelegram
from publishers.base import ErrorClass, OutletTarget, PostPhoto, PublishError
from publishers.render import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT
from publishers.telegram import TelegramPublisher
from tests.publishers.conftest import CHANNEL, make_post, telegram_settings

THAI_PARAGRAPH = (
    "วันนี้ชาวบ้านหมู่ที่สามร่วมกันจัดงานตลาดนัดชุมชนเพื่อจำหน่ายผลิตภัณฑ์ผ้าทอมือและอาหารพื้นเมือง "
    "โดยมีผู้ใหญ่บ้านเป็นประธานเปิดงานและเยาวชนร่วมแสดงฟ้อนเล็บอย่างสวยงาม\n"
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def test_short_post_is_one_html_message_with_footer(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                          tg_target: OutletTarget) -> None:
    result = await tg_pub.publish(make_post(link="https://example.org/a?b=1&c=2"), tg_target)
    [message] = tg.posts(CHANNEL)
    assert result.external_ids == [str(message.message_id)]
    assert result.permalink == f"https://t.me/c/1234567890/{message.message_id}"
    assert message.text is not None
    assert message.text.startswith("ผ้าทอมือบ้านปงยางคก\n🗓 24 พฤศจิกายน 2569")
    assert "รหัสข่าว N-2569-000123" in message.text
    assert "ต.ปงยางคก อ.ห้างฉัตร" in message.text
    assert "#LocalProduct" in message.text
    assert {"type": "bold", "offset": 0, "length": utf16_len("ผ้าทอมือบ้านปงยางคก")} in message.entities
    assert any(e["type"] == "text_link" and e["url"] == "https://example.org/a?b=1&c=2" for e in message.entities)


async def test_user_markup_is_shown_literally_never_parsed(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                           tg_target: OutletTarget) -> None:
    body = 'ราคา <b>50</b> บาท & ส่งฟรี <a href="http://evil">คลิก</a> &amp; 1 < 2'
    await tg_pub.publish(make_post(body, title="<i>หัวข้อ</i> & ข่าว"), tg_target)
    [message] = tg.posts(CHANNEL)
    assert body in (message.text or "")
    assert "<i>หัวข้อ</i> & ข่าว" in (message.text or "")
    assert not any(e["type"] in ("text_link", "italic") for e in message.entities)


async def test_thai_text_far_beyond_the_limit_splits_at_words_losing_nothing(
        tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget) -> None:
    body = THAI_PARAGRAPH * 120 + "ท้ายข่าว & <จบ> 😀" * 3  # ~20,000 units, markup characters and emoji
    assert utf16_len(body) > 4 * TELEGRAM_TEXT_LIMIT
    result = await tg_pub.publish(make_post(body), tg_target)
    posted = tg.posts(CHANNEL)
    assert [str(m.message_id) for m in posted] == result.external_ids
    assert len(posted) >= 5
    texts = [m.text or "" for m in posted]
    assert all(utf16_len(t) <= TELEGRAM_TEXT_LIMIT for t in texts)  # the fake also refuses longer ones
    joined = squash("".join(texts))
    assert squash(body) in joined  # nothing lost, nothing duplicated, in order
    assert joined.count(squash(THAI_PARAGRAPH)) == 120
    # every split falls between Thai words: each chunk ends with a whole word of the paragraph
    words = {"งดงาม", "สวยงาม", "อย่าง", "ประธาน", "พื้นเมือง"}
    for text in texts[:-1]:
        assert text.rstrip().endswith(tuple(words | {"😀"})) or text.endswith(("งาม", "\n")), text[-30:]
    assert all(m.reply_to_message_id == posted[0].message_id for m in posted[1:])
    assert "รหัสข่าว N-2569-000123" in texts[-1]


async def test_album_caption_on_first_item_and_file_ids_reused(
        tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    photos = photo_files(3)
    result = await tg_pub.publish(make_post(photos=photos), tg_target)
    posted = tg.posts(CHANNEL)
    assert len(posted) == 3 and len({m.media_group_id for m in posted}) == 1
    assert "รหัสข่าว" in (posted[0].caption or "") and posted[1].caption is None
    assert set(result.photo_file_ids) == {p.sha256 for p in photos}
    uploads_before = sum(len(c.file_names) for c in tg.calls("sendMediaGroup"))
    reused = tuple(PostPhoto(p.sha256, telegram_file_id=result.photo_file_ids[p.sha256]) for p in photos)
    await tg_pub.publish(make_post(photos=reused, receipt="N-2569-000124"), tg_target)
    assert sum(len(c.file_names) for c in tg.calls("sendMediaGroup")) == uploads_before  # nothing re-uploaded
    assert len(tg.posts(CHANNEL)) == 6


async def test_single_photo_uses_send_photo(tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget,
                                            photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    await tg_pub.publish(make_post(photos=photo_files(1)), tg_target)
    assert len(tg.calls("sendPhoto")) == 1 and len(tg.posts(CHANNEL)) == 1


async def test_long_caption_moves_body_into_replies(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                    tg_target: OutletTarget,
                                                    photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    body = THAI_PARAGRAPH * 40
    result = await tg_pub.publish(make_post(body, photos=photo_files(2)), tg_target)
    posted = tg.posts(CHANNEL)
    album, replies = posted[:2], posted[2:]
    assert len(result.external_ids) == len(posted) and replies
    assert utf16_len(album[0].caption or "") <= TELEGRAM_CAPTION_LIMIT
    assert "รหัสข่าว N-2569-000123" in (album[0].caption or "")
    assert all(r.reply_to_message_id == album[0].message_id for r in replies)
    assert squash(body) == squash("".join(r.text or "" for r in replies))


async def test_stale_file_id_falls_back_to_upload(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                  tg_target: OutletTarget,
                                                  photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    [photo] = photo_files(1)
    stale = PostPhoto(photo.sha256, path=photo.path, telegram_file_id="AgACforgotten")
    result = await tg_pub.publish(make_post(photos=(stale,)), tg_target)
    assert len(tg.posts(CHANNEL)) == 1 and result.photo_file_ids[photo.sha256] != "AgACforgotten"


async def test_eleven_photos_are_refused_before_anything_is_sent(
        tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    with pytest.raises(PublishError) as caught:
        await tg_pub.publish(make_post(photos=photo_files(11)), tg_target)
    assert caught.value.error_class is ErrorClass.PERMANENT
    assert tg.count(CHANNEL) == 0


# -- error classification: one row per case of the reference -------------------------------------------------


async def expect(publisher: TelegramPublisher, target: OutletTarget, error_class: ErrorClass) -> PublishError:
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), target)
    assert caught.value.error_class is error_class, str(caught.value)
    return caught.value


async def test_retry_after_is_rate_limited(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                           tg_target: OutletTarget) -> None:
    tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7)
    error = await expect(tg_pub, tg_target, ErrorClass.RATE_LIMITED)
    assert error.retry_after == 7 and tg.count(CHANNEL) == 0


async def test_chat_migrated_reports_the_new_chat(tg: FakeTelegram, tg_pub: TelegramPublisher) -> None:
    tg.add_group(-4001, supergroup=False)
    tg.migrate_chat(-4001, -1009999)
    target = OutletTarget(1, "telegram", "-4001")
    error = await expect(tg_pub, target, ErrorClass.RETRYABLE)
    assert error.new_chat_id == -1009999
    await tg_pub.publish(make_post(), OutletTarget(1, "telegram", str(error.new_chat_id)))
    assert tg.count(-1009999) == 1


@pytest.mark.parametrize("status, can_post", [("member", True), ("administrator", False), ("kicked", True),
                                              ("left", True)])
async def test_bot_without_posting_rights_needs_a_human(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                        tg_target: OutletTarget, status: str, can_post: bool) -> None:
    tg.set_bot_rights(CHANNEL, status=status, can_post_messages=can_post)
    await expect(tg_pub, tg_target, ErrorClass.NEEDS_HUMAN)


async def test_unknown_chat_needs_a_human(tg_pub: TelegramPublisher) -> None:
    await expect(tg_pub, OutletTarget(1, "telegram", "-100555"), ErrorClass.NEEDS_HUMAN)


async def test_revoked_token_needs_a_human_and_is_not_in_the_message(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                                     tg_target: OutletTarget) -> None:
    tg.revoke_token()
    error = await expect(tg_pub, tg_target, ErrorClass.NEEDS_HUMAN)
    assert tg.token not in str(error) and tg.token.split(":")[1] not in error.message


async def test_missing_token_needs_a_human(tg: FakeTelegram, tg_target: OutletTarget) -> None:
    publisher = TelegramPublisher(telegram_settings(tg, telegram_bot_token=""))
    await expect(publisher, tg_target, ErrorClass.NEEDS_HUMAN)


async def test_other_bad_request_is_permanent(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                              tg_target: OutletTarget) -> None:
    tg.fail_next("sendMessage", error_code=400, description="Bad Request: can't parse entities: test")
    await expect(tg_pub, tg_target, ErrorClass.PERMANENT)


async def test_connection_refused_is_retryable(tg_target: OutletTarget) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with FakeTelegram() as fake:
        settings = telegram_settings(fake, telegram_api_base_url=f"http://127.0.0.1:{port}/bot")
    publisher = TelegramPublisher(settings, connect_timeout=0.5)
    await expect(publisher, tg_target, ErrorClass.RETRYABLE)


async def test_timeout_after_sending_is_ambiguous_and_the_post_exists(
        tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget) -> None:
    await tg_pub.check(tg_target)  # getMe done before the latency starts
    tg.latency(1.5, methods=["sendMessage"])
    await expect(tg_pub, tg_target, ErrorClass.AMBIGUOUS)
    assert tg.count(CHANNEL) == 1  # exactly why it must never be retried blindly


async def test_commit_then_drop_is_ambiguous(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                             tg_target: OutletTarget) -> None:
    tg.drop_next("sendMessage", commit=True)
    await expect(tg_pub, tg_target, ErrorClass.AMBIGUOUS)
    assert tg.count(CHANNEL) == 1


async def test_server_error_on_a_send_is_ambiguous(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                   tg_target: OutletTarget) -> None:
    tg.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    await expect(tg_pub, tg_target, ErrorClass.AMBIGUOUS)


async def test_failure_midway_reports_the_parts_already_posted(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                               tg_target: OutletTarget) -> None:
    await tg_pub.check(tg_target)
    original = tg.handlers["sendmessage"]
    sent = 0

    async def second_fails(params: dict, files: dict) -> object:  # type: ignore[type-arg]
        nonlocal sent
        sent += 1
        if sent == 2:
            tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 3",
                         retry_after=3)
        return await original(params, files)

    tg.handlers["sendmessage"] = second_fails
    with pytest.raises(PublishError) as caught:
        await tg_pub.publish(make_post(THAI_PARAGRAPH * 100), tg_target)
    assert caught.value.error_class is ErrorClass.RATE_LIMITED
    assert caught.value.partial_external_ids == [str(m.message_id) for m in tg.posts(CHANNEL)]
    assert len(caught.value.partial_external_ids) == 2


async def test_fake_rate_limits_count_album_photos(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                   tg_target: OutletTarget,
                                                   photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    tg.rate_limits(True, per_chat_per_minute=4)
    await tg_pub.publish(make_post(photos=photo_files(3)), tg_target)  # counts 3
    await tg_pub.publish(make_post(receipt="N-2"), tg_target)  # the 4th
    error = await expect(tg_pub, tg_target, ErrorClass.RATE_LIMITED)
    assert error.retry_after is not None and 1 <= error.retry_after <= 60


# -- edit, delete, check, reconcile -----------------------------------------------------------------------------


async def test_edit_corrects_every_message_and_tolerates_not_modified(
        tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget) -> None:
    result = await tg_pub.publish(make_post(THAI_PARAGRAPH * 60), tg_target)
    corrected = make_post(THAI_PARAGRAPH.replace("สาม", "สี่") * 60)
    await tg_pub.edit(result.external_ids, corrected, tg_target)
    await tg_pub.edit(result.external_ids, corrected, tg_target)  # same again: "not modified" is fine
    texts = "".join(m.text or "" for m in tg.posts(CHANNEL))
    assert "หมู่ที่สี่" in texts and "หมู่ที่สาม" not in texts


async def test_edit_a_photo_post_changes_the_caption(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                     tg_target: OutletTarget,
                                                     photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    photos = photo_files(2)
    result = await tg_pub.publish(make_post(photos=photos), tg_target)
    await tg_pub.edit(result.external_ids, make_post("แก้ไขแล้ว", photos=photos), tg_target)
    assert "แก้ไขแล้ว" in (tg.posts(CHANNEL)[0].caption or "")


async def test_delete_removes_every_part_and_is_idempotent(tg: FakeTelegram, tg_pub: TelegramPublisher,
                                                           tg_target: OutletTarget) -> None:
    result = await tg_pub.publish(make_post(THAI_PARAGRAPH * 60), tg_target)
    await tg_pub.delete(result.external_ids, tg_target)
    await tg_pub.delete(result.external_ids, tg_target)
    assert tg.count(CHANNEL) == 0


@pytest.mark.parametrize(
    "arrange, address, verdict",
    [
        (lambda tg: None, str(CHANNEL), "ok"),
        (lambda tg: None, "@pongyangkok_news", "ok"),
        (lambda tg: tg.set_bot_rights(CHANNEL, status="member"), str(CHANNEL), "not_admin"),
        (lambda tg: tg.set_bot_rights(CHANNEL, can_post_messages=False), str(CHANNEL), "cannot_post"),
        (lambda tg: None, "-100777", "chat_not_found"),
        (lambda tg: tg.set_bot_rights(CHANNEL, status="left"), str(CHANNEL), "not_member"),
        (lambda tg: tg.revoke_token(), str(CHANNEL), "token_invalid"),
        (lambda tg: None, "not-a-chat", "bad_address"),
    ],
)
async def test_check_verdicts(tg: FakeTelegram, tg_pub: TelegramPublisher,
                              arrange: Callable[[FakeTelegram], None], address: str, verdict: str) -> None:
    arrange(tg)
    result = await tg_pub.check(OutletTarget(1, "telegram", address))
    assert (result.ok, result.verdict) == (verdict == "ok", verdict), result.detail


async def test_check_without_token_says_not_configured(tg: FakeTelegram, tg_target: OutletTarget) -> None:
    result = await TelegramPublisher(telegram_settings(tg, telegram_bot_token="")).check(tg_target)
    assert result.verdict == "not_configured" and "HUB_TELEGRAM_BOT_TOKEN" in result.detail


async def test_find_post_cannot_tell_on_telegram(tg_pub: TelegramPublisher, tg_target: OutletTarget) -> None:
    with pytest.raises(PublishError) as caught:
        await tg_pub.find_post(tg_target, make_post().published_at, "รหัสข่าว N-1")
    assert caught.value.error_class is ErrorClass.AMBIGUOUS


# -- transport hygiene ---------------------------------------------------------------------------------------------


async def test_token_never_reaches_the_logs(tg: FakeTelegram, tg_pub: TelegramPublisher, tg_target: OutletTarget,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await tg_pub.publish(make_post(), tg_target)
    secret = tg.token.split(":")[1]
    assert any("sendMessage" in r.getMessage() for r in caplog.records)  # httpx did log the URL...
    assert all(secret not in r.getMessage() for r in caplog.records)  # ...without the token


async def test_proxy_variables_cannot_break_loopback(tg: FakeTelegram, tg_target: OutletTarget,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    publisher = TelegramPublisher(telegram_settings(tg))
    await publisher.publish(make_post(), tg_target)
    await publisher.aclose()
    assert tg.count(CHANNEL) == 1
