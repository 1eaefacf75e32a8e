"""The LINE publisher against the loopback fake, through the real line-bot-sdk client."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from network_hub.clock import FrozenClock
from network_hub.thai import utf16_len
from platform_fakes.line import FakeLine
from publishers.base import ErrorClass, OutletTarget, PublishError
from publishers.line import QUOTA_HELD, LinePublisher, call_retry_key, next_quota_month
from tests.line.conftest import group_target, line_settings, make_post

KEY = "123e4567-e89b-42d3-a456-426614174000"


async def test_push_to_a_group_costs_its_members_and_carries_bearer_and_key(fake: FakeLine,
                                                                          publisher: LinePublisher) -> None:
    channel = fake.add_channel(quota=1000)
    group = fake.add_group(channel, members=150)
    result = await publisher.publish(make_post(), group_target(channel, group.id, retry_key=KEY))
    [sent] = fake.messages_to(group.id)
    assert sent.recipients == 150 and fake.usage(channel) == 150
    assert sent.retry_key == KEY and result.external_ids == sent.message_ids
    assert "รหัสข่าว N-2569-000123" in sent.texts[0] and "ผ้าทอมือบ้านปงยางคก" in sent.texts[0]
    push = fake.requests("push")[0]
    assert push.headers["authorization"] == f"Bearer {channel.token}"


async def test_long_thai_text_and_ten_photos_make_three_requests_of_at_most_five(fake: FakeLine,
                                                                                publisher: LinePublisher) -> None:
    channel = fake.add_channel(quota=None)
    group = fake.add_group(channel, members=20)
    body = "ชาวบ้านร่วมกันทอผ้าฝ้ายลายโบราณเพื่อจำหน่ายในงานประจำปี " * 200  # about 11,000 units
    post = make_post(body, photos=10)
    target = group_target(channel, group.id, retry_key=KEY)
    plan = publisher.plan(post, target)
    assert [c.method for c in plan.calls] == ["push"] * 3
    await publisher.publish(post, target)
    sent = fake.messages_to(group.id)
    assert [len(s.messages) for s in sent] == [5, 5, 3]
    texts = [t for s in sent for t in s.texts]
    assert len(texts) == 3 and all(utf16_len(t) <= 5000 for t in texts)
    images = [m for s in sent for m in s.messages if m["type"] == "image"]
    assert len(images) == 10 and all(m["originalContentUrl"].startswith("https://hub.example.test/media/")
                                      for m in images)
    # every request has its own key, derived from the delivery's key
    assert [s.retry_key for s in sent] == [call_retry_key(KEY, i) for i in range(3)]
    assert plan.texts == ["\n\n".join(s.texts) for s in sent if s.texts]


async def test_commit_then_drop_is_retried_with_the_same_key_and_sends_once(fake: FakeLine,
                                                                           publisher: LinePublisher) -> None:
    channel = fake.add_channel(quota=1000)
    group = fake.add_group(channel, members=10)
    target = group_target(channel, group.id, retry_key=KEY)
    fake.drop_next("push", commit=True)
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), target)
    assert caught.value.error_class is ErrorClass.RETRYABLE
    result = await publisher.publish(make_post(), target)
    assert len(fake.messages_to(group.id)) == 1 and fake.usage(channel) == 10
    assert [r.status for r in fake.requests("push")] == [200, 409]
    assert result.external_ids == fake.messages_to(group.id)[0].message_ids


async def test_server_error_sends_nothing_and_is_retryable(fake: FakeLine, publisher: LinePublisher) -> None:
    channel = fake.add_channel(quota=1000)
    group = fake.add_group(channel, members=10)
    fake.fail_next("push", status=500)
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), group_target(channel, group.id, retry_key=KEY))
    assert caught.value.error_class is ErrorClass.RETRYABLE and caught.value.code == 500
    assert fake.messages_to(group.id) == []


async def test_a_post_that_does_not_fit_the_quota_is_held_whole_until_next_month(
        fake: FakeLine, publisher: LinePublisher, clock: FrozenClock) -> None:
    channel = fake.add_channel(quota=300)
    group = fake.add_group(channel, members=150)
    fake.set_usage(channel, 100)  # 300 × 80 % = 240 for ordinary posts; 140 left < 150
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), group_target(channel, group.id, retry_key=KEY))
    error = caught.value
    assert error.error_class is ErrorClass.RATE_LIMITED and error.code == "line_quota"
    assert QUOTA_HELD in error.message
    assert clock.now() + timedelta(seconds=error.retry_after or 0) >= next_quota_month(clock.now())
    assert fake.requests("push") == [] and fake.usage(channel) == 100


async def test_lines_own_monthly_limit_answer_is_the_same_hold(fake: FakeLine, publisher: LinePublisher) -> None:
    channel = fake.add_channel(quota=300)
    group = fake.add_group(channel, members=10)
    fake.fail_next("push", status=429, message="You have reached your monthly limit.")
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), group_target(channel, group.id, retry_key=KEY))
    assert caught.value.error_class is ErrorClass.RATE_LIMITED and caught.value.code == "line_quota"
    fake.fail_next("push", status=429, message="The API rate limit has been exceeded. Try again later.")
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), group_target(channel, group.id, retry_key=KEY))
    assert caught.value.error_class is ErrorClass.RATE_LIMITED and caught.value.code == 429
    assert (caught.value.retry_after or 0) <= 60
    assert fake.messages_to(group.id) == []


async def test_broadcast_to_friends_costs_the_reach(fake: FakeLine, publisher: LinePublisher) -> None:
    channel = fake.add_channel(quota=None)
    users = fake.add_friends(channel, 12)
    channel.blocked.add(users[0])
    result = await publisher.publish(make_post(), OutletTarget(1, "line", "friends", token=channel.token,
                                                                retry_key=KEY))
    [sent] = fake.messages_to("*", "broadcast")
    assert sent.recipients == 11 and result.external_ids[0].startswith("request:")


async def test_photos_need_an_https_public_address(fake: FakeLine, tmp_path: Path) -> None:
    publisher = LinePublisher(line_settings(fake, tmp_path, public_base_url="http://hub.example.test"))
    channel = fake.add_channel()
    group = fake.add_group(channel, members=5)
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(photos=1), group_target(channel, group.id, retry_key=KEY))
    assert caught.value.error_class is ErrorClass.NEEDS_HUMAN and "HTTPS" in caught.value.message
    check = await publisher.check(group_target(channel, group.id))
    await publisher.aclose()
    assert not check.ok and check.verdict == "public_base_not_https"
    assert fake.requests("push") == []


async def test_a_key_older_than_23_hours_goes_to_a_person(fake: FakeLine, publisher: LinePublisher,
                                                          clock: FrozenClock) -> None:
    channel = fake.add_channel()
    group = fake.add_group(channel, members=5)
    old = clock.now() - timedelta(hours=23, minutes=1)
    target = group_target(channel, group.id, retry_key=KEY, retry_key_created_at=old)
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), target)
    assert caught.value.error_class is ErrorClass.AMBIGUOUS and caught.value.code == "line_retry_key_expired"
    assert fake.requests("push") == []


async def test_bad_token_and_departed_group_need_a_person(fake: FakeLine, publisher: LinePublisher) -> None:
    channel = fake.add_channel()
    group = fake.add_group(channel, members=5)
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), OutletTarget(1, "line", group.id, token="wrong", retry_key=KEY))
    assert caught.value.error_class is ErrorClass.NEEDS_HUMAN and caught.value.code == 401
    group.bot_in = False
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(), group_target(channel, group.id, retry_key=KEY))
    assert caught.value.error_class is ErrorClass.NEEDS_HUMAN
    check = await publisher.check(group_target(channel, group.id))
    assert not check.ok and check.verdict == "not_in_group"


async def test_check_reports_group_size_and_quota(fake: FakeLine, publisher: LinePublisher) -> None:
    channel = fake.add_channel(quota=300)
    group = fake.add_group(channel, members=42, name="กลุ่มหมู่ 3")
    check = await publisher.check(group_target(channel, group.id))
    assert check.ok and "42" in check.detail and "0/300" in check.detail


async def test_content_is_downloaded_from_the_data_api_only(fake: FakeLine, publisher: LinePublisher) -> None:
    channel = fake.add_channel()
    message_id = fake.store_content(b"\xff\xd8\xffjpeg-bytes")
    data = await publisher.download_content(OutletTarget(1, "line", "friends", token=channel.token), message_id)
    assert data == b"\xff\xd8\xffjpeg-bytes"
    async with aiohttp.ClientSession() as session, session.get(
            f"{fake.api_base_url}/v2/bot/message/{message_id}/content",
            headers={"Authorization": f"Bearer {channel.token}"}) as response:
        assert response.status == 404


async def _post(fake: FakeLine, token: str, route: str, body: object, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, object], dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{fake.api_base_url}/v2/bot/message/{route}", json=body,
            headers={"Authorization": f"Bearer {token}", **(headers or {})}) as response:
        return response.status, await response.json(), dict(response.headers)


async def test_fake_validates_like_line(fake: FakeLine) -> None:
    channel = fake.add_channel(quota=None)
    group = fake.add_group(channel, members=3)
    text = {"type": "text", "text": "สวัสดี"}
    status, body, _ = await _post(fake, channel.token, "push", {"to": group.id, "messages": [text] * 6})
    assert status == 400 and body["details"][0]["property"] == "messages"  # type: ignore[index]
    status, body, _ = await _post(fake, channel.token, "push", {"to": group.id, "messages": [
        {"type": "text", "text": "ก" * 5001}]})
    assert status == 400
    status, _, _ = await _post(fake, channel.token, "push", {"to": group.id, "messages": [
        {"type": "text", "text": "🍎" * 2500}]})  # 5,000 UTF-16 units exactly
    assert status == 200
    status, _, _ = await _post(fake, channel.token, "push", {"to": group.id, "messages": [
        {"type": "image", "originalContentUrl": "http://x/a.jpg", "previewImageUrl": "https://x/a.jpg"}]})
    assert status == 400
    status, _, _ = await _post(fake, "nope", "push", {"to": group.id, "messages": [text]})
    assert status == 401
    status, _, _ = await _post(fake, channel.token, "reply", {"replyToken": "x", "messages": [text]},
                               {"X-Line-Retry-Key": KEY})
    assert status == 400
    assert len(fake.messages_to(group.id)) == 1


async def test_fake_retry_key_409_and_forgets_after_24h(fake: FakeLine, clock: FrozenClock) -> None:
    channel = fake.add_channel(quota=None)
    group = fake.add_group(channel, members=3)
    body = {"to": group.id, "messages": [{"type": "text", "text": "สวัสดี"}]}
    status, first, headers = await _post(fake, channel.token, "push", body, {"X-Line-Retry-Key": KEY})
    assert status == 200
    status, again, again_headers = await _post(fake, channel.token, "push", body, {"X-Line-Retry-Key": KEY})
    assert status == 409 and again_headers["x-line-accepted-request-id"] == headers["x-line-request-id"]
    assert again["sentMessages"] == first["sentMessages"]
    clock.advance(hours=24, seconds=1)
    status, _, _ = await _post(fake, channel.token, "push", body, {"X-Line-Retry-Key": KEY})
    assert status == 200 and len(fake.messages_to(group.id)) == 2  # LINE's documented duplicate after 24 h


async def test_fake_reply_tokens_are_single_use_and_expire(fake: FakeLine, clock: FrozenClock) -> None:
    channel = fake.add_channel(quota=0)
    event = fake.text_event("U" + "1" * 32, "สวัสดี")
    reply = {"replyToken": event["replyToken"], "messages": [{"type": "text", "text": "รับแล้ว"}]}
    status, _, _ = await _post(fake, channel.token, "reply", reply)
    assert status == 200  # free: a quota of 0 does not matter
    status, _, _ = await _post(fake, channel.token, "reply", reply)
    assert status == 400
    late = fake.text_event("U" + "1" * 32, "อีกครั้ง")
    clock.advance(seconds=61)
    status, _, _ = await _post(fake, channel.token, "reply", {**reply, "replyToken": late["replyToken"]})
    assert status == 400


async def test_fake_rate_limits_broadcast_to_60_an_hour(fake: FakeLine) -> None:
    channel = fake.add_channel(quota=None)
    fake.add_friends(channel, 2)
    body = {"messages": [{"type": "text", "text": "ประกาศ"}]}
    statuses = [(await _post(fake, channel.token, "broadcast", body))[0] for _ in range(61)]
    assert statuses.count(200) == 60 and statuses[-1] == 429
