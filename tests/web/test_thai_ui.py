"""Thai on every screen: Buddhist Era pickers, labels for codes, reasons for missing buttons, inline errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from network_hub.db.models import NewsItem
from network_hub.errors import InvalidInput
from network_hub.web.datepicker import parse_date, parse_datetime
from network_hub.web.i18n import action_label, label, via_label
from tests.web.conftest import WebWorld, approve_and_dispatch, csrf_of

BANGKOK = ZoneInfo("Asia/Bangkok")


def _item(world: WebWorld, item_id: int) -> NewsItem:
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None
        session.expunge(item)
        return item


def test_the_picker_reads_a_buddhist_era_date_and_a_24_hour_time_in_bangkok() -> None:
    fields = {"at_day": "25", "at_month": "11", "at_year": "2569", "at_hour": "18", "at_minute": "30"}
    when = parse_datetime(fields, "at", BANGKOK)
    assert when == datetime(2026, 11, 25, 11, 30, tzinfo=UTC)
    assert parse_date({"start_day": "1", "start_month": "2", "start_year": "2568"}, "start") == date(2025, 2, 1)
    assert parse_datetime({}, "at", BANGKOK) is None
    assert parse_datetime({"at": "2026-11-25T09:00"}, "at", BANGKOK) == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("fields", "thai"), [
    ({"at_day": "31", "at_month": "2", "at_year": "2569", "at_hour": "9", "at_minute": "0"}, "ไม่มีวันที่ 31 กุมภาพันธ์"),
    ({"at_day": "3", "at_month": "", "at_year": "2569", "at_hour": "9", "at_minute": "0"}, "กรุณาเลือกทั้งวัน เดือน และปี"),
    ({"at_day": "3", "at_month": "12", "at_year": "2569", "at_hour": "", "at_minute": "0"}, "กรุณาเลือกเวลา"),
    ({"at_day": "3", "at_month": "12", "at_year": "2569", "at_hour": "25", "at_minute": "0"}, "ไม่ถูกต้อง"),
    ({"at_day": "x", "at_month": "12", "at_year": "2569", "at_hour": "9", "at_minute": "0"}, "ไม่ใช่ตัวเลข"),
])
def test_a_wrong_picker_value_is_a_clear_thai_error(fields: dict[str, str], thai: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_datetime(fields, "at", BANGKOK)
    assert thai in raised.value.message("th")


def test_labels_never_show_the_stored_code() -> None:
    assert action_label("news.approve", "th") == "อนุมัติข่าว"
    assert action_label("item.published", "th") == "สถานะ: เผยแพร่แล้ว"
    assert action_label("delivery.edit_done", "th") == "แก้ไขโพสต์: เสร็จแล้ว"
    assert "." not in action_label("something.new_next_year", "th")
    assert via_label("system", "th") == "ระบบ" and via_label(None, "th") == "ระบบ"
    assert label("delivery_state", "retry_wait", "th") == "รอส่งใหม่อัตโนมัติ"
    assert label("platform", "sandbox", "th") == "ช่องทดลอง"
    assert label("member_status", "unheard_of", "th") == "–"


def test_approve_with_the_buddhist_era_picker_schedules_at_that_bangkok_time(
        signed_in: Callable[[str], TestClient], world: WebWorld) -> None:
    item_id = world.submit()
    client = signed_in("moderator")
    queue = client.get("/queue").text
    assert 'name="at_year"' in queue and "พ.ศ. 2569" in queue and 'type="datetime-local"' not in queue
    token = csrf_of(client, "/queue")
    response = client.post(f"/items/{item_id}/approve", data={
        "version": "1", "csrf_token": token, "schedule": "1", "at_day": "26", "at_month": "11", "at_year": "2569",
        "at_hour": "8", "at_minute": "30"})
    assert response.status_code == 303
    item = _item(world, item_id)
    assert item.status == "scheduled"
    assert item.scheduled_at is not None
    assert item.scheduled_at.astimezone(BANGKOK) == datetime(2026, 11, 26, 8, 30, tzinfo=BANGKOK)


def test_a_past_time_from_htmx_is_shown_in_the_card_and_changes_nothing(
        signed_in: Callable[[str], TestClient], world: WebWorld) -> None:
    item_id = world.submit()
    client = signed_in("moderator")
    token = csrf_of(client, "/queue")
    response = client.post(f"/items/{item_id}/approve", data={
        "version": "1", "csrf_token": token, "schedule": "1", "at_day": "1", "at_month": "1", "at_year": "2569",
        "at_hour": "8", "at_minute": "0"}, headers={"HX-Request": "true", "HX-Target": f"item-{item_id}"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == f"#item-{item_id} .form-error"
    assert "ผ่านไปแล้ว" in response.text and "<html" not in response.text
    assert _item(world, item_id).status == "submitted"
    # "Approve and schedule" with nothing chosen is refused, not silently published now.
    response = client.post(f"/items/{item_id}/approve", data={"version": "1", "csrf_token": token, "schedule": "1"})
    assert response.status_code == 400 and "กรุณาเลือกวันและเวลาเผยแพร่" in response.text
    assert _item(world, item_id).status == "submitted"


def test_history_and_deliveries_are_in_thai_and_the_sandbox_link_opens(
        signed_in: Callable[[str], TestClient], world: WebWorld) -> None:
    item_id = world.submit()
    approve_and_dispatch(world, item_id)
    client = signed_in("moderator")
    page = client.get(f"/items/{item_id}").text
    for thai in ("ส่งข่าว", "อนุมัติข่าว", "ผ่านเว็บ", "สถานะ: เผยแพร่แล้ว", "ส่งแล้ว", "ช่องทดลอง", "ดูในช่องทดลอง"):
        assert thai in page, thai
    for raw in ("news.approve", "item.published", ">sent<", "sandbox://", "ผ่าน system"):
        assert raw not in page, raw
    assert 'href="/sandbox#' in page
    sandbox = client.get("/sandbox").text
    head = sandbox[sandbox.index('class="post-head"'):]
    head = head[:head.index("</p>")]
    # The sandbox records real UTC time; the page shows it in Bangkok, Buddhist Era, 24-hour.
    assert "UTC" not in head and "เวลา" in head and head.endswith(" น."), head


def test_a_missing_button_says_why(signed_in: Callable[[str], TestClient], world: WebWorld) -> None:
    own = world.submit(author="moderator", village="52010101")
    page = signed_in("moderator").get(f"/items/{own}").text
    assert "ผู้ส่งข่าวอนุมัติข่าวของตนเองไม่ได้" in page
    assert f'action="/items/{own}/approve"' not in page


def test_a_returned_item_tells_its_reporter_what_to_do(signed_in: Callable[[str], TestClient],
                                                      world: WebWorld) -> None:
    item_id = world.submit()
    client = signed_in("moderator")
    token = csrf_of(client, "/queue")
    client.post(f"/items/{item_id}/return", data={"version": "1", "csrf_token": token, "reason": "ขอภาพเพิ่ม"})
    client.post("/logout", data={"csrf_token": csrf_of(client, "/queue")})
    page = signed_in("reporter").get("/items").text
    assert "แก้ไขแล้วส่งใหม่ได้ในบอท Telegram" in page and "ขอภาพเพิ่ม" in page


def test_the_item_page_posts_without_htmx_so_its_history_is_redrawn_after_a_reject(
        signed_in: Callable[[str], TestClient], world: WebWorld) -> None:
    item_id = world.submit()
    client = signed_in("moderator")
    page = client.get(f"/items/{item_id}").text
    form = page[page.index(f'action="/items/{item_id}/return"'):]
    form = form[:form.index("</form>")]
    assert "hx-post" not in form and "hx-target" not in form
    token = csrf_of(client, f"/items/{item_id}")
    response = client.post(f"/items/{item_id}/reject", data={"version": "1", "csrf_token": token,
                                                              "reason": "ซ้ำกับข่าวเมื่อวาน"})
    assert response.status_code == 303 and response.headers["location"].startswith(f"/items/{item_id}")
    history = client.get(response.headers["location"]).text
    assert "ไม่อนุมัติข่าว" in history[history.index('id="history"'):]


def test_a_wrong_area_filter_shows_the_form_again_with_the_error(signed_in: Callable[[str], TestClient],
                                                                 world: WebWorld) -> None:
    client = signed_in("moderator")
    page = client.get("/items?area=5001")
    assert page.status_code == 400
    assert "ไม่อยู่ในพื้นที่ของท่าน" in page.text and '<form method="get" action="/items"' in page.text
    options = client.get("/items").text
    assert "ต.เวียงเหนือ" in options and "หมู่ที่ 1" in options  # chosen by name, not typed as a code


def test_an_empty_queue_on_a_new_hub_says_what_to_do_next(signed_in: Callable[[str], TestClient]) -> None:
    page = signed_in("moderator").get("/queue").text
    assert 'id="queue-empty"' in page and "เริ่มจากเชิญผู้ส่งข่าว" in page and 'href="/roster"' in page


def test_the_calendar_says_which_month_and_buddhist_era_year_it_shows(
        signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("moderator")
    week = client.get("/calendar").text  # the frozen clock: Tuesday 24 November 2026
    assert 'id="calendar-heading">23 – 29 พฤศจิกายน พ.ศ. 2569<' in week
    month = client.get("/calendar?view=month&go_month=2&go_year=2570").text
    assert 'id="calendar-heading">กุมภาพันธ์ พ.ศ. 2570<' in month
    assert 'name="go_year"' in month and "พ.ศ. 2570" in month


def test_statistics_take_a_buddhist_era_period_and_show_the_form_again_on_a_wrong_one(
        signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("coordinator")
    page = client.get("/stats?area=5201&start_day=1&start_month=11&start_year=2569&end_day=24&end_month=11"
                      "&end_year=2569")
    assert page.status_code == 200
    assert "/stats.csv?area=5201&start=2026-11-01&end=2026-11-24" in page.text
    wrong = client.get("/stats?area=5201&start_day=31&start_month=2&start_year=2569")
    assert wrong.status_code == 400
    assert "ไม่มีวันที่ 31 กุมภาพันธ์" in wrong.text and '<form method="get" action="/stats"' in wrong.text
    assert 'type="date"' not in wrong.text and "ต.เวียงเหนือ" in wrong.text


def test_an_outlet_paused_for_a_person_reads_in_thai(world: WebWorld, signed_in: Callable[[str], TestClient]) -> None:
    """The engine stores "needs a person: …" (the follow-up planner matches it); the page says it in Thai."""
    from sqlalchemy import select

    from network_hub.db.models import Outlet
    from network_hub.outbox.transitions import pause_for_human
    from network_hub.web.i18n import paused_reason_label

    assert paused_reason_label("needs a person: โทเคนหมดอายุ", "th") == "ต้องให้ผู้ดูแลแก้ไข: โทเคนหมดอายุ"
    assert paused_reason_label("paused by an admin", "th") == "ผู้ดูแลหยุดไว้"
    assert paused_reason_label("needs a person: token expired", "en") == "needs a person: token expired"
    assert paused_reason_label("ปิดปรับปรุงช่อง", "th") == "ปิดปรับปรุงช่อง"
    with world.hub.transaction() as s:
        outlet = s.scalars(select(Outlet).order_by(Outlet.id)).first()
        assert outlet is not None
        pause_for_human(s, outlet, "บอตไม่ได้เป็นผู้ดูแลช่องนี้แล้ว", world.hub.clock.now())
        stored = outlet.paused_reason
    assert stored is not None and stored.startswith("needs a person: ")
    page = signed_in("admin").get("/outlets")
    assert page.status_code == 200
    assert "ต้องให้ผู้ดูแลแก้ไข: บอตไม่ได้เป็นผู้ดูแลช่องนี้แล้ว" in page.text and "needs a person" not in page.text
