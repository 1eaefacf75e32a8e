"""Routing (area chain, categories, paused outlets), listings by permission, the queue, events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from network_hub.db.models import Outlet
from network_hub.errors import InvalidInput, NotFound, PermissionDenied
from network_hub.newsroom import events, moderation
from network_hub.newsroom.queries import (
    get_item,
    item_deliveries,
    item_history,
    item_to_dict,
    list_items,
    pdpa_evidence,
    pending_queue,
)
from network_hub.newsroom.routing import route
from network_hub.permissions import load_actor
from tests.newsroom.conftest import Newsroom, add_outlet


def test_routing_follows_the_area_chain_and_categories(newsroom: Newsroom) -> None:
    now = newsroom.now
    with newsroom.hub.transaction() as s:
        s.execute(delete(Outlet))
        village = add_outlet(s, now, "52010101", name="village")
        tambon = add_outlet(s, now, "520101", name="tambon")
        district = add_outlet(s, now, "5201", name="district", categories=["event", "announcement"])
        province = add_outlet(s, now, "52", name="province paused", status="paused")
        country = add_outlet(s, now, "TH", name="national products", categories=["local_product"])
        add_outlet(s, now, "52010102", name="neighbour village")
        add_outlet(s, now, "520102", name="other tambon")
        add_outlet(s, now, "50", name="Chiang Mai")
        event_item = newsroom.submit(s, category="event")
        product_item = newsroom.submit(s, category="local_product")
        assert route(s, event_item) == [village, tambon, district, province]
        assert route(s, product_item) == [village, tambon, province, country]


def test_an_approved_item_gets_one_pending_delivery_per_routed_outlet_even_paused(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        s.execute(delete(Outlet))
        active = add_outlet(s, newsroom.now, "520101")
        paused = add_outlet(s, newsroom.now, "52", status="paused")
        item = newsroom.submit(s)
        deliveries = moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
        assert [(d.outlet_id, d.state, d.due_at) for d in deliveries] == [
            (active.id, "pending", newsroom.now), (paused.id, "pending", newsroom.now)]
        assert [d["outlet_id"] for d in item_deliveries(s, item.id)] == [active.id, paused.id]


def test_listings_show_each_actor_what_permissions_allow(newsroom: Newsroom) -> None:
    p = newsroom.people
    with newsroom.hub.transaction() as s:
        mine = newsroom.submit(s)  # reporter, village 52010101
        other = newsroom.submit(s, author=p.reporter2.id, village="52010102")
        far = newsroom.submit(s, author=p.admin.id, village="50010101")
        ids = lambda member: {i.id for i in list_items(s, actor=load_actor(s, member.id))}  # noqa: E731
        assert ids(p.reporter) == {mine.id}
        assert ids(p.reporter2) == {other.id}
        assert ids(p.moderator) == ids(p.coordinator) == {mine.id, other.id}
        assert ids(p.outsider) == {far.id}
        assert ids(p.admin) == {mine.id, other.id, far.id}
        assert {i.id for i in list_items(s)} == {mine.id, other.id, far.id}
        assert {i.id for i in list_items(s, area="520101")} == {mine.id, other.id}
        assert {i.id for i in list_items(s, status="approved")} == set()


def test_pending_queue_excludes_own_items_and_other_areas(newsroom: Newsroom) -> None:
    p = newsroom.people
    with newsroom.hub.transaction() as s:
        first = newsroom.submit(s)
        own = newsroom.submit(s, author=p.moderator.id)
        newsroom.hub.clock.advance(minutes=5)
        second = newsroom.submit(s, author=p.reporter2.id, village="52010102")
        newsroom.submit(s, author=p.admin.id, village="50010101")
        assert [i.id for i in pending_queue(s, load_actor(s, p.moderator.id))] == [first.id, second.id]
        assert own.id in [i.id for i in pending_queue(s, load_actor(s, p.admin.id))]
        assert pending_queue(s, load_actor(s, p.coordinator.id)) == []
        assert pending_queue(s, load_actor(s, p.reporter.id)) == []


def test_get_item_by_id_or_receipt_and_view_permission(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s)
        assert get_item(s, item.id) is item
        assert get_item(s, item.receipt_no.lower()) is item
        assert get_item(s, item.receipt_no.replace("-", " ").replace(" 00000", " ")) is item
        with pytest.raises(NotFound):
            get_item(s, item.receipt_no.replace("2569", "2568"))
        with pytest.raises(InvalidInput, match="not a status"):
            list_items(s, status="done")
        assert get_item(s, item.id, actor=load_actor(s, newsroom.people.reporter.id)) is item
        with pytest.raises(PermissionDenied):
            get_item(s, item.id, actor=load_actor(s, newsroom.people.outsider.id))
        with pytest.raises(NotFound):
            get_item(s, 999_999)


def test_item_to_dict_and_history(newsroom: Newsroom) -> None:
    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, body="ด.ญ.มะลิ ได้รางวัล")
        moderation.approve_item(s, item.id, actor=newsroom.moderator(s), confirm_pdpa=True,
                                at=newsroom.now + timedelta(hours=2), now=newsroom.now)
        data = item_to_dict(item)
        history = item_history(s, item.id)
        evidence = pdpa_evidence(item)
    # The title is the body's first line: the child title is shown once, where it is in the body.
    assert [(e["flag"], e["field"], e["evidence"], e["start"]) for e in evidence] == [("minor", "body", "ด.ญ.", 0)]
    for key in ("id", "receipt_no", "status", "village", "category", "author", "title", "pdpa_flags",
                "scheduled_at", "version", "photos", "submitted_at"):
        assert key in data
    assert data["status"] == "scheduled" and data["pdpa_flags"] == ["minor"] and data["village"] == "52010101"
    assert data["scheduled_at"] == (newsroom.now + timedelta(hours=2)).isoformat()
    assert [h["action"] for h in history] == ["news.submit", "news.approve"]
    assert history[1]["before"]["status"] == "submitted" and history[1]["after"]["status"] == "scheduled"


def test_approval_signals_the_engine_only_after_commit(newsroom: Newsroom) -> None:
    woken: list[int] = []
    events.on_item_approved(woken.append)
    try:
        with newsroom.hub.transaction() as s:
            item = newsroom.submit(s)
        with pytest.raises(RuntimeError), newsroom.hub.transaction() as s:
            moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
            raise RuntimeError("rolled back")
        assert woken == []
        with newsroom.hub.transaction() as s:
            moderation.approve_item(s, item.id, actor=newsroom.moderator(s), now=newsroom.now)
            assert woken == []  # not before the commit
        assert woken == [item.id]
    finally:
        events.clear()
