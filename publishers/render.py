"""Thai-first rendering of a ``Post`` per platform.

Every rendering carries the same parts in the same order: the title, the Buddhist Era date
(Asia/Bangkok, Thai month names), the body, an attribution footer (village, tambon, district),
the receipt number as a stable marker (``รหัสข่าว <receipt_no>``: Facebook reconciliation
searches for it, so it is never converted to Thai digits), and category hashtags.

- Telegram: HTML parse mode. All user text is escaped; hashtags are ASCII because Telegram cuts
  a hashtag at the first Thai vowel or tone mark. Limits are counted on the *visible* text (after
  entity parsing), in UTF-16 units, so the parts are kept as (plain, html) pairs and measured on
  the plain side.
- Facebook and sandbox: plain text; Thai hashtags (Facebook handles them).

Long Telegram texts are split at Thai word boundaries (pythainlp's dictionary tokenizer; Thai
has no spaces between words), preferring paragraph breaks, never inside a URL unless a single
URL is itself longer than the limit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from network_hub.newsroom.text import title_is_printed
from network_hub.thai import be_date, to_thai_digits, utf16_len
from publishers.base import Post
from publishers.plan import PlannedCall, PostPlan

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
MARKER_PREFIX = "รหัสข่าว"

TELEGRAM_TAGS: dict[str, str] = {
    "development_result": "#DevelopmentResult",
    "local_product": "#LocalProduct",
    "community_charm": "#CommunityCharm",
    "announcement": "#Announcement",
    "event": "#Event",
}
FACEBOOK_TAGS: dict[str, str] = {
    "development_result": "#ผลการพัฒนา",
    "local_product": "#ผลิตภัณฑ์ชุมชน",
    "community_charm": "#เสน่ห์ชุมชน",
    "announcement": "#ประกาศ",
    "event": "#กิจกรรม",
}
HUB_TAG_TELEGRAM = "#TambonPR"
HUB_TAG_FACEBOOK = "#ประชาสัมพันธ์ตำบล"

_URL = re.compile(r"https?://\S+")
# What Thai digits must not touch: URLs (they would stop working), bare www. addresses and
# hashtags (a tag with other digits is another tag).
_SPARED = re.compile(r"https?://\S+|www\.\S+|#\S+")
_ATOMS = re.compile(r"https?://\S+|\s+|[^\s]+")
_TAG = re.compile(r"<[^>]+>")


def marker(receipt_no: str) -> str:
    """The stable text every rendered post carries (searched for by ``find_post``)."""
    return f"{MARKER_PREFIX} {receipt_no}"


def thai_digits_outside_urls(text: str) -> str:
    """Thai digits everywhere except inside URLs and hashtags (converted, they would no longer work)."""
    out: list[str] = []
    last = 0
    for match in _SPARED.finditer(text):
        out.append(to_thai_digits(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(to_thai_digits(text[last:]))
    return "".join(out)


def attribution_line(attribution: dict[str, str]) -> str:
    """``หมู่ที่ 3 บ้านปงยางคก ต.ปงยางคก อ.ห้างฉัตร จ.ลำปาง`` (missing parts left out)."""
    parts = [attribution.get("village", "").strip()]
    for key, prefix in (("tambon", "ต."), ("district", "อ."), ("province", "จ.")):
        name = attribution.get(key, "").strip()
        if name:
            parts.append(f"{prefix}{name}")
    return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Part:
    """A piece of a Telegram message: what residents see (``plain``) and the HTML sent."""

    plain: str
    html: str

    def __add__(self, other: Part) -> Part:
        return Part(self.plain + other.plain, self.html + other.html)

    @property
    def length(self) -> int:
        return utf16_len(self.plain)


def _text(value: str) -> Part:
    return Part(value, html.escape(value, quote=False))


EMPTY = Part("", "")


@dataclass(frozen=True)
class TelegramRender:
    head: Part  # bold title and date line, followed by a blank line
    body: str  # the user's body, plain (escaped when split into messages)
    footer: Part  # blank line, attribution, marker, link, hashtags
    marker_text: str = ""

    def whole(self) -> Part:
        return self.head + _text(self.body) + self.footer

    def messages(self, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
        """The post as one or more HTML texts, each ≤ ``limit`` visible UTF-16 units."""
        return _pack(self.head, self.body, self.footer, limit)

    def caption_and_replies(self) -> tuple[str, list[str]]:
        """For photo posts: the caption (≤ 1024) and the reply texts that carry a long body."""
        whole = self.whole()
        if whole.length <= TELEGRAM_CAPTION_LIMIT:
            return whole.html, []
        short = self.head + Part(self.footer.plain.lstrip("\n"), self.footer.html.lstrip("\n"))
        if short.length > TELEGRAM_CAPTION_LIMIT:  # an absurdly long title: the caption is the marker only
            short = _text(self.marker_text)
        return short.html, _pack(EMPTY, self.body, EMPTY, TELEGRAM_TEXT_LIMIT)


def printed_title(post: Post) -> str:
    """The title printed above the body, or "" when it adds nothing (docs/POSTS.md §1): a title
    derived from the body, or one the body already starts with, is not printed again."""
    title = " ".join(post.title.split())
    return title if title_is_printed(title, post.body) else ""


def body_text(post: Post) -> str:
    """The body exactly as the author wrote it (only leading/trailing blank space removed): the
    title rule never cuts the body, so its opening is printed once and nothing is lost."""
    return post.body.strip()


def render_telegram(post: Post, *, thai_digits: bool = False) -> TelegramRender:
    convert = thai_digits_outside_urls if thai_digits else (lambda s: s)
    date = convert(be_date(post.published_at))
    title = convert(printed_title(post))
    head = EMPTY
    if title:
        head = Part(title, f"<b>{html.escape(title, quote=False)}</b>") + _text("\n")
    head = head + _text(f"🗓 {date}\n\n")
    body = convert(body_text(post))
    footer = _text(f"\n\n📍 {convert(attribution_line(post.attribution))}\n{marker(post.receipt_no)}")
    if post.link:
        footer = footer + _text("\n🔗 ") + Part(post.link, _link_html(post.link))
    tags = " ".join(t for t in (TELEGRAM_TAGS.get(post.category, ""), HUB_TAG_TELEGRAM) if t)
    footer = footer + _text(f"\n{tags}")
    return TelegramRender(head=head, body=body, footer=footer, marker_text=marker(post.receipt_no))


def _link_html(url: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(url, quote=False)}</a>'


def render_plain(post: Post, *, thai_digits: bool = False, facebook_link_in_text: bool = True) -> str:
    """Facebook and sandbox text: title, date, body, footer with marker, Thai hashtags."""
    convert = thai_digits_outside_urls if thai_digits else (lambda s: s)
    lines: list[str] = []
    title = convert(printed_title(post))
    if title:
        lines.append(title)
    lines.append(f"🗓 {convert(be_date(post.published_at))}")
    lines.append("")
    lines.append(convert(body_text(post)))
    lines.append("")
    lines.append(f"📍 {convert(attribution_line(post.attribution))}")
    lines.append(marker(post.receipt_no))
    if post.link and facebook_link_in_text:
        lines.append(f"🔗 {post.link}")
    lines.append(" ".join(t for t in (FACEBOOK_TAGS.get(post.category, ""), HUB_TAG_FACEBOOK) if t))
    return "\n".join(lines)


def visible_text(html_text: str) -> str:
    """What a resident reads of a Telegram HTML text: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", html_text))


