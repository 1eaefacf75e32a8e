"""The delivery engine through the real publishers (python-telegram-bot, facebook-sdk) against the
loopback fakes: platform faults end in the right states, nothing lost, nothing posted twice."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from jobs.dispatch import Dispatcher
from jobs.reconcile import reconcile_unknown
from network_hub.db.models import Delivery, Notification, Outlet
from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeTelegram
from publishers.registry import Publishers
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network

CHANNEL = -1001234567890
PAGE = "104857600123"


@pytest.fixture
async def fakes(hub, monkeypatch):
    # Facebook reconciliation compares our clock with the platform's: keep them the same.
    hub.clock.set(datetime.now(UTC))
    async with FakeTelegram() as tg, FakeFacebook() as fb:
        tg.add_channel(CHANNEL, username="tambon_news")
        fb.add_page(PAGE)
        monkeypatch.setenv("HUB_TEST_PAGE_TOKEN", fb.issue_token(PAGE))
        s = hub.settings
        s.telegram_bot_token = tg.token
        s.telegram_api_base_url, s.telegram_file_base_url = tg.base_url, tg.file_base_url
        s.facebook_graph_url = fb.graph_url
        pubs = Publishers(s)
        yield tg, fb, pubs
        await pubs.aclose()


@pytest.fixture
def net(hub):
    with hub.transaction() as s:
        people = seed_network(s, hub.clock.now())
        tg = add_outlet(s, hub.clock.now(), platform="telegram", address=str(CHANNEL), name="ช่องข่าวตำบล")
        fb = add_outlet(s, hub.clock.now(), platform="facebook", address=PAGE, name="เพจข่าวตำบล")
        s.get(Outlet, fb.id).token_env = "HUB_TEST_PAGE_TOKEN"
    return people, tg.id, fb.id


def dispatcher(hub, pubs, owner: str = "w1") -> Dispatcher:
    return Dispatcher(hub, pubs, owner=owner, rng=random.Random(1))


def states(hub) -> dict[int, str]:
    with hub.transaction() as s:
        return {d.outlet_id: d.state for d in s.scalars(select(Delivery))}


def add_item(hub, people, outlet_ids: list[int], body: str = "ประชุมประจำเดือน หมู่ที่ 1"):
    with hub.transaction() as s:
        outlets = [s.get(Outlet, i) for i in outlet_ids]
        return add_approved_item(s, hub.clock.now(), people.reporter.id, outlets, body=body)


async def test_both_platforms_get_exactly_one_post_with_the_receipt_marker(hub, net, fakes) -> None:
    tg, fb, pubs = fakes
    people, tg_id, fb_id = net
    item = add_item(hub, people, [tg_id, fb_id])
    await dispatcher(hub, pubs).run_once()
    await dispatcher(hub, pubs).run_once()
    assert states(hub) == {tg_id: "sent", fb_id: "sent"}
    assert tg.count(CHANNEL) == 1 and fb.count(PAGE) == 1
    assert item.receipt_no in tg.posts(CHANNEL)[0].text
    assert item.receipt_no in fb.posts(PAGE)[0].message


async def test_429_on_one_process_blocks_the_channel_for_every_process(hub, net, fakes) -> None:
    tg, _fb, pubs = fakes
    people, tg_id, _ = net
    add_item(hub, people, [tg_id])
    tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 30", retry_after=30)
    await dispatcher(hub, pubs, "p1").run_once()
    with hub.transaction() as s:
        d = s.scalar(select(Delivery))
        assert d.state == "pending" and d.attempts == 0
        assert s.get(Outlet, tg_id).blocked_until == hub.clock.now() + timedelta(seconds=30)
    assert (await dispatcher(hub, pubs, "p2").run_once()).claimed == 0
    hub.clock.advance(seconds=31)
    await dispatcher(hub, pubs, "p2").run_once()
    assert states(hub)[tg_id] == "sent" and tg.count(CHANNEL) == 1


async def test_facebook_5xx_is_retried_and_posts_once(hub, net, fakes) -> None:
    _tg, fb, pubs = fakes
    people, _, fb_id = net
    add_item(hub, people, [fb_id])
    fb.fail_next("feed", code=2, message="Service temporarily unavailable", is_transient=True)
    await dispatcher(hub, pubs).run_once()
    assert states(hub)[fb_id] == "retry_wait"
    hub.clock.advance(hours=1)
    await dispatcher(hub, pubs).run_once()
    assert states(hub)[fb_id] == "sent" and fb.count(PAGE) == 1


async def test_telegram_commit_then_drop_is_unknown_and_never_resent(hub, net, fakes) -> None:
    tg, _fb, pubs = fakes
    people, tg_id, _ = net
    add_item(hub, people, [tg_id])
    tg.drop_next("sendMessage", commit=True)
    await dispatcher(hub, pubs).run_once()
    hub.clock.advance(hours=3)
    await dispatcher(hub, pubs).run_once()
    await reconcile_unknown(hub, pubs)
    assert states(hub)[tg_id] == "unknown"
    assert tg.count(CHANNEL) == 1  # posted once; the hub waits for a person
    with hub.transaction() as s:
        told = s.scalars(select(Notification.member_id).where(Notification.kind == "delivery_needs_person")).all()
    assert people.moderator.id in told


async def test_facebook_commit_then_drop_is_reconciled_by_the_marker(hub, net, fakes) -> None:
    _tg, fb, pubs = fakes
    people, _, fb_id = net
    add_item(hub, people, [fb_id])
    fb.drop_next("feed", commit=True)
    await dispatcher(hub, pubs).run_once()
    assert states(hub)[fb_id] == "unknown"
    hub.clock.advance(minutes=3)
    counts = await reconcile_unknown(hub, pubs)
    assert counts["found"] == 1
    assert states(hub)[fb_id] == "sent"
    await dispatcher(hub, pubs).run_once()
    assert fb.count(PAGE) == 1
    with hub.transaction() as s:
        assert s.scalar(select(Delivery.external_ids)) == [fb.posts(PAGE)[0].id]


async def test_facebook_drop_before_commit_is_found_absent_and_sent_once(hub, net, fakes) -> None:
    _tg, fb, pubs = fakes
    people, _, fb_id = net
    add_item(hub, people, [fb_id])
    fb.drop_next("feed", commit=False)
    await dispatcher(hub, pubs).run_once()
    hub.clock.advance(minutes=3)
    assert (await reconcile_unknown(hub, pubs))["absent"] == 1
    await dispatcher(hub, pubs).run_once()
    assert states(hub)[fb_id] == "sent" and fb.count(PAGE) == 1


async def test_revoked_page_token_pauses_the_outlet_and_tells_the_admin(hub, net, fakes, monkeypatch) -> None:
    _tg, fb, pubs = fakes
    people, _, fb_id = net
    add_item(hub, people, [fb_id])
    import os

    fb.set_token_state(os.environ["HUB_TEST_PAGE_TOKEN"], "expired")
    await dispatcher(hub, pubs).run_once()
    with hub.transaction() as s:
        outlet = s.get(Outlet, fb_id)
        assert outlet.status == "paused"
        assert s.scalar(select(Delivery.state)) == "pending"
        admin_kinds = s.scalars(select(Notification.kind).where(Notification.member_id == people.admin.id)).all()
    assert "outlet_needs_human" in admin_kinds
    # The admin puts a new token in place and resumes: the post goes out once.
    monkeypatch.setenv("HUB_TEST_PAGE_TOKEN", fb.issue_token(PAGE))
    with hub.transaction() as s:
        s.get(Outlet, fb_id).status = "active"
    await dispatcher(hub, pubs).run_once()
    assert states(hub)[fb_id] == "sent" and fb.count(PAGE) == 1


async def test_bot_removed_from_channel_pauses_the_outlet(hub, net, fakes) -> None:
    tg, _fb, pubs = fakes
    people, tg_id, _ = net
    add_item(hub, people, [tg_id])
    tg.set_bot_rights(CHANNEL, status="left", can_post_messages=False)
    await dispatcher(hub, pubs).run_once()
    with hub.transaction() as s:
        assert s.get(Outlet, tg_id).status == "paused"
        assert s.scalar(select(Delivery.state)) == "pending"
    assert tg.count(CHANNEL) == 0


async def test_migrated_group_moves_the_outlet_and_posts_there_once(hub, net, fakes) -> None:
    tg, _fb, pubs = fakes
    people, _, _ = net
    tg.add_group(-4001, supergroup=False)
    tg.set_bot_rights(-4001, status="administrator")
    tg.migrate_chat(-4001, -1004001)
    with hub.transaction() as s:
        group = add_outlet(s, hub.clock.now(), platform="telegram", address="-4001", name="กลุ่มข่าว")
    add_item(hub, people, [group.id])
    await dispatcher(hub, pubs).run_once()
    await dispatcher(hub, pubs).run_once()
    with hub.transaction() as s:
        assert s.get(Outlet, group.id).address == "-1004001"
    assert states(hub)[group.id] == "sent"
    assert tg.count(-1004001) == 1


async def test_long_thai_text_with_album_goes_out_complete(hub, net, fakes, tmp_path) -> None:
    from io import BytesIO

    from PIL import Image

    from network_hub.db.models import Photo

    tg, fb, pubs = fakes
    people, tg_id, fb_id = net
    body = "ข่าวดีจากตำบลสารสนเทศต้นแบบ " * 400  # ~11,600 UTF-16 units: several Telegram messages
    item = add_item(hub, people, [tg_id, fb_id], body=body)
    media = hub.settings.resolved_media_dir
    media.mkdir(parents=True, exist_ok=True)
    with hub.transaction() as s:
        for pos in range(3):
            buf = BytesIO()
            Image.new("RGB", (64, 48), (pos * 60, 120, 200)).save(buf, "JPEG")
            (media / f"p{pos}.jpg").write_bytes(buf.getvalue())
            s.add(Photo(item_id=item.id, position=pos, sha256=f"{pos:064d}", path=f"p{pos}.jpg", width=64,
                        height=48, size_bytes=len(buf.getvalue()), created_at=hub.clock.now()))
    await dispatcher(hub, pubs).run_once()
    assert states(hub) == {tg_id: "sent", fb_id: "sent"}
    posted = tg.posts(CHANNEL)
    text = "".join((m.text or "") + (m.caption or "") for m in posted)
    phrase = "ข่าวดีจากตำบลสารสนเทศต้นแบบ"
    # every word of the body exactly once: the title (a prefix of the body, issue 12) is not printed above it
    assert text.count(phrase) == 400
    assert sum(1 for m in posted if m.photo) == 3
    with hub.transaction() as s:
        assert len(s.scalar(select(Delivery.external_ids).where(Delivery.outlet_id == tg_id))) == len(posted)
        assert all(p.telegram_file_id for p in s.scalars(select(Photo)))
    assert len(fb.photos(PAGE)) == 3 and fb.count(PAGE) == 1
