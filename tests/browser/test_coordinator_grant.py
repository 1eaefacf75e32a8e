"""Issue 13, "a coordinator adds a grant by picking a village by name", in real Chromium at 1280 px
and 375 px: the district coordinator signs in, opens a volunteer from the roster, types a village's
Thai name in the area picker, chooses it and sees the new role listed in Thai; a village outside
the district is not offered (the picker says it is outside their area), and a forged choice of it
is refused by the server with a Thai message and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from network_hub.db.models import AuditEvent, RoleGrant
from tests.browser.conftest import SCREENSHOTS, LiveHub, sign_in

COORDINATOR_PHONE = "0812345604"  # the seeded coordinator of district 5201 (อ.เมืองลำปาง)


def _grants(live: LiveHub, member_id: int) -> set[tuple[str, str]]:
    with live.hub.transaction() as s:
        return {(g.role, g.area_code) for g in s.scalars(select(RoleGrant).where(RoleGrant.member_id == member_id))}


def _overflow(page: Any) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


@pytest.mark.parametrize("width", [1280, 375])
def test_a_coordinator_adds_a_grant_by_picking_a_village_by_name(browser: Any, live_hub: LiveHub, width: int) -> None:
    phone = width < 500
    context = browser.new_context(locale="th-TH", viewport={"width": width, "height": 812 if phone else 900},
                                  is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(10_000)
    member = live_hub.people.reporter2  # บุญมี ขยัน, reporter of หมู่ที่ 2 บ้านป่าขาม
    try:
        sign_in(page, live_hub, COORDINATOR_PHONE, next_path="/roster")
        page.click(f"a[href='/roster/members/{member.id}']")
        page.wait_for_load_state()
        grants = page.locator("#grants")
        assert "ในฐานะผู้ประสานงาน" in grants.inner_text()
        assert sorted(grants.locator("select[name=role] option").evaluate_all(
            "options => options.map(o => o.value)")) == ["moderator", "reporter"]
        grants.locator("select[name=role]").select_option("reporter")
        # Type the village's Thai name; the picker's JavaScript suggests areas of the district.
        grants.locator("input[name=grant_area_q]").fill("หัวเวียง")
        page.wait_for_selector("#grants select[name=grant_area_hit] option[value='52010201']", state="attached")
        grants.locator("select[name=grant_area_hit]").select_option("52010201")
        assert _overflow(page) <= 0, f"the picker's long Thai hit widened the page past {width}px"
        grants.locator("form[action$='/grants'] button:not([name=step])[type=submit]").click()
        page.wait_for_load_state()
        assert "บันทึกเรียบร้อยแล้ว" in page.inner_text("main")
        listed = page.locator("#grants ul.grants").inner_text()
        assert "ผู้ส่งข่าว · หมู่ที่ 1 บ้านหัวเวียง ต.หัวเวียง อ.เมืองลำปาง จ.ลำปาง" in listed
        assert "52010201" not in listed and "reporter" not in listed  # no raw codes
        assert _overflow(page) <= 0, f"the member page is wider than a {width}px screen"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"coordinator-grant-added-{width}.png"), full_page=True)
        assert _grants(live_hub, member.id) == {("reporter", "52010102"), ("reporter", "52010201")}

        # A village in Chiang Mai: the suggestions never offer it ...
        grants = page.locator("#grants")
        grants.locator("input[name=grant_area_q]").fill("ศรีภูมิ")
        page.wait_for_selector("#grants [data-area-hits] p.empty")
        assert grants.locator("option[value='50010101']").count() == 0
        assert "อยู่นอกพื้นที่ที่ท่านรับผิดชอบ" in grants.locator("[data-area-hits]").inner_text()  # says why
        # ... and so does the picker's own search step (the page without JavaScript).
        grants.locator("button[name=step]").click()
        page.wait_for_load_state()
        assert "อยู่นอกพื้นที่ที่ท่านรับผิดชอบ" in page.locator("#grants").inner_text()
        # A forged choice (a hand-made form field) is refused by the server, in Thai.
        with live_hub.hub.transaction() as s:
            events_before = len(s.scalars(select(AuditEvent.id)).all())
        page.evaluate("""() => {
            const form = document.querySelector("#grants form[action$='/grants']");
            const field = document.createElement("input");
            field.type = "hidden"; field.name = "grant_area_hit"; field.value = "50010101";
            form.appendChild(field);
        }""")
        page.locator("#grants form[action$='/grants'] button:not([name=step])[type=submit]").click()
        page.wait_for_load_state()
        alert = page.locator("p.flash.error[role=alert]")
        assert "พื้นที่นี้อยู่นอกพื้นที่ที่ท่านรับผิดชอบ" in alert.inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"coordinator-grant-refused-{width}.png"), full_page=True)
        assert _grants(live_hub, member.id) == {("reporter", "52010102"), ("reporter", "52010201")}
        with live_hub.hub.transaction() as s:
            assert len(s.scalars(select(AuditEvent.id)).all()) == events_before
            added = s.scalar(select(AuditEvent).where(AuditEvent.action == "grant.add")
                             .order_by(AuditEvent.id.desc()).limit(1))
            assert added.actor_id == live_hub.people.coordinator.id and added.after["area_code"] == "52010201"
    finally:
        context.close()
