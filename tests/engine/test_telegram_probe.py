"""Telegram unknowns settle themselves: the probe forwards the channel's ids after the last known
post into the hub's probe chat and reads the receipt marker (publishers/telegram_probe.py), through
the real publisher (python-telegram-bot) against the loopback fake, on SQLite and PostgreSQL.
The probe's forwards and deletes are charged to the send ledger; a full window makes the
reconciler wait (a short wait) or defer its Telegram unknowns to the next pass."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from jobs.reconcile import reconcile_unknown
from network_hub.db.models import Delivery, Outlet, SendLedger
from network_hub.outbox import ledger
from platform_fakes.telegram import FakeTelegram
from publishers.registry import Publishers
from publishers.render import marker
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


async def reconcile(hub, pubs, **kwargs) -> dict[str, int]:
    hub.clock.advance(seconds=11)  # past the short Telegram grace
    return await reconcile_unknown(hub, pubs, **kwargs)


PROBE_SCOPE = f"telegram:chat:{PROBE}"


def probe_charges(hub) -> dict[str, list[tuple[int | None, int, bool]]]:
    """The probe's ledger rows (negative fences), by scope: (delivery id, messages, open)."""
    with hub.transaction() as s:
        rows = s.execute(select(SendLedger.scope, SendLedger.delivery_id, SendLedger.messages, SendLedger.open)
                         .where(SendLedger.fence < 0).order_by(SendLedger.id)).all()
    out: dict[str, list[tuple[int | None, int, bool]]] = {}
    for scope, delivery_id, messages, is_open in rows:
        out.setdefault(scope, []).append((delivery_id, messages, bool(is_open)))
    return out


def fill(hub, scope: str, messages: int, *, ago: float = 0.0) -> None:
    """Someone else's closed charge of ``messages`` to ``scope``, ``ago`` seconds before now."""
    at = hub.clock.now() - timedelta(seconds=ago)
    with hub.transaction() as s:
        ledger.charge_rows(s, [{"scope": scope, "at": at, "messages": messages, "delivery_id": 987654, "fence": 1}])
        ledger.close(s, [(987654, 1, at, None)])


def forwards_into_probe(tg: FakeTelegram) -> int:
    return len(tg.chat(PROBE).messages)  # deleted ones included: every forward that went through


def visible(tg: FakeTelegram, chat: int) -> list:
    return [m for m in tg.chat(chat).messages.values() if not m.deleted]


async def test_found_by_forwarding_becomes_sent_with_its_ids(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=True)  # the post exists, its answer is lost
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    assert delivery_of(hub, item_id).state == "unknown"
    assert await reconcile(hub, pubs) == {"found": 1, "absent": 0, "undecided": 0, "deferred": 0}
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
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 1, "undecided": 0, "deferred": 0}
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
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 0, "undecided": 1, "deferred": 0}
    assert delivery_of(hub, item_id).state == "unknown"


async def test_someone_elses_message_after_the_last_post_leaves_it_with_a_person(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=False)
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    tg._new_message(tg.chat(CHANNEL), text="ประกาศจากแอดมินช่อง")  # posted by a person, no marker
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 0, "undecided": 1, "deferred": 0}
    assert delivery_of(hub, item_id).state == "unknown"


async def test_without_an_earlier_post_to_count_from_it_stays_with_a_person(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    tg.drop_next("sendMessage", commit=False)
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวแรกซึ่งไม่รู้ผล")  # nothing to count from
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 0, "undecided": 1, "deferred": 0}
    assert delivery_of(hub, item_id).state == "unknown"


async def test_the_probes_forwards_and_deletes_are_charged_to_the_ledger(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=True)
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    delivery_id = delivery_of(hub, item_id).id
    assert await reconcile(hub, pubs) == {"found": 1, "absent": 0, "undecided": 0, "deferred": 0}
    attempts = len(tg.calls("forwardMessage"))
    assert attempts == 2 and forwards_into_probe(tg) == 1  # the post, then one id past the end
    charges = probe_charges(hub)
    # One message into the probe chat per forward; the forward and its delete against the bot.
    assert charges[PROBE_SCOPE] == [(delivery_id, 1, False)] * attempts
    assert charges[ledger.TELEGRAM_BOT_SCOPE] == [(delivery_id, 2, False)] * attempts
    with hub.transaction() as s:
        assert ledger.recent_messages(s, PROBE_SCOPE, hub.clock.now(), 60) == attempts


