""""แชร์ไปยัง LINE" on published items: the dashboard item page and the public item page."""

from __future__ import annotations

from urllib.parse import unquote

from sqlalchemy import select

from network_hub.db.models import NewsItem
from network_hub.line.share import SHARE_BASE, share_text, share_url
from tests.web.conftest import (  # noqa: F401 (fixtures)
    approve_and_dispatch,
    client,
    password_hash,
    signed_in,
    world,
)


def test_share_text_is_title_excerpt_and_page() -> None:
    body = "งานบุญประจำปี " + "ชาวบ้านร่วมกันทำบุญตักบาตร " * 30
    text = share_text("งานบุญประจำปี", body, "https://hub.example.test/news/N-1")
    title, excerpt, page = text.split("\n")
    assert title == "งานบุญประจำปี" and page == "https://hub.example.test/news/N-1"
    assert excerpt.endswith("…") and len(excerpt) <= 181 and not excerpt.startswith("งานบุญประจำปี")
    url = share_url("ข่าว", "เนื้อหา & ลิงก์", "https://hub.example.test/news/N-1")
    assert url.startswith(SHARE_BASE) and "&" not in url[len(SHARE_BASE):] and " " not in url
    assert unquote(url[len(SHARE_BASE):]) == "ข่าว\nเนื้อหา & ลิงก์\nhttps://hub.example.test/news/N-1"


def test_published_items_offer_a_line_share_link_and_unpublished_ones_do_not(world, client, signed_in) -> None:  # noqa: F811
    item_id = world.submit("ตลาดนัดชุมชนเปิดทุกวันเสาร์ ที่ลานวัด")
    moderator = signed_in("moderator")
    assert "line.me/R/share" not in moderator.get(f"/items/{item_id}").text
    approve_and_dispatch(world, item_id)
    with world.hub.transaction() as s:
        item = s.scalars(select(NewsItem).where(NewsItem.id == item_id)).one()
        receipt, status = item.receipt_no, item.status
    assert status == "published"
    page = moderator.get(f"/items/{item_id}").text
    assert "แชร์ไปยัง LINE" in page and f"/news/{receipt}/line-share" in page
    public = client.get(f"/news/{receipt}")
    assert public.status_code == 200 and "แชร์ไปยัง LINE" in public.text
    assert f"/news/{receipt}/line-share" in public.text
    # the hub counts the tap, then hands over to LINE's share screen with the item's public page
    jump = client.get(f"/news/{receipt}/line-share")
    assert jump.status_code == 303 and jump.headers["location"].startswith("https://line.me/R/share?text=")
    assert f"news%2F{receipt}" in jump.headers["location"]
    client.get(f"/news/{receipt}/line-share")
    from network_hub.db.models import KeyValue

    with world.hub.transaction() as s:
        assert s.get(KeyValue, ("line_shares", receipt)).value == {"count": 2}
    assert client.get("/news/N-0000-000000/line-share").status_code == 404


def test_photos_of_an_item_still_going_out_are_served_for_line_to_fetch(world, client) -> None:  # noqa: F811
    import io

    from PIL import Image

    from network_hub.db.models import Photo
    from network_hub.newsroom.photos import PhotoInput
    from network_hub.newsroom.submission import submit_item
    from network_hub.permissions import load_actor

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 40)).save(out, "JPEG")
    with world.hub.transaction() as s:
        item = submit_item(s, actor=load_actor(s, world.people.reporter.id), author_id=world.people.reporter.id,
                           village_code="52010101", category="event", body="ภาพงานวัด",
                           photos=[PhotoInput(data=out.getvalue())], now=world.hub.clock.now(),
                           media_dir=world.hub.settings.resolved_media_dir)
        path = s.scalars(select(Photo.path).where(Photo.item_id == item.id)).one()
        item_id = item.id
    assert client.get(f"/media/{path}").status_code == 404  # submitted, not approved: not public
    with world.hub.transaction() as s:
        s.get(NewsItem, item_id).status = "publishing"
    assert client.get(f"/media/{path}").status_code == 200


def test_outlets_page_shows_line_use_and_a_quota_hold_in_thai(world, signed_in) -> None:  # noqa: F811
    from datetime import timedelta

    from network_hub.db.models import LineGroup, Outlet

    now = world.hub.clock.now()
    with world.hub.transaction() as s:
        s.add(LineGroup(bot_user_id="U" + "0" * 32, group_id="C" + "1" * 32, name="กลุ่มหมู่ 1", member_count=150,
                        joined_at=now, updated_at=now))
        s.add(Outlet(platform="line", name="LINE กลุ่มหมู่ 1", area_code="520101", address="C" + "1" * 32,
                     status="active", min_interval_s=1.0, created_at=now, updated_at=now,
                     blocked_until=now + timedelta(days=20),
                     blocked_reason="rate limited by the platform: โควตาข้อความ LINE เดือนนี้ไม่พอ: this post costs 150"))
    page = signed_in("coordinator").get("/outlets").text
    assert "LINE เดือนนี้: 0 โพสต์ ≈ 0 ข้อความ" in page
    assert "โควตาข้อความ LINE เดือนนี้ไม่พอ ข่าวรอส่งเดือนหน้า" in page


def test_the_weekly_digest_lists_the_items_shared_least(world) -> None:  # noqa: F811
    from datetime import timedelta

    from network_hub.bot.notifier import render_notification
    from network_hub.followup.planner import digest_payload
    from network_hub.line.share import record_share

    ids = [world.submit(f"ข่าวที่ {n} <b>ตัวหนา</b>") for n in range(3)]
    for item_id in ids:
        approve_and_dispatch(world, item_id)
    now = world.hub.clock.now()
    with world.hub.transaction() as s:
        receipts = [s.get(NewsItem, i).receipt_no for i in ids]
        for _ in range(3):
            record_share(s, receipts[0], now)
        record_share(s, receipts[2], now)
        payload = digest_payload(s, "5201", now - timedelta(days=7), now + timedelta(minutes=1))
    least = payload["least_shared_on_line"]
    assert [e["receipt_no"] for e in least] == [receipts[1], receipts[2], receipts[0]]
    assert [e["shares"] for e in least] == [0, 1, 3]
    text, _ = render_notification("digest", payload, "th")
    assert "แชร์ไปยัง LINE น้อยที่สุด" in text and receipts[1] in text and "<b>" not in text