# -- the post plan per platform (publishers/plan.py) ------------------------------------------------
# Pure functions of the post and the outlet's display option, so the bot preview, the dashboard
# preview, the claim's pacing and the publisher all use the very same calls and texts.

FACEBOOK_MESSAGE_LIMIT = 63_206  # characters of a Page post's message (bodies are ≤ 20,000 UTF-16 units)


def plan_telegram(post: Post, *, thai_digits: bool = False) -> PostPlan:
    """No photo: one ``sendMessage`` per text part (≤ 4,096 visible units). One photo:
    ``sendPhoto`` with the caption; 2–10: ``sendMediaGroup`` (costs one message per photo). A
    caption over 1,024 units keeps title, date and footer, and the body follows as
    ``sendMessage`` replies to the first photo. More than 10 photos are planned as one album
    that ``publish`` refuses (PERMANENT): the plan itself never fails."""
    rendered = render_telegram(post, thai_digits=thai_digits)
    calls: list[PlannedCall] = []
    count = len(post.photos)
    if not count:
        texts = rendered.messages()
    else:
        caption, texts = rendered.caption_and_replies()
        method = "sendPhoto" if count == 1 else "sendMediaGroup"
        calls.append(PlannedCall(0, method, count, caption, tuple(range(count))))
    for text in texts:
        calls.append(PlannedCall(len(calls), "sendMessage", 1, text))
    return PostPlan("telegram", tuple(calls))


