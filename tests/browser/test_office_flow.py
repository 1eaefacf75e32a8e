"""The office's day one in real Chromium, at 1280 px and 375 px: import a spreadsheet with errors,
fix it, import it, print the village invite sheet; pick a village by name (the area picker's
JavaScript) to add a grant. The volunteer's side (redeeming the printed link, sharing a phone) is
in tests/bot/test_linking.py on the loopback Telegram fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from network_hub.db.models import Invite, Member, RoleGrant
from tests.browser.conftest import SCREENSHOTS, LiveHub, sign_in

BAD = ("name,role,area_code,phone\n"
       "มาลี ดีใจ,reporter,52010101,0811111111\n"
       "ชูใจ ใฝ่ดี,boss,52010102,0822222222\n")
GOOD = ("name,role,area_code,phone\n"
        "มาลี ดีใจ,reporter,52010101,0811111111\n"
        "ชูใจ ใฝ่ดี,reporter,52010101,0822222222\n")


@pytest.mark.parametrize("width", [1280, 375])
def test_admin_imports_fixes_imports_and_prints_the_invite_sheet(browser: Any, live_hub: LiveHub, tmp_path: Path,
                                                                width: int) -> None:
    live_hub.hub.settings.telegram_bot_username = "koka_pr_bot"
    context = browser.new_context(locale="th-TH", viewport={"width": width, "height": 812 if width < 500 else 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_hub, "0812345605", next_path="/roster/import")  # the national admin
        bad = tmp_path / "bad.csv"
        bad.write_text(BAD, encoding="utf-8-sig")
        page.set_input_files("input[name=file]", str(bad))
        page.click("form[action='/roster/import'] button[type=submit]")
        page.wait_for_load_state()
        assert "พบ 1 แถวที่ต้องแก้ไข" in page.inner_text("main")
        assert "ไม่ใช่บทบาทที่ถูกต้อง" in page.locator("tr.bad").inner_text()
        assert page.locator("form[action='/roster/import/confirm']").count() == 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"admin-roster-import-errors-{width}.png"), full_page=True)

        page.goto(f"{live_hub.base_url}/roster/import")
        good = tmp_path / "good.csv"
        good.write_text(GOOD, encoding="utf-8-sig")
        page.set_input_files("input[name=file]", str(good))
        page.click("form[action='/roster/import'] button[type=submit]")
        page.wait_for_load_state()
        assert "สมาชิกใหม่ 2 คน" in page.inner_text("main")
        page.click("form[action='/roster/import/confirm'] button[type=submit]")
        page.wait_for_load_state()
        assert "นำเข้าเรียบร้อย" in page.inner_text("main")
        page.click("a[href='/roster/sheet?area=52010101']")
        page.wait_for_load_state()
        cards = page.locator("article.invite-card")
        assert cards.count() == 2 and "มาลี ดีใจ" in cards.first.inner_text()
        assert page.locator("article.invite-card svg").count() == 2
        page.screenshot(path=str(SCREENSHOTS / f"admin-invite-sheet-{width}.png"), full_page=True)
        pdf = page.pdf(format="A4") if width == 1280 else b""  # print media: header hidden, A4
        assert width != 1280 or pdf.startswith(b"%PDF")
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible()
        assert page.locator("article.invite-card").first.is_visible()
    finally:
        context.close()
    with live_hub.hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Member).where(Member.phone.in_(
            ["+66811111111", "+66822222222"]))) == 2
        assert s.scalar(select(func.count()).select_from(Invite).where(Invite.member_id.is_not(None))) == 2


def test_admin_adds_a_grant_by_typing_the_village_name(page: Any, live_hub: LiveHub) -> None:
    reporter = live_hub.people.reporter2.id
    sign_in(page, live_hub, "0812345605", next_path=f"/roster/members/{reporter}")
    page.select_option("#grants select[name=role]", "moderator")
    # The JavaScript picker: choosing a province shows its districts at once, no page load.
    page.select_option("#grants select[name=grant_area_1]", "52")
    page.wait_for_selector("#grants select[name=grant_area_2]")
    # Or by name: typing suggests areas; pick the tambon.
    page.fill("#grants input[name=grant_area_q]", "เวียงเหนือ")
    page.wait_for_selector("#grants select[name=grant_area_hit] option[value='520101']", state="attached")
    page.select_option("#grants select[name=grant_area_hit]", "520101")
    page.click("#grants form button:not([name=step])[type=submit] >> nth=-1")
    page.wait_for_load_state()
    assert "บันทึกเรียบร้อยแล้ว" in page.inner_text("main")
    assert "ต.เวียงเหนือ อ.เมืองลำปาง จ.ลำปาง" in page.locator("#grants ul.grants").inner_text()
    with live_hub.hub.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RoleGrant).where(
            RoleGrant.member_id == reporter, RoleGrant.role == "moderator", RoleGrant.area_code == "520101")) == 1
    page.screenshot(path=str(SCREENSHOTS / "admin-member-1280.png"), full_page=True)


OFFICE_PAGES = ("/roster/members/new", "/roster/members/{reporter}", "/roster/import", "/roster/sheet?area=520101",
                "/areas/villages?area=520101", "/outlets/new", "/account/password")


@pytest.mark.parametrize("viewport", [{"width": 375, "height": 812}, {"width": 1280, "height": 900}],
                         ids=["375", "1280"])
def test_every_office_page_fits_the_screen(browser: Any, live_hub: LiveHub, viewport: dict[str, int]) -> None:
    live_hub.hub.settings.telegram_bot_username = "koka_pr_bot"
    phone = viewport["width"] < 500
    context = browser.new_context(locale="th-TH", viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_hub, "0812345605")
        for template in OFFICE_PAGES:
            path = template.format(reporter=live_hub.people.reporter.id)
            response = page.goto(f"{live_hub.base_url}{path}")
            assert response is not None and response.status == 200, path
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than a {viewport['width']}px screen"
            name = path.strip("/").split("?")[0].replace("/", "-")
            if str(live_hub.people.reporter.id) in name:
                name = name.replace(str(live_hub.people.reporter.id), "member")
            page.screenshot(path=str(SCREENSHOTS / f"office-{name}-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()