async def test_a_full_probe_chat_window_defers_every_telegram_unknown_to_the_next_pass(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=True)
    first = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    tg.drop_next("sendMessage", commit=True)
    second = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สามซึ่งไม่รู้ผล")
    hub.clock.advance(seconds=11)
    fill(hub, PROBE_SCOPE, hub.settings.telegram_chat_per_window)  # 20 a minute, all used just now
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    counts = await reconcile_unknown(hub, pubs, sleep=sleep)
    assert counts == {"found": 0, "absent": 0, "undecided": 0, "deferred": 2}
    assert waits == [] and tg.calls("forwardMessage") == []  # not a single call: the window is full
    assert probe_charges(hub) == {}
    assert {delivery_of(hub, first).state, delivery_of(hub, second).state} == {"unknown"}
    hub.clock.advance(seconds=61)  # the window has room again
    counts = await reconcile_unknown(hub, pubs, sleep=sleep)
    assert counts == {"found": 2, "absent": 0, "undecided": 0, "deferred": 0}
    assert tg.count(CHANNEL) == 3  # nothing sent again


async def test_a_nearly_full_bot_window_makes_the_probe_wait_then_read(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=True)
    item_id = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    hub.clock.advance(seconds=11)
    start = hub.clock.now()
    fill(hub, ledger.TELEGRAM_BOT_SCOPE, 29, ago=0.5)  # 30 a second: one call left, a forward needs two
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the fake clock moves as the reconciler waits
        waits.append(seconds)
        hub.clock.advance(seconds=seconds)

    counts = await reconcile_unknown(hub, pubs, sleep=sleep)
    assert counts == {"found": 1, "absent": 0, "undecided": 0, "deferred": 0}
    assert delivery_of(hub, item_id).state == "sent"
    # The 29 calls leave the bot's window (one second and its slack) 0.5 s after the pass began.
    room = start - timedelta(seconds=0.5) + timedelta(seconds=1 + min(hub.settings.rate_window_slack_s, 0.05))
    assert waits == [(room - start).total_seconds()]
    with hub.transaction() as s:
        first_charge = s.scalar(select(SendLedger.at).where(SendLedger.scope == ledger.TELEGRAM_BOT_SCOPE,
                                                            SendLedger.fence < 0).order_by(SendLedger.id).limit(1))
    assert first_charge is not None and first_charge >= room


