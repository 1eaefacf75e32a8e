"""A Facebook post of several calls (photo uploads, then the feed post) that fails at call k reports
``completed_calls=k`` and no posted ids; the engine records k calls done, resumes there, and the
Page ends with exactly one post. Real facebook-sdk against the loopback Graph fake, faults through
the fake's own controls (``fail_next``, ``rate_limits``)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from network_hub.db.models import Delivery, Outlet, Photo
from network_hub.hub import Hub
from platform_fakes.facebook import FakeFacebook
from publishers.base import ErrorClass, OutletTarget, PostPhoto, PublishError
from publishers.facebook import FacebookPublisher
from publishers.registry import Publishers
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network
from tests.publishers.conftest import PAGE_ID, make_post


async def refused(fb_pub: FacebookPublisher, *args: object, **kwargs: object) -> PublishError:
    with pytest.raises(PublishError) as caught:
        await fb_pub.publish(*args, **kwargs)  # type: ignore[arg-type]
    return caught.value


async def test_feed_post_refused_after_three_uploads_reports_three_calls_done(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    post = make_post(photos=photo_files(3))
    assert [c.method for c in fb_pub.plan(post, fb_target).calls] == ["photo_upload"] * 3 + ["feed"]
    fb.fail_next("feed", code=2, is_transient=True)
    error = await refused(fb_pub, post, fb_target)
    assert error.error_class is ErrorClass.RETRYABLE
    assert error.completed_calls == 3 and error.partial_external_ids == []
    assert fb.posts(PAGE_ID) == [] and len(fb.requests("photos")) == 3

    # The engine resumes at call 3: the photos go up again (unpublished) and the post goes out once.
    result = await fb_pub.publish(post, fb_target, start_at=error.completed_calls)
    [page_post] = fb.posts(PAGE_ID)
    assert result.external_ids == [page_post.id] and len(page_post.media_fbids) == 3


async def test_rate_limit_on_the_third_upload_reports_two_calls_done(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    fb.rate_limits(calls_per_hour=2)  # the Page's business-use-case limit: the third call is refused
    error = await refused(fb_pub, make_post(photos=photo_files(3)), fb_target)
    assert error.error_class is ErrorClass.RATE_LIMITED and error.retry_after
    assert error.completed_calls == 2 and error.partial_external_ids == [] and fb.posts(PAGE_ID) == []


async def test_a_failure_before_anything_was_done_reports_zero(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    fb.fail_next("photos", code=2, is_transient=True)
    assert (await refused(fb_pub, make_post(photos=photo_files(2)), fb_target)).completed_calls == 0
    fb.fail_next("feed", code=2, is_transient=True)  # a text post: its only call is the feed post
    assert (await refused(fb_pub, make_post(), fb_target)).completed_calls == 0


async def test_a_refused_feed_post_with_a_definite_error_reports_its_uploads_and_is_not_unknown(
        fb: FakeFacebook, fb_pub: FacebookPublisher, fb_target: OutletTarget,
        photo_files: Callable[[int], tuple[PostPhoto, ...]]) -> None:
    fb.fail_next("feed", code=100, message="(#100) Invalid parameter")
    error = await refused(fb_pub, make_post(photos=photo_files(2)), fb_target)
    assert error.error_class is ErrorClass.PERMANENT and error.completed_calls == 2
    assert error.partial_external_ids == []  # nothing a resident can see: the engine fails it, never "unknown"


# -- through the engine ----------------------------------------------------------------------------------------------

PAGE = "104857600777"


@pytest.fixture
async def graph(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[FakeFacebook, Publishers]]:
    hub.clock.set(datetime.now(UTC))
    async with FakeFacebook() as fake:
        fake.add_page(PAGE)
        monkeypatch.setenv("HUB_TEST_PAGE_TOKEN", fake.issue_token(PAGE))
        hub.settings.facebook_graph_url = fake.graph_url
        pubs = Publishers(hub.settings)
        yield fake, pubs
        await pubs.aclose()


def item_with_photos(hub: Hub, count: int) -> int:
    now = hub.clock.now()
    media = hub.settings.resolved_media_dir
    media.mkdir(parents=True, exist_ok=True)
    with hub.transaction() as s:
        people = seed_network(s, now)
        outlet = add_outlet(s, now, platform="facebook", address=PAGE, name="เพจข่าวตำบล")
        s.get(Outlet, outlet.id).token_env = "HUB_TEST_PAGE_TOKEN"
        item = add_approved_item(s, now, people.reporter.id, [outlet], body="งานบุญประจำปีของหมู่บ้าน")
        for pos in range(count):
            buf = BytesIO()
            Image.new("RGB", (64, 48), (pos * 60, 120, 200)).save(buf, "JPEG")
            (media / f"fb{pos}.jpg").write_bytes(buf.getvalue())
            s.add(Photo(item_id=item.id, position=pos, sha256=f"{pos + 7:064d}", path=f"fb{pos}.jpg", width=64,
                        height=48, size_bytes=len(buf.getvalue()), created_at=now))
        return outlet.id


async def test_the_engine_records_the_calls_done_and_resumes_to_exactly_one_post(
        hub: Hub, graph: tuple[FakeFacebook, Publishers]) -> None:
    fb, pubs = graph
    item_with_photos(hub, 2)
    fb.fail_next("feed", code=2, is_transient=True)
    await Dispatcher(hub, pubs, owner="fb-resume", rng=random.Random(2)).run_once()
    with hub.transaction() as s:
        first = s.scalars(select(Delivery)).one()
        assert (first.state, first.parts_done, first.external_ids) == ("retry_wait", 2, [])
    assert fb.count(PAGE) == 0

    hub.clock.set(first.not_before + timedelta(seconds=1))
    await Dispatcher(hub, pubs, owner="fb-resume", rng=random.Random(2)).run_once()
    with hub.transaction() as s:
        done = s.scalars(select(Delivery)).one()
        assert done.state == "sent" and done.external_ids == [fb.posts(PAGE)[0].id]
    assert fb.count(PAGE) == 1 and len(fb.posts(PAGE)[0].media_fbids) == 2