def plan_facebook(post: Post, *, thai_digits: bool = False) -> PostPlan:
    """Each photo uploaded unpublished (one call each), then one feed post carrying the whole text
    (and ``attached_media`` for the photos; the link as a link preview when there is no photo)."""
    message = render_plain(post, thai_digits=thai_digits, facebook_link_in_text=bool(post.photos))
    count = len(post.photos)
    calls = [PlannedCall(i, "photo_upload", 1, "", (i,)) for i in range(count)]
    calls.append(PlannedCall(count, "feed", 1, message, tuple(range(count))))
    return PostPlan("facebook", tuple(calls))


def plan_sandbox(post: Post, *, thai_digits: bool = False) -> PostPlan:
    """One record holding the plain text (as Facebook would show it) and the Telegram parts."""
    text = render_plain(post, thai_digits=thai_digits)
    return PostPlan("sandbox", (PlannedCall(0, "sandbox", 1, text, tuple(range(len(post.photos)))),))


# -- splitting ---------------------------------------------------------------------------------


@cache
def _tokenizer() -> object:
    from pythainlp.tokenize import word_tokenize  # imported lazily: loading the dictionary takes ~0.5 s

    return word_tokenize


def tokens(text: str) -> Iterator[str]:
    """Word-level tokens whose concatenation is exactly ``text``; URLs and whitespace stay whole."""
    word_tokenize = _tokenizer()
    for atom in _ATOMS.findall(text):
        if atom.isspace() or _URL.fullmatch(atom) or atom.isascii():
            yield atom
        else:
            yield from word_tokenize(atom, keep_whitespace=True)  # type: ignore[operator]


def _hard_split(token: str, budget: int) -> list[str]:
    """Cut a token longer than the budget by code points (never inside a surrogate pair)."""
    pieces: list[str] = []
    current = ""
    for char in token:
        if utf16_len(current + char) > budget:
            pieces.append(current)
            current = ""
        current += char
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, first_budget: int, budget: int) -> list[str]:
    """Split ``text`` into chunks whose concatenation is exactly ``text``.

    The first chunk fits ``first_budget`` and the others ``budget`` (UTF-16 units). A chunk ends,
    in order of preference, at a paragraph break (a newline) in its second half, at a space in
    its second half (Thai separates sentences and phrases with a space, so the sentence stays
    whole), else at a Thai word boundary; only a single word or URL longer than the budget is cut
    inside (by code points, never between the halves of a surrogate pair).
    """
    chunks: list[str] = []
    current: list[str] = []
    current_len = 0
    last_break = -1  # index in ``current`` just after the last newline token
    last_space = -1  # index in ``current`` just after the last whitespace token

    def limit() -> int:
        return first_budget if not chunks else budget

    pending = list(tokens(text))
    pending.reverse()
    while pending:
        token = pending.pop()
        size = utf16_len(token)
        if current_len + size <= limit():
            current.append(token)
            current_len += size
            if token.isspace():
                last_space = len(current)
                if "\n" in token:
                    last_break = len(current)
            continue
        if size > limit() and not current:
            pieces = _hard_split(token, limit())
            pending.extend(reversed(pieces))
            continue
        pending.append(token)
        for cut in (last_break, last_space):  # end the chunk at the best break in its second half
            if cut > 0 and utf16_len("".join(current[:cut])) * 2 >= limit():
                pending.extend(reversed(current[cut:]))
                current = current[:cut]
                break
        chunks.append("".join(current))
        current, current_len, last_break, last_space = [], 0, -1, -1
    if current or not chunks:
        chunks.append("".join(current))
    return chunks


def _pack(head: Part, body: str, footer: Part, limit: int) -> list[str]:
    """Head + body + footer as HTML messages, each ≤ ``limit`` visible units; nothing dropped."""
    whole = head + _text(body) + footer
    if whole.length <= limit:
        return [whole.html]
    first_budget = limit - head.length
    chunks = split_text(body, first_budget, limit)
    messages: list[Part] = [_text(chunk.strip()) for chunk in chunks]
    messages = [m for m in messages if m.plain] or [EMPTY]
    messages[0] = head + messages[0]
    tail = messages[-1] + footer
    if tail.length <= limit:
        messages[-1] = tail
    else:  # the footer does not fit after the last chunk: it goes in a message of its own
        messages.append(Part(footer.plain.strip(), footer.html.strip()))
    return [m.html.strip() for m in messages]