async def test_a_429_while_probing_defers_and_settles_nothing(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    await send_item(hub, pubs, people, outlet_id, "ข่าวแรกที่ส่งสำเร็จ")
    tg.drop_next("sendMessage", commit=True)
    first = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สองซึ่งไม่รู้ผล")
    tg.drop_next("sendMessage", commit=True)
    second = await send_item(hub, pubs, people, outlet_id, "ข่าวที่สามซึ่งไม่รู้ผล")
    tg.fail_next("forwardMessage", error_code=429, description="Too Many Requests: retry after 7", retry_after=7)
    counts = await reconcile(hub, pubs)
    assert counts == {"found": 0, "absent": 0, "undecided": 0, "deferred": 2}
    assert len(tg.calls("forwardMessage")) == 1  # the second unknown was not probed into the 429
    assert {delivery_of(hub, first).state, delivery_of(hub, second).state} == {"unknown"}
    assert await reconcile(hub, pubs) == {"found": 2, "absent": 0, "undecided": 0, "deferred": 0}


# -- overlapping sends: rows and channel messages as the engine leaves them -------------------------
# Message ids follow the order messages reached Telegram, not the order sends started; a multi-part
# post carries its marker in its last part only (publishers/render.py).


def placed(hub, people, outlet_id, rows: list[tuple[str, list[int], float, float | None]]) -> list[tuple[int, str]]:
    """Items whose deliveries are (state, known ids, sending started, ids known at: seconds before
    now); their (item id, receipt)."""
    now = hub.clock.now()
    out = []
    with hub.transaction() as s:
        outlet = s.get(Outlet, outlet_id)
        for state, ids, started, known in rows:
            item = add_approved_item(s, now, people.reporter.id, [outlet])
            d = s.scalar(select(Delivery).where(Delivery.item_id == item.id))
            d.state, d.external_ids = state, [str(i) for i in ids]
            d.sending_started_at = d.updated_at = now - timedelta(seconds=started)
            d.sent_at = now - timedelta(seconds=known) if known is not None else None
            out.append((item.id, item.receipt_no))
    return out


def post(tg: FakeTelegram, text: str) -> int:
    return tg._new_message(tg.chat(CHANNEL), text=text).message_id


async def test_a_multipart_post_after_another_unknowns_multipart_post_takes_only_its_own_parts(
        hub, tg, pubs, net) -> None:
    people, outlet_id = net
    (_, a), (q_item, q), (p_item, p), (_, r) = placed(hub, people, outlet_id, [
        ("sent", [1], 60, 59), ("unknown", [], 30, None), ("unknown", [], 29, None), ("sent", [5], 28, 20)])
    assert post(tg, f"ข่าวเอ\n{marker(a)}") == 1
    assert post(tg, "ข่าวคิว ตอนที่ 1") == 2
    assert post(tg, f"ข่าวคิว ตอนที่ 2\n{marker(q)}") == 3
    assert post(tg, "ข่าวพี ตอนที่ 1") == 4
    assert post(tg, f"ข่าวอาร์\n{marker(r)}") == 5  # known, landed between P's parts
    assert post(tg, f"ข่าวพี ตอนที่ 2\n{marker(p)}") == 6
    assert await reconcile(hub, pubs) == {"found": 2, "absent": 0, "undecided": 0, "deferred": 0}
    assert (delivery_of(hub, q_item).state, delivery_of(hub, q_item).external_ids) == ("sent", ["2", "3"])
    assert (delivery_of(hub, p_item).state, delivery_of(hub, p_item).external_ids) == ("sent", ["4", "6"])
    assert tg.count(CHANNEL) == 6  # nothing sent again
    forwarded = {int(c.params["message_id"]) for c in tg.calls("forwardMessage")}
    assert 1 not in forwarded and 5 not in forwarded  # the lower bound and R's known id are never read


async def test_a_foreign_unmarked_message_among_other_posts_leaves_it_with_a_person(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    (_, a), (p_item, _p), (q_item, q) = placed(hub, people, outlet_id, [
        ("sent", [1], 60, 59), ("unknown", [], 30, None), ("unknown", [], 29, None)])
    post(tg, f"ข่าวเอ\n{marker(a)}")
    post(tg, f"ข่าวคิว\n{marker(q)}")  # P never reached the channel ...
    post(tg, "ประกาศจากแอดมินช่อง")  # ... but a person posted: P cannot be called absent
    assert await reconcile(hub, pubs) == {"found": 1, "absent": 0, "undecided": 1, "deferred": 0}
    assert delivery_of(hub, p_item).state == "unknown"
    assert (delivery_of(hub, q_item).state, delivery_of(hub, q_item).external_ids) == ("sent", ["2"])
    assert tg.count(CHANNEL) == 3


async def test_absent_only_once_every_message_there_is_surely_another_posts(hub, tg, pubs, net) -> None:
    people, outlet_id = net
    (_, a), (p_item, _p), (q_item, q), (_, r) = placed(hub, people, outlet_id, [
        ("sent", [1], 60, 59), ("unknown", [], 30, None), ("unknown", [], 29, None), ("sent", [4], 28, 20)])
    post(tg, f"ข่าวเอ\n{marker(a)}")
    post(tg, "ข่าวคิว ตอนที่ 1")  # P never reached the channel; Q has two parts, then R
    post(tg, f"ข่าวคิว ตอนที่ 2\n{marker(q)}")
    post(tg, f"ข่าวอาร์\n{marker(r)}")
    # The unmarked part before Q's marker is not P's, but it might have been P's lone first part:
    # no "absent" on it. Q is found.
    assert await reconcile(hub, pubs) == {"found": 1, "absent": 0, "undecided": 1, "deferred": 0}
    assert delivery_of(hub, p_item).state == "unknown"
    assert delivery_of(hub, q_item).external_ids == ["2", "3"]
    # A later pass (the probe chat's minute window has room again): Q's ids are known and passed
    # over, every message there is another post's, the scan went past the end → absent.
    hub.clock.advance(seconds=61)
    assert await reconcile(hub, pubs) == {"found": 0, "absent": 1, "undecided": 0, "deferred": 0}
    assert delivery_of(hub, p_item).state == "pending"
