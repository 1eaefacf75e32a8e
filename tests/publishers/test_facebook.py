"""Contract tests: the real facebook-sdk (wrapped) against the loopback Graph API fake."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import facebook
import pytest
import requests

from platform_fakes.facebook import FakeFacebook, FakePage, FakePost
from publishers.base import ErrorClass, OutletTarget, PostPhoto, PublishError
from publishers.facebook import FacebookPublisher
from tests.publishers.conftest import PAGE_ID, facebook_settings, make_post

LONG_AGO = datetime.now(UTC) - timedelta(hours=1)


async def test_text_and_link_post_goes_to_feed_with_token_in_header(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget) -> None:
    result = await fb_pub.publish(make_post(link="https://example.org/news/1"), fb_target)
    [post] = fb.posts(PAGE_ID)
    assert result.external_ids == [post.id] and result.permalink == f"https://www.facebook.com/{post.id}"
    assert post.link == "https://example.org/news/1"
    assert post.message.startswith("ผ้าทอมือบ้านปงยางคก\n🗓 24 พฤศจิกายน 2569")
    assert "รหัสข่าว N-2569-000123" in post.message and "#ผลิตภัณฑ์ชุมชน" in post.message
    [request] = fb.requests("feed")
    assert request.version == "v25.0" and request.token_location == "header"
    assert "access_token" not in request.query and "access_token" not in request.form


async def test_photos_upload_unpublished_then_one_feed_post(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    await fb_pub.publish(make_post(photos=photo_files(3), link="https://example.org/x"), fb_target)
    uploads = fb.requests("photos")
    assert len(uploads) == 3 and all(r.form["published"] == "false" and r.file_names for r in uploads)
    [feed] = fb.requests("feed")
    media = [json.loads(feed.form[f"attached_media[{i}]"]) for i in range(3)]
    assert [m["media_fbid"] for m in media] == [p.id for p in fb.photos(PAGE_ID)]
    [post] = fb.posts(PAGE_ID)
    assert post.media_fbids == [p.id for p in fb.photos(PAGE_ID)]
    assert "https://example.org/x" in post.message  # with photos the link goes into the text


async def test_eleven_photos_are_refused_before_anything_is_sent(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    with pytest.raises(PublishError) as caught:
        await fb_pub.publish(make_post(photos=photo_files(11)), fb_target)
    assert caught.value.error_class is ErrorClass.PERMANENT and fb.requests_log == []


# -- the classification table, row by row ------------------------------------------------------------------------

GRAPH_ROWS: list[tuple[dict[str, Any], ErrorClass]] = [
    ({"code": 4}, ErrorClass.RATE_LIMITED),
    ({"code": 17}, ErrorClass.RATE_LIMITED),
    ({"code": 32}, ErrorClass.RATE_LIMITED),
    ({"code": 341}, ErrorClass.RATE_LIMITED),
    ({"code": 613}, ErrorClass.RATE_LIMITED),
    ({"code": 80001}, ErrorClass.RATE_LIMITED),
    ({"code": 190, "subcode": 463}, ErrorClass.NEEDS_HUMAN),
    ({"code": 190, "subcode": 460}, ErrorClass.NEEDS_HUMAN),
    ({"code": 190, "subcode": 492}, ErrorClass.NEEDS_HUMAN),
    ({"code": 190, "subcode": 458}, ErrorClass.NEEDS_HUMAN),
    ({"code": 102}, ErrorClass.NEEDS_HUMAN),
    ({"code": 10}, ErrorClass.NEEDS_HUMAN),
    ({"code": 200}, ErrorClass.NEEDS_HUMAN),
    ({"code": 299}, ErrorClass.NEEDS_HUMAN),
    ({"code": 3}, ErrorClass.NEEDS_HUMAN),
    ({"code": 283}, ErrorClass.NEEDS_HUMAN),
    ({"code": 368}, ErrorClass.NEEDS_HUMAN),
    ({"code": 1}, ErrorClass.RETRYABLE),
    ({"code": 2, "is_transient": True}, ErrorClass.RETRYABLE),
    ({"code": 9007, "is_transient": True}, ErrorClass.RETRYABLE),
    ({"code": 100}, ErrorClass.PERMANENT),
    ({"code": 324}, ErrorClass.PERMANENT),
    ({"code": 1609005}, ErrorClass.PERMANENT),
]


async def expect(publisher: FacebookPublisher, target: OutletTarget, error_class: ErrorClass,
                 **post: Any) -> PublishError:
    with pytest.raises(PublishError) as caught:
        await publisher.publish(make_post(**post), target)
    assert caught.value.error_class is error_class, str(caught.value)
    return caught.value


@pytest.mark.parametrize("row, error_class", GRAPH_ROWS, ids=lambda v: str(v) if isinstance(v, dict) else "")
async def test_graph_error_row(fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
                               row: dict[str, Any], error_class: ErrorClass) -> None:
    fb.fail_next("feed", code=row["code"], subcode=row.get("subcode"), is_transient=row.get("is_transient"))
    error = await expect(fb_pub, fb_target, error_class)
    expected_code = f"{row['code']}/{row['subcode']}" if "subcode" in row else row["code"]
    assert error.code == expected_code
    assert fb.count(PAGE_ID) == 0


async def test_rate_limit_waits_for_estimated_time_to_regain_access(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget) -> None:
    fb.fail_next("feed", code=80001, eta_minutes=5)
    error = await expect(fb_pub, fb_target, ErrorClass.RATE_LIMITED)
    assert error.retry_after == 300


async def test_rate_limit_without_header_waits_a_quarter_hour(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget) -> None:
    fb.fail_next("feed", code=4)
    assert (await expect(fb_pub, fb_target, ErrorClass.RATE_LIMITED)).retry_after == 900


async def test_fake_business_use_case_limit(fb: FakeFacebook, fb_pub: FacebookPublisher,
                                            fb_target: OutletTarget) -> None:
    fb.rate_limits(True, calls_per_hour=2)
    await fb_pub.publish(make_post(receipt="A"), fb_target)
    await fb_pub.publish(make_post(receipt="B"), fb_target)
    error = await expect(fb_pub, fb_target, ErrorClass.RATE_LIMITED, receipt="C")
    assert error.code == 80001 and error.retry_after is not None and 60 <= error.retry_after <= 3600


async def test_expired_page_token_needs_a_human(fb: FakeFacebook, fb_pub: FacebookPublisher,
                                                fb_target: OutletTarget, page: FakePage) -> None:
    fb.set_token_state(page.token, "expired")
    assert (await expect(fb_pub, fb_target, ErrorClass.NEEDS_HUMAN)).code == "190/463"


async def test_unknown_token_needs_a_human(fb_pub: FacebookPublisher) -> None:
    target = OutletTarget(2, "facebook", PAGE_ID, token="EAAnot-a-token")
    assert (await expect(fb_pub, target, ErrorClass.NEEDS_HUMAN)).code == "190/467"


async def test_token_without_manage_posts_needs_a_human(fb: FakeFacebook, fb_pub: FacebookPublisher,
                                                        page: FakePage) -> None:
    token = fb.issue_token(PAGE_ID, scopes=("pages_show_list",))
    await expect(fb_pub, OutletTarget(2, "facebook", PAGE_ID, token=token), ErrorClass.NEEDS_HUMAN)


async def test_missing_token_needs_a_human(fb_pub: FacebookPublisher, page: FakePage) -> None:
    await expect(fb_pub, OutletTarget(2, "facebook", PAGE_ID), ErrorClass.NEEDS_HUMAN)


@pytest.mark.parametrize("route, inject, error_class", [
    ("feed", "html_502", ErrorClass.AMBIGUOUS),
    ("photos", "html_502", ErrorClass.RETRYABLE),
    ("feed", "html_404", ErrorClass.PERMANENT),
    ("feed", "no_content_type", ErrorClass.AMBIGUOUS),
    ("feed", "malformed_json", ErrorClass.AMBIGUOUS),
    ("photos", "malformed_json", ErrorClass.RETRYABLE),
    ("feed", "commit_then_drop", ErrorClass.AMBIGUOUS),
    ("photos", "drop", ErrorClass.RETRYABLE),
])
async def test_transport_failures(fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
                                  photo_files: Callable[[int], tuple[PostPhoto, ...]],
                                  route: str, inject: str, error_class: ErrorClass) -> None:
    if inject.startswith("html_"):
        fb.html_error_next(route, status=int(inject[5:]))
    elif inject == "no_content_type":
        fb.no_content_type_next(route)
    elif inject == "malformed_json":
        fb.malformed_json_next(route)
    else:
        fb.drop_next(route, commit=inject == "commit_then_drop")
    await expect(fb_pub, fb_target, error_class, photos=photo_files(2))


async def test_connection_refused_is_retryable(fb_target: OutletTarget) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with FakeFacebook() as fake:
        settings = facebook_settings(fake, facebook_graph_url=f"http://127.0.0.1:{port}")
    await expect(FacebookPublisher(settings, connect_timeout=0.5), fb_target, ErrorClass.RETRYABLE)


async def test_read_timeout_on_the_feed_post_is_ambiguous_and_reconcilable(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget) -> None:
    fb.latency(1.5, routes=["feed"])
    await expect(fb_pub, fb_target, ErrorClass.AMBIGUOUS)
    fb.reset_faults()
    found = await fb_pub.find_post(fb_target, LONG_AGO, "รหัสข่าว N-2569-000123")
    assert found is not None and found.external_ids == [fb.posts(PAGE_ID)[0].id]


async def test_commit_then_drop_then_retry_answers_duplicate_and_returns_the_existing_post(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget) -> None:
    fb.drop_next("feed", commit=True)
    await expect(fb_pub, fb_target, ErrorClass.AMBIGUOUS)
    result = await fb_pub.publish(make_post(), fb_target)  # a person chose "send it" anyway
    assert fb.count(PAGE_ID) == 1  # the fake refused the duplicate (506)...
    assert result.external_ids == [fb.posts(PAGE_ID)[0].id]  # ...and the publisher found the first one


async def test_duplicate_of_another_post_is_permanent(fb: FakeFacebook, fb_pub: FacebookPublisher,
                                                      fb_target: OutletTarget) -> None:
    fb.fail_next("feed", code=506, message="(#506) Duplicate status message")
    assert (await expect(fb_pub, fb_target, ErrorClass.PERMANENT)).code == 506


# -- edit, delete, find_post, check ------------------------------------------------------------------------------


async def test_edit_and_delete(fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget) -> None:
    result = await fb_pub.publish(make_post(), fb_target)
    await fb_pub.edit(result.external_ids, make_post("ข้อความที่แก้ไขแล้ว"), fb_target)
    assert "ข้อความที่แก้ไขแล้ว" in fb.posts(PAGE_ID)[0].message
    await fb_pub.delete(result.external_ids, fb_target)
    await fb_pub.delete(result.external_ids, fb_target)  # already gone (100/33) is success
    assert fb.count(PAGE_ID) == 0
    with pytest.raises(PublishError) as caught:
        await fb_pub.edit(result.external_ids, make_post(), fb_target)
    assert caught.value.error_class is ErrorClass.PERMANENT


async def test_find_post_pages_through_published_posts(fb: FakeFacebook, fb_pub: FacebookPublisher,
                                                       fb_target: OutletTarget, page: FakePage) -> None:
    now = fb.now()
    page.posts.append(FakePost(f"{PAGE_ID}_1", PAGE_ID, "ข่าวเก่า รหัสข่าว N-OLD", None, now - 30))
    for index in range(250):
        page.posts.append(FakePost(f"{PAGE_ID}_{100 + index}", PAGE_ID, f"ข่าวที่ {index}", None, now - 20))
    found = await fb_pub.find_post(fb_target, datetime.now(UTC) - timedelta(minutes=5), "รหัสข่าว N-OLD")
    assert found is not None and found.external_ids == [f"{PAGE_ID}_1"]
    assert len(fb.requests("published_posts")) == 3
    assert await fb_pub.find_post(fb_target, LONG_AGO, "รหัสข่าว N-MISSING") is None


@pytest.mark.parametrize("arrange, verdict", [
    (lambda fb, page: page.token, "ok"),
    (lambda fb, page: (fb.set_token_state(page.token, "expired"), page.token)[1], "token_invalid"),
    (lambda fb, page: "EAAunknown", "token_invalid"),
    (lambda fb, page: fb.issue_token(PAGE_ID, scopes=("pages_show_list",)), "missing_permission"),
    (lambda fb, page: fb.issue_token(None), "not_page_token"),
    (lambda fb, page: fb.add_page("2000002").token, "wrong_page"),
    (lambda fb, page: None, "token_missing"),
])
async def test_check_with_debug_token(fb: FakeFacebook, fb_pub: FacebookPublisher, page: FakePage,
                                      arrange: Callable[[FakeFacebook, FakePage], str | None], verdict: str) -> None:
    result = await fb_pub.check(OutletTarget(2, "facebook", PAGE_ID, token=arrange(fb, page)))
    assert (result.ok, result.verdict) == (verdict == "ok", verdict), result.detail


async def test_check_without_app_credentials_uses_the_page_token(fb: FakeFacebook, page: FakePage) -> None:
    publisher = FacebookPublisher(facebook_settings(fb, with_app=False))
    ok = await publisher.check(OutletTarget(2, "facebook", PAGE_ID, token=page.token))
    assert ok.ok and "permissions not verified" in ok.detail
    fb.set_token_state(page.token, "password_changed")
    bad = await publisher.check(OutletTarget(2, "facebook", PAGE_ID, token=page.token))
    assert (bad.ok, bad.verdict) == (False, "token_invalid")


# -- version pinning and credentials in logs --------------------------------------------------------------------


def test_the_library_alone_would_call_an_expired_version() -> None:
    assert facebook.GraphAPI().version == "v2.8"
    with pytest.raises(facebook.GraphAPIError):
        facebook.GraphAPI(version="25.0")  # its own check stops at 3.1: hence set after construction


async def test_every_call_uses_the_pinned_version(fb: FakeFacebook, fb_pub: FacebookPublisher,
                                                  fb_target: OutletTarget,
                                                  photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    result = await fb_pub.publish(make_post(photos=photo_files(2)), fb_target)
    await fb_pub.check(fb_target)
    await fb_pub.find_post(fb_target, LONG_AGO, "x")
    await fb_pub.delete(result.external_ids, fb_target)
    assert {r.version for r in fb.requests_log} == {"v25.0"}


async def test_an_old_version_is_refused_by_the_strict_fake(fb: FakeFacebook, fb_target: OutletTarget) -> None:
    publisher = FacebookPublisher(facebook_settings(fb, facebook_graph_version="v3.1"))
    error = await expect(publisher, fb_target, ErrorClass.NEEDS_HUMAN)
    assert "HUB_FACEBOOK_GRAPH_VERSION" in error.message


async def test_tokens_never_reach_the_logs(fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
                                           page: FakePage, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Capture on the publisher's and urllib3's own loggers too, so the check does not depend on what
    # earlier tests in the same worker did to the root logger's handlers or levels.
    watched = [logging.getLogger(name) for name in ("publishers", "urllib3")]
    saved = [(lg.level, lg.disabled) for lg in watched]
    for lg in watched:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        lg.addHandler(caplog.handler)
    try:
        await fb_pub.publish(make_post(), fb_target)
        await fb_pub.check(fb_target)  # debug_token must put tokens in its query string
        await fb_pub.delete([fb.posts(PAGE_ID)[0].id], fb_target)
    finally:
        for lg, (level, disabled) in zip(watched, saved, strict=True):
            lg.removeHandler(caplog.handler)
            lg.setLevel(level)
            lg.disabled = disabled
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "debug_token" in logged and "<redacted>" in logged
    assert page.token not in logged and fb.app_secret not in logged
    assert all(r.token_location in ("header", None) for r in fb.requests_log if r.route != "debug_token")


def test_fake_refuses_python_booleans_and_repeated_attached_media(fb_thread: FakeFacebook) -> None:
    page = fb_thread.add_page("3000003")
    url = f"{fb_thread.graph_url}/v25.0/3000003/photos"
    headers = {"Authorization": f"OAuth {page.token}"}
    answer = requests.post(url, data={"published": "False"}, files={"source": b"\xff\xd8\xff\xe0jpeg"},
                           headers=headers, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100
    feed = f"{fb_thread.graph_url}/v25.0/3000003/feed"
    answer = requests.post(feed, data={"message": "x", "attached_media": ['{"media_fbid": "1"}'] * 2},
                           headers=headers, timeout=5)
    assert answer.status_code == 400 and "repeated" in answer.json()["error"]["message"]


@pytest.fixture
def fb_thread() -> Any:
    with FakeFacebook() as fake:  # the thread runner, for sync callers
        yield fake
