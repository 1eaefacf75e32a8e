"""Thai-first rendering and the word-boundary splitter."""

from __future__ import annotations

import pytest

from network_hub.thai import utf16_len
from publishers.render import (
    render_plain,
    render_telegram,
    split_text,
    thai_digits_outside_urls,
    tokens,
)
from tests.publishers.conftest import make_post

THAI = "ชาวบ้านร่วมกันปลูกป่าชุมชนเพื่อรักษาแหล่งน้ำและสร้างรายได้จากผลผลิตในท้องถิ่น"


def test_tokens_are_thai_words_and_keep_urls_whole() -> None:
    text = f"{THAI} ดูที่ https://example.org/ข่าว?id=1 นะ"
    parts = list(tokens(text))
    assert "".join(parts) == text
    assert "https://example.org/ข่าว?id=1" in parts
    assert {"ชาวบ้าน", "ร่วมกัน", "ปลูก"} <= set(parts)


@pytest.mark.parametrize("budget", [7, 50, 333, 1000])
def test_split_loses_nothing_and_respects_the_budget(budget: int) -> None:
    text = (THAI + " 😀 \n") * 40
    chunks = split_text(text, budget - 5, budget)
    assert "".join(chunks) == text
    assert utf16_len(chunks[0]) <= budget - 5
    assert all(utf16_len(c) <= budget for c in chunks)


def test_split_never_cuts_inside_a_thai_word_or_a_surrogate_pair() -> None:
    words = list(tokens(THAI))
    chunks = split_text(THAI * 10, 60, 60)
    for chunk in chunks[:-1]:
        assert any(chunk.endswith(w) for w in words), chunk
    emoji = "😀" * 100  # no word boundary at all: cut by code points, never between surrogates
    assert "".join(split_text(emoji, 9, 9)) == emoji
    assert all(utf16_len(c) <= 9 and utf16_len(c) % 2 == 0 for c in split_text(emoji, 9, 9))


def test_split_prefers_paragraph_breaks() -> None:
    text = "ก" * 40 + "\n" + THAI * 3
    assert split_text(text, 60, 60)[0] == "ก" * 40 + "\n"


def test_telegram_rendering_escapes_and_uses_ascii_hashtags() -> None:
    rendered = render_telegram(make_post("a < b & c > d", title="<b>x</b>", category="community_charm"))
    [html] = rendered.messages()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "a &lt; b &amp; c &gt; d" in html
    assert "#CommunityCharm" in html and all(t.isascii() for t in html.split() if t.startswith("#"))


def test_facebook_rendering_uses_thai_hashtags_and_plain_text() -> None:
    text = render_plain(make_post("a < b", category="event"))
    assert "a < b" in text and "#กิจกรรม" in text
    assert text.splitlines()[1] == "🗓 24 พฤศจิกายน 2569"
    assert "📍 หมู่ที่ 3 บ้านปงยางคก ต.ปงยางคก อ.ห้างฉัตร จ.ลำปาง" in text


def test_thai_digits_spare_urls_and_the_receipt_marker() -> None:
    post = make_post("ราคา 50 บาท https://example.org/a1", receipt="N-2569-000123", link="https://x.org/2")
    text = render_plain(post, thai_digits=True)
    assert "ราคา ๕๐ บาท https://example.org/a1" in text
    assert "🗓 ๒๔ พฤศจิกายน ๒๕๖๙" in text and "หมู่ที่ ๓" in text
    assert "รหัสข่าว N-2569-000123" in text and "https://x.org/2" in text
    assert thai_digits_outside_urls("1 http://a/1 2") == "๑ http://a/1 ๒"


def test_title_that_is_the_first_line_of_the_body_is_printed_once() -> None:
    from datetime import UTC, datetime

    from publishers.base import Post
    from publishers.render import render_plain, render_telegram

    post = Post(receipt_no="NH-2569-000007", category="event", title="ทำบุญตักบาตรเช้าวันพระ",
                body="ทำบุญตักบาตรเช้าวันพระ\nชาวบ้านร่วมทำบุญที่วัดประจำหมู่บ้าน",
                attribution={"village": "หมู่ที่ 1 บ้านเวียงเหนือ", "tambon": "เวียงเหนือ",
                             "district": "เมืองลำปาง", "province": "ลำปาง"},
                published_at=datetime(2026, 11, 24, 3, tzinfo=UTC))
    assert render_plain(post).count("ทำบุญตักบาตรเช้าวันพระ") == 1
    assert "".join(render_telegram(post).messages()).count("ทำบุญตักบาตรเช้าวันพระ") == 1
    assert "ชาวบ้านร่วมทำบุญ" in render_plain(post)
