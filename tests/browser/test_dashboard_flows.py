"""The dashboard in real Chromium: moderate, publish to the sandbox, export numbers, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from network_hub.db.models import NewsItem
from tests.browser.conftest import SCREENSHOTS, LiveHub, sign_in


def test_moderator_approves_from_the_queue_and_the_post_reaches_the_sandbox(page: Any, live_hub: LiveHub) -> None:
    sign_in(page, live_hub, "0812345603")  # the tambon moderator
    assert page.url.endswith("/queue")
    card = page.locator(f"#item-{live_hub.item_ids['main']}")
    assert "ชาวบ้านเวียงเหนือปลูกต้นไม้ริมถนน" in card.inner_text()
    pdpa_card = page.locator(f"#item-{live_hub.item_ids['pdpa']}")
    assert "คำเตือน PDPA" in pdpa_card.inner_text()
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "moderation-queue.png"), full_page=True)

    card.get_by_role("button", name="อนุมัติ เผยแพร่ทันที").click()
    done = page.locator(f"#item-{live_hub.item_ids['main']}.done")
    done.wait_for()
    assert "อนุมัติแล้ว" in done.inner_text()

    live_hub.dispatch_once()  # the real dispatcher and sandbox publisher
    page.goto(f"{live_hub.base_url}/items/{live_hub.item_ids['main']}")
    delivery = page.locator("tr.delivery").first
    assert "ส่งแล้ว" in delivery.inner_text() and "sandbox://" not in delivery.inner_text()
    delivery.get_by_role("link", name="ดูในช่องทดลอง").click()  # the sandbox link opens the post
    page.wait_for_url("**/sandbox#*")
    page.go_back()
    assert "เผยแพร่แล้ว" in page.locator(".item-card .badge").first.inner_text()
    page.goto(f"{live_hub.base_url}/sandbox")
    post = page.locator("article.post", has_text="ชาวบ้านเวียงเหนือกว่า 80 คน")
    assert post.count() == 1
    assert "NH-" in post.inner_text()  # the receipt marker residents see in the footer


def test_coordinator_exports_the_statistics_csv(page: Any, live_hub: LiveHub, tmp_path: Path) -> None:
    sign_in(page, live_hub, "0812345604", next_path="/stats")
    assert page.url.endswith("/stats")
    table = page.locator("#stats-table").inner_text()
    assert "หมู่ที่ 2 บ้านป่าขาม" in table
    page.screenshot(path=str(SCREENSHOTS / "statistics.png"), full_page=True)
    with page.expect_download() as download_info:
        page.click("#export-csv")
    target = tmp_path / "stats.csv"
    download_info.value.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("รหัสหมู่บ้าน,หมู่บ้าน,ตำบล,ส่งข่าว")
    assert any(line.startswith("52010102,หมู่ที่ 2 บ้านป่าขาม") for line in lines)


def test_a_reporter_cannot_open_moderation_pages(page: Any, live_hub: LiveHub) -> None:
    sign_in(page, live_hub, "0812345601")
    for path in ("/queue", "/deliveries", "/stats"):
        response = page.goto(f"{live_hub.base_url}{path}")
        assert response is not None and response.status == 403
        assert "ท่านไม่มีสิทธิ์" in page.inner_text("main")
    assert page.locator("nav.menu a[href='/queue']").count() == 0


def test_a_forged_form_without_the_csrf_token_is_refused(page: Any, live_hub: LiveHub) -> None:
    sign_in(page, live_hub, "0812345603")
    item_id = live_hub.item_ids["third"]
    page.evaluate(
        """([action]) => {
            const form = document.createElement('form');
            form.method = 'post'; form.action = action;
            const version = document.createElement('input');
            version.name = 'version'; version.value = '1'; form.appendChild(version);
            document.body.appendChild(form);
            form.submit();
        }""",
        [f"/items/{item_id}/approve"],
    )
    page.wait_for_load_state()
    assert "แบบฟอร์มหมดอายุหรือไม่ถูกต้อง" in page.inner_text("main")
    with live_hub.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None and item.status == "submitted" and item.version == 1
