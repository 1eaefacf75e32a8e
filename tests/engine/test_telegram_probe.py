"""Telegram unknowns settle themselves: the probe forwards the channel's ids after the last known
post into the hub's probe chat and reads the receipt marker (publishers/telegram_probe.py), through
the real publisher (python-telegram-bot) against the loopback fake, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from jobs.reconcile import reconcile_unknown
from network_hub.db.models import Delivery, Outlet
from platform_fakes.telegram import FakeTelegram
from publishers.registry import Publishers
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network

CHANNEL = -1001234567890
PROBE = 777000111


@pytest.fixture
async def tg(hub):
    hub.clock.set(datetime.now(UTC))
    async with FakeTelegram() as fake:
        fake.add_channel(CHANNEL, username="tambon_news")
        fake.add_private(PROBE)
        s = hub.settings
        s.telegram_bot_token = fake.token
        s.telegram_api_base_url, s.telegram_file_base_url = fake.base_url, fake.file_base_url
        s.telegram_probe_chat_id = str(PROBE)
        yield fake


@pytest.fixture
async def pubs(hub, tg):
    publishers = Publishers(hub.settings)
    yield publishers
    await publishers.aclose()


@pytest.fixture
def net(hub, tg):
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
        outlet = add_outlet(s, hub.clock.now(), platform="telegram", address=str(CHANNEL))
    return people, outlet.id


async def send_item(hub, pubs, people, outlet_id, body: str) -> int:
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), people.reporter.id, [s.get(Outlet, outlet_id)], body=body)
    await Dispatcher(hub, pubs, owner="w", rng=random.Random(1)).run_once()
    hub.clock.advance(seconds=1)
    return item.id


def delivery_of(hub, item_id: int) -> Delivery:
    with hub.transaction() as s:
        return s.scalar(select(Delivery).where(Delivery.item_id == item_id))


async def reconcile(hub, pubs) -> dict[str, int]:
    hub.clock.advance(seconds=11)  # past the short Telegram grace
    return await reconcile_unknown(hub, pubs)


def visible(tg: FakeTelegram, chat: int) -> list:
    return [m for m in tg.chat(chat).messages.values() if not m.deleted]


async def test_found_by_forwarding_becomes_sent_with_its_ids(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=True)  # the post exists, its answer is lost
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    assert delivery_of(hub, item_id).state == "unknown"
    assert await reconcile(hub, pubs) == {"found": 1, "absent": 0, "undecided": 0}
    d = delivery_of(hub, item_id)
    assert d.state == "sent" and d.external_ids == [str(tg.posts(CHANNEL)[-1].message_id)]
    assert tg.count(CHANNEL) == 2  # nothing sent again
    assert visible(tg, PROBE) == []  # the probe deleted what it forwarded


async def test_absent_past_the_end_is_sent_again_once(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=False)  # the request never took effect, the answer is lost
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    assert delivery_of(hub, item_id).state == "unknown"
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 1, "undecided": 0}
    assert delivery_of(hub, item_id).state == "pending"
    await Dispatcher(hub, pubs, owner="w", rng=random.Random(1)).run_once()
    assert delivery_of(hub, item_id).state == "sent"
    receipts = [m.text for m in tg.posts(CHANNEL)]
    assert len(receipts) == 2 and "ข่าวที่สองซึ่งไม่รู้ผล" in receipts[1]


async def test_an_unreadable_channel_leaves_it_with_a_person(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=True)
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    tg.chat(CHANNEL).bot_status = "left"
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 0, "undecided": 1}
    assert delivery_of(hub, item_id).state == "unknown"


async def test_someone_elses_message_after_the_last_post_leaves_it_with_a_person(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=False)
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    tg._new_message(tg.chat(CHANNEL), text="ประกาศจากแอดมินช่อง")  # posted by a person, no marker
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 0, "undecided": 1}
    assert delivery_of(hub, item_id).state == "unknown"


async def test_without_an_earlier_post_to_count_from_it_stays_with_a_person(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    tg.drop_next("sendMessage", commit=False)
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวแรกซึ่งไม่รู้ผล")  # nothing to count from
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 0, "undecided": 1}
    assert delivery_of(hub, item_id).state == "unknown"
