"""Resumable multi-part posts: a definite refusal midway (429 with retry_after, a connect error
before the request left) resumes at the refused part after the wait; only a truly unknown part
makes the delivery `unknown`. Driven on the in-memory publisher (its plan: one call per paragraph),
on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from network_hub.db.models import Delivery, Member, NewsItem, Notification, Outlet
from network_hub.outbox import resolution
from network_hub.permissions import load_actor
from publishers.base import ErrorClass, PublishError
from tests.engine.builders import add_approved_item, add_outlet
from tests.engine.memory_publisher import MemoryPublishers
from tests.factories import seed_network

THREE_PARTS = "ย่อหน้าแรกของข่าว\n\nย่อหน้าที่สอง\n\nย่อหน้าที่สาม"
CHAT = "-1001"


@pytest.fixture
def setup(hub):
    pubs = MemoryPublishers()
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
        outlet = add_outlet(s, hub.clock.now(), platform="telegram", address=CHAT)
        item = add_approved_item(s, hub.clock.now(), people.reporter.id, [outlet], body=THREE_PARTS)
    return pubs, outlet.id, item.id


def delivery(hub) -> Delivery:
    with hub.transaction() as s:
        return s.scalars(select(Delivery)).one()


def run(hub, pubs):
    return Dispatcher(hub, pubs, owner="w", rng=random.Random(3)).run_once()


def assert_whole_post_once(pubs: MemoryPublishers, d: Delivery) -> None:
    messages = pubs.get("telegram").messages[CHAT]
    assert [call for _, _, call in messages] == [0, 1, 2]  # every part once, in order
    assert d.state == "sent" and d.external_ids == [mid for mid, _, _ in messages]


@pytest.mark.parametrize("part", [0, 1, 2])
async def test_429_at_each_part_resumes_at_that_part_after_the_wait(hub, setup, part) -> None:
    pubs, outlet_id, item_id = setup
    pubs.get("telegram").fail_calls[part] = PublishError(ErrorClass.RATE_LIMITED, "flood control", retry_after=7)
    await run(hub, pubs)
    d = delivery(hub)
    assert d.state == "pending" and d.parts_done == part and len(d.external_ids) == part
    assert d.attempts == 0  # a 429 is not an attempt
    assert d.not_before == hub.clock.now() + timedelta(seconds=7)
    with hub.transaction() as s:
        assert s.get(Outlet, outlet_id).blocked_until == hub.clock.now() + timedelta(seconds=7)
    assert (await run(hub, pubs)).claimed == 0  # waits for retry_after
    hub.clock.advance(seconds=7)
    await run(hub, pubs)
    d = delivery(hub)
    assert_whole_post_once(pubs, d)
    assert pubs.get("telegram").starts == [0, part]
    with hub.transaction() as s:
        assert s.get(NewsItem, item_id).status == "published"


@pytest.mark.parametrize("part", [1, 2])
async def test_connect_error_midway_resumes_soon_and_is_not_unknown(hub, setup, part) -> None:
    pubs, _, _ = setup
    pubs.get("telegram").fail_calls[part] = PublishError(ErrorClass.RETRYABLE, "connection refused")
    await run(hub, pubs)
    d = delivery(hub)
    assert d.state == "retry_wait" and d.parts_done == part and len(d.external_ids) == part
    assert d.not_before - hub.clock.now() <= timedelta(seconds=5)  # half a post does not wait long
    hub.clock.set(d.not_before)
    await run(hub, pubs)
    assert_whole_post_once(pubs, delivery(hub))
    assert pubs.get("telegram").starts == [0, part]


async def test_a_second_refusal_after_resuming_resumes_again(hub, setup) -> None:
    pubs, _, _ = setup
    tg = pubs.get("telegram")
    tg.fail_calls[1] = PublishError(ErrorClass.RATE_LIMITED, "flood", retry_after=3)
    await run(hub, pubs)
    tg.fail_calls[2] = PublishError(ErrorClass.RATE_LIMITED, "flood", retry_after=3)
    hub.clock.advance(seconds=3)
    await run(hub, pubs)
    assert delivery(hub).parts_done == 2
    hub.clock.advance(seconds=3)
    await run(hub, pubs)
    assert_whole_post_once(pubs, delivery(hub))
    assert tg.starts == [0, 1, 2]


async def test_an_unknown_part_makes_the_delivery_unknown_with_the_parts_known(hub, setup) -> None:
    pubs, _, _ = setup
    pubs.get("telegram").fail_calls[1] = PublishError(ErrorClass.AMBIGUOUS, "timed out after sending")
    await run(hub, pubs)
    d = delivery(hub)
    assert d.state == "unknown" and d.parts_done == 1 and len(d.external_ids) == 1
    assert "partly posted" in d.last_error
    assert (await run(hub, pubs)).claimed == 0  # never retried blindly


async def test_a_publisher_that_cannot_resume_leaves_a_half_post_to_a_person(hub, setup) -> None:
    """An old publisher (no ``start_at``) refused midway: resending would double the first part."""
    pubs, _, _ = setup
    tg = pubs.get("telegram")
    tg.fail_calls[1] = PublishError(ErrorClass.RATE_LIMITED, "flood", retry_after=2)
    await run(hub, pubs)
    original = tg.publish

    async def publish_without_resume(post, target):
        return await original(post, target)

    tg.publish = publish_without_resume  # type: ignore[method-assign]
    hub.clock.advance(seconds=2)
    await run(hub, pubs)
    d = delivery(hub)
    assert d.state == "unknown" and d.parts_done == 1
    assert [call for _, _, call in tg.messages[CHAT]] == [0]  # nothing posted twice


async def _half_posted_then(hub, pubs, *refusals: PublishError) -> Delivery:
    """Part 0 goes out, part 1 is refused (a connect error: resumable), then every later attempt
    of the resumed post is refused again with ``refusals`` (one per attempt)."""
    pubs.get("telegram").fail_calls[1] = PublishError(ErrorClass.RETRYABLE, "connection refused")
    await run(hub, pubs)
    for refusal in refusals:
        d = delivery(hub)
        assert d.state in ("retry_wait", "pending") and d.parts_done == 1
        hub.clock.set(max(d.not_before or hub.clock.now(), hub.clock.now()) + timedelta(seconds=1))
        pubs.get("telegram").fail_next(refusal)
        await run(hub, pubs)
    return delivery(hub)


async def test_a_resumed_post_that_runs_out_of_attempts_goes_to_a_person_not_failed(hub, setup) -> None:
    """Half of the post is in front of residents: `failed` would hide that. It becomes `unknown`
    (a person is told) with which parts are out, and nothing is posted twice."""
    pubs, _, item_id = setup
    hub.settings.max_attempts = 2
    d = await _half_posted_then(hub, pubs, *(PublishError(ErrorClass.RETRYABLE, "connection refused")
                                             for _ in range(2)))
    messages = pubs.get("telegram").messages[CHAT]
    assert [call for _, _, call in messages] == [0]  # only the first part is out, once
    assert d.state == "unknown" and d.parts_done == 1 and d.external_ids == [messages[0][0]]
    assert d.last_error.startswith("half-posted: the first 1 part(s) of the post are on the platform")
    assert messages[0][0] in d.last_error and "gave up after 2 attempts" in d.last_error
    with hub.transaction() as s:
        assert s.get(NewsItem, item_id).status == "publishing"  # not failed: a person decides
        told = s.scalars(select(Notification).where(Notification.kind == "delivery_needs_person")).all()
        assert told and all(n.payload["state"] == "unknown" for n in told)
    assert (await run(hub, pubs)).claimed == 0  # never retried blindly


async def test_a_resumed_post_refused_for_good_goes_to_a_person_not_failed(hub, setup) -> None:
    pubs, _, _ = setup
    d = await _half_posted_then(hub, pubs, PublishError(ErrorClass.PERMANENT, "message is too long"))
    assert d.state == "unknown" and d.parts_done == 1
    assert "the platform refused the rest: message is too long" in d.last_error


async def test_a_person_finishes_a_half_posted_post_with_only_the_missing_parts(hub, setup) -> None:
    pubs, _, item_id = setup
    hub.settings.max_attempts = 1
    d = await _half_posted_then(hub, pubs, PublishError(ErrorClass.RETRYABLE, "connection refused"))
    assert d.state == "unknown"
    with hub.transaction() as s:
        admin = s.scalars(select(Member).where(Member.name == "ผู้ดูแลระบบ")).one()  # seed_network's admin
        resolution.resolve_unknown(s, d.id, posted=False, actor=load_actor(s, admin.id), now=hub.clock.now())
    await run(hub, pubs)
    assert_whole_post_once(pubs, delivery(hub))
    assert pubs.get("telegram").starts[-1] == 1  # resumed at the missing part
    with hub.transaction() as s:
        assert s.get(NewsItem, item_id).status == "published"


async def test_calls_that_posted_nothing_do_not_make_a_refused_post_half_posted(hub, setup) -> None:
    """Facebook's unpublished photo uploads count as calls done but leave nothing in front of
    residents: a permanent refusal after them is `failed`, not a half-post for a person."""
    pubs, _, _ = setup
    pubs.get("telegram").fail_next(PublishError(ErrorClass.PERMANENT, "photo rejected", completed_calls=1))
    await run(hub, pubs)
    d = delivery(hub)
    assert d.state == "failed" and d.external_ids == [] and not d.last_error.startswith("half-posted")
