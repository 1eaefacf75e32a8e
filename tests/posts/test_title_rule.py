"""The title rule (docs/POSTS.md §1): printed only when it adds something, for every case."""

from __future__ import annotations

import pytest

from network_hub.newsroom.text import default_title, is_derived_title, legacy_default_title, title_is_printed
from publishers.render import plan_facebook, plan_telegram, printed_title, visible_text
from tests.publishers.conftest import make_post
from tests.web.conftest import WebWorld

ONE_PARAGRAPH = "เนื่องด้วยในเทศกาลสงกรานต์ ที่จะถึงนี้ ขอเชิญชวนพี่น้องประชาชนร่วมสรงน้ำพระ และรดน้ำดำหัวผู้สูงอายุ"
LONG_LINE = ("ประชาสัมพันธ์ " + "ชาวบ้านร่วมกันปลูกป่าชุมชนเพื่อรักษาแหล่งน้ำ " * 8).strip()
MULTI = "ทำบุญตักบาตรเช้าวันพระ\nชาวบ้านร่วมทำบุญที่วัดประจำหมู่บ้าน\nมีผู้ร่วมงานกว่า 200 คน"

CASES = [
    # (case, title, body, printed?)
    ("derived, one paragraph", default_title(ONE_PARAGRAPH), ONE_PARAGRAPH, False),
    ("derived, first line over 200 (cut with …)", default_title(LONG_LINE), LONG_LINE, False),
    ("derived, several paragraphs", default_title(MULTI), MULTI, False),
    ("typed = first line", "ทำบุญตักบาตรเช้าวันพระ", MULTI, False),
    ("typed = prefix of the first line", "เนื่องด้วยในเทศกาลสงกรานต์", ONE_PARAGRAPH, False),
    ("typed = prefix with …", "เนื่องด้วยในเทศกาลสงกรานต์ ที่จะ…", ONE_PARAGRAPH, False),
    ("typed = first line with other spacing and emoji", "📢 ทำบุญตักบาตร  เช้าวันพระ!", MULTI, False),
    ("typed longer than the first line", "ทำบุญตักบาตรเช้าวันพระ บ้านปงยางคก หมู่ 3", MULTI, True),
    ("typed different from the opening", "งานบุญประจำปี 2569", MULTI, True),
    ("typed = a later paragraph", "ชาวบ้านร่วมทำบุญที่วัดประจำหมู่บ้าน", MULTI, True),
    ("emoji-only opening line, derived", default_title("📢📢📢\n" + MULTI), "📢📢📢\n" + MULTI, False),
    ("emoji-only opening line, typed = next line", "ทำบุญตักบาตรเช้าวันพระ", "📢📢📢\n" + MULTI, False),
    ("emoji inside the opening line, derived", default_title("❤️" + MULTI), "❤️" + MULTI, False),
    ("date-line opening, derived", default_title("3 ธันวาคม 2569\n" + MULTI), "3 ธันวาคม 2569\n" + MULTI, False),
    ("date-line opening, typed = next line", "ทำบุญตักบาตรเช้าวันพระ", "🗓 วันพุธที่ 3 ธ.ค. 69\n" + MULTI, False),
    ("date-line opening, typed = the date", "3 ธันวาคม 2569", "3 ธันวาคม 2569\n" + MULTI, False),
    ("no title", "", MULTI, False),
]


@pytest.mark.parametrize(("case", "title", "body", "printed"), CASES, ids=[c[0] for c in CASES])
def test_title_printed_only_when_it_adds_something(case: str, title: str, body: str, printed: bool) -> None:
    assert title_is_printed(title, body) is printed
    post = make_post(body, title=title)
    telegram = "\n".join(visible_text(t) for t in plan_telegram(post).texts)
    facebook = plan_facebook(post).calls[-1].text
    for text in (telegram, facebook):
        assert text.count(body.split("\n")[-1]) == 1  # the body is whole and once
    if printed:
        assert plan_telegram(post).texts[0].startswith(f"<b>{title}</b>\n")  # bold on Telegram
        assert facebook.split("\n")[0] == title  # the first line on Facebook
    else:
        assert printed_title(post) == "" and "<b>" not in plan_telegram(post).texts[0]
        assert facebook.startswith("🗓 ")


def test_the_opening_is_shown_once_whatever_the_title() -> None:
    """The issue's example: a one-paragraph post used to print a truncated copy above itself."""
    body = ONE_PARAGRAPH + " และรักษาขนบธรรมเนียมประเพณีไทยไว้ เพื่อให้ลูกหลานได้สืบทอดต่อไป " * 5
    for title in (default_title(body), legacy_default_title(body), body.split()[0]):
        post = make_post(body, title=title)
        [text] = plan_telegram(post).texts
        assert visible_text(text).count("เนื่องด้วยในเทศกาลสงกรานต์") == 1


def test_derived_title_for_lists_skips_emoji_and_date_lines() -> None:
    assert default_title("📢📢📢\n\n3 ธันวาคม 2569\nประกาศ อบต. เรื่อง น้ำประปา") == "ประกาศ อบต. เรื่อง น้ำประปา"
    assert default_title("📢📢📢") == "📢📢📢"  # nothing else: the line itself
    assert default_title("ก" * 250) == "ก" * 199 + "…"
    assert default_title("") == ""


def test_titles_stored_by_earlier_versions_still_count_as_derived() -> None:
    body = "📢📢📢\nประกาศ อบต. เรื่อง น้ำประปา"
    assert is_derived_title("📢📢📢", body) and is_derived_title("ประกาศ อบต. เรื่อง น้ำประปา", body)
    assert not is_derived_title("ข่าวน้ำประปา", body)


def test_bot_preview_keeps_a_typed_title_on_resubmission_as_the_item_will(world: WebWorld) -> None:
    from types import SimpleNamespace

    from network_hub.bot.submit import preview_post
    from network_hub.newsroom.submission import title_after_text_change

    new_body = "ชาวบ้านร่วมกันปลูกต้นไม้ริมถนน\nรายละเอียดเพิ่มเติม"
    for old_title, old_body in (("งานปลูกต้นไม้ประจำปี", "ข้อความเดิม"), ("ข้อความเดิม", "ข้อความเดิม")):
        draft = {"body": new_body, "category": "event", "village": "52010101", "item_title": old_title,
                 "item_body": old_body}
        with world.hub.transaction() as session:
            post = preview_post(session, draft, world.hub.clock.now(), "th")
        item = SimpleNamespace(title=old_title, body=old_body)
        assert post.title == title_after_text_change(item, new_body, None)  # type: ignore[arg-type]
    assert post.title == "ชาวบ้านร่วมกันปลูกต้นไม้ริมถนน"  # a derived title follows the new text
