"""Bot preview, dashboard preview, the sent post (through the real dispatcher and the sandbox
publisher) and both feeds agree for every corpus post, and each passes the whole-text check."""

from __future__ import annotations

import json
from collections.abc import Callable
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from network_hub.bot.submit import preview_plan, preview_post
from network_hub.bot.texts import raw
from network_hub.db.models import NewsItem
from network_hub.newsroom.text import normalize_text
from network_hub.web.post_preview import item_post, item_previews
from publishers.render import plan_facebook, plan_telegram, visible_text
from publishers.sandbox import list_posts
from tests.posts.corpus import MODES, check_whole_text, load_corpus, title_for, visible_parts
from tests.web.conftest import WebWorld, approve_and_dispatch

CORPUS = load_corpus()
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[p.id for p in CORPUS])
def test_previews_sent_post_and_feeds_agree(index: int, world: WebWorld, client: TestClient,
                                            signed_in: Callable[[str], TestClient]) -> None:
    record = CORPUS[index]
    mode = MODES[index % len(MODES)]
    typed = None if mode == "derived" else title_for(mode, record, normalize_text(record.text))
    item_id = world.submit(body=record.text, title=typed, category="announcement")
    now = world.hub.clock.now()
    media_dir = world.hub.settings.resolved_media_dir
    with world.hub.transaction() as session:
        bot_post = preview_post(session, {"body": record.text, "category": "announcement",
                                          "village": "52010101"}, now, "th")
    approve_and_dispatch(world, item_id)
    with world.hub.transaction() as session:
        item = session.get(NewsItem, item_id)
        assert item is not None and item.status == "published"
        post = item_post(session, item, now, media_dir)
        title, body = item.title, item.body
    telegram, facebook = plan_telegram(post), plan_facebook(post)

    # What was sent (the sandbox records both the plain text and the Telegram parts).
    [sent] = list_posts(world.hub.settings.sandbox_dir, "lampang-muang")
    assert sent["text"] == facebook.calls[-1].text
    assert sent["telegram_html"] == telegram.texts
    check_whole_text(post, [sent["text"]], "facebook")
    check_whole_text(post, visible_parts(telegram), "telegram")

    # The bot preview: the volunteer types no title, so it matches every item whose title is derived.
    if typed is None:
        real = raw("preview_receipt", "th")
        assert [t.replace(real, item.receipt_no) for t in preview_plan(bot_post).texts] == telegram.texts

    # The dashboard preview: the same parts, on the item page a moderator opens.
    previews = item_previews(post)
    assert [p.text for p in previews[0].parts] == visible_parts(telegram)
    assert [p.text for p in previews[1].parts] == visible_parts(facebook)
    page = signed_in("moderator").get(f"/items/{item_id}")
    assert page.status_code == 200
    for preview in previews:
        for part in preview.parts:
            assert str(escape(part.text)) in page.text

    # Both feeds: the item's title as the entry title, the body whole and once in the content.
    atom = ET.fromstring(client.get("/feeds/5201.atom").content)
    [entry] = atom.findall(f"{ATOM}entry")
    feed = json.loads(client.get("/feeds/5201.json").content)
    [json_item] = feed["items"]
    assert entry.findtext(f"{ATOM}title") == json_item["title"] == title
    for content in (entry.findtext(f"{ATOM}content") or "", json_item["content_text"]):
        assert content.count(body) == 1 and content.startswith(body)
        assert content.split()[: len(body.split())] == body.split()
        assert not any(s in content[len(body):] for s in body.split() if len(s) > 30)  # nothing doubled
    assert visible_text(telegram.calls[0].text)  # every plan has text to show
