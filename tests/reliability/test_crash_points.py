"""SIGKILL at each point of a delivery, in a real ``network-hub dispatch --once`` process, on SQLite
and PostgreSQL: nothing lost, no row posted twice, every ``sent`` row has exactly one post on the
fake platform, every ``unknown`` is surfaced to a person, a withdrawn item is not posted."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from jobs.sweeps import sweep_leases
from network_hub.db.models import Delivery, NewsItem, Notification, Outlet
from network_hub.outbox.resolution import resolve_unknown
from network_hub.permissions import load_actor
from platform_fakes.telegram import FakeTelegram
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network
from tests.reliability.procs import hub_env, network_hub, subprocess_db_url

CHANNEL = -1009876543210


@pytest.fixture
def world(hub, db_url_and_schema):
    hub.clock.set(datetime.now(UTC) - timedelta(seconds=5))
    tg = FakeTelegram().start_in_thread()
    tg.add_channel(CHANNEL, username="crash_news")
    s = hub.settings
    s.telegram_bot_token = tg.token
    s.telegram_api_base_url, s.telegram_file_base_url = tg.base_url, tg.file_base_url
    with hub.transaction() as ses:
        people = seed_network(ses, hub.clock.now())
        outlet = add_outlet(ses, hub.clock.now(), platform="telegram", address=str(CHANNEL))
        item = add_approved_item(ses, hub.clock.now(), people.reporter.id, [ses.get(Outlet, outlet.id)],
                                 body="ข่าวทดสอบการหยุดกลางคัน")
    url, schema = db_url_and_schema
    yield hub, tg, people, item, hub_env(s, subprocess_db_url(url, schema))
    tg.stop_thread()


def delivery(hub) -> Delivery:
    with hub.transaction() as s:
        return s.scalar(select(Delivery))


def killed_at(point: str, env: dict[str, str]) -> None:
    result = network_hub("dispatch", "--once", env={**env, "HUB_CRASH_AT": point})
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]


def sweep_after_lease(hub) -> None:
    hub.clock.set(datetime.now(UTC) + timedelta(seconds=11))  # the dead worker's 10 s lease is over
    with hub.transaction() as s:
        sweep_leases(s, hub.clock.now())


def dispatch_again(env: dict[str, str]) -> None:
    result = network_hub("dispatch", "--once", env=env)
    assert result.returncode == 0, result.stderr[-2000:]


def test_killed_after_claim_is_sent_once_later(world) -> None:
    hub, tg, _people, _item, env = world
    killed_at("after_claim", env)
    assert delivery(hub).state == "claimed" and tg.count(CHANNEL) == 0
    sweep_after_lease(hub)
    assert delivery(hub).state == "pending"
    dispatch_again(env)
    assert delivery(hub).state == "sent" and tg.count(CHANNEL) == 1


def test_killed_after_sending_began_is_unknown_and_surfaced(world) -> None:
    hub, tg, people, _item, env = world
    killed_at("after_sending", env)
    sweep_after_lease(hub)
    assert delivery(hub).state == "unknown"
    dispatch_again(env)
    assert tg.count(CHANNEL) == 0  # never retried blindly
    delivery_id = delivery(hub).id
    hub.clock.set(datetime.now(UTC) - timedelta(seconds=1))  # the next process runs on the real clock
    with hub.transaction() as s:
        assert people.moderator.id in s.scalars(
            select(Notification.member_id).where(Notification.kind == "delivery_needs_person")).all()
        resolve_unknown(s, delivery_id, posted=False, actor=load_actor(s, people.moderator.id),
                        now=hub.clock.now())
    dispatch_again(env)
    assert delivery(hub).state == "sent" and tg.count(CHANNEL) == 1


def test_killed_after_the_platform_accepted_is_unknown_never_doubled(world) -> None:
    hub, tg, people, _item, env = world
    killed_at("after_platform_accepted", env)
    assert tg.count(CHANNEL) == 1
    sweep_after_lease(hub)
    dispatch_again(env)
    assert delivery(hub).state == "unknown" and tg.count(CHANNEL) == 1
    delivery_id = delivery(hub).id
    with hub.transaction() as s:
        resolve_unknown(s, delivery_id, posted=True, actor=load_actor(s, people.moderator.id),
                        now=hub.clock.now())
    dispatch_again(env)
    assert delivery(hub).state == "sent" and tg.count(CHANNEL) == 1


def test_killed_after_sent_stays_sent(world) -> None:
    hub, tg, _people, item, env = world
    killed_at("after_sent", env)
    sweep_after_lease(hub)
    dispatch_again(env)
    d = delivery(hub)
    assert d.state == "sent" and tg.count(CHANNEL) == 1
    assert d.external_ids == [str(tg.posts(CHANNEL)[0].message_id)]
    with hub.transaction() as s:
        assert s.get(NewsItem, item.id).status == "published"


def test_item_withdrawn_while_its_worker_was_dead_is_not_posted(world) -> None:
    hub, tg, _people, item, env = world
    killed_at("after_claim", env)
    with hub.transaction() as s:
        s.get(NewsItem, item.id).status = "withdrawn"
    sweep_after_lease(hub)
    dispatch_again(env)
    assert delivery(hub).state in ("pending", "cancelled")
    assert tg.count(CHANNEL) == 0
