"""Normalising what people type: NFC, no invisible characters, one newline style.

Thai digits are kept exactly as typed (an outlet may choose Thai digits for display; the text
itself is the author's).
"""

from __future__ import annotations

import re
import unicodedata

from network_hub.textclean import strip_controls

# Zero-width space/non-joiner, word joiner, BOM, Mongolian vowel separator: invisible, pasted from
# Word or web pages, and they break search, PDPA matching and Telegram's length counting.
_ALWAYS_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff\u180e]")
# A zero-width joiner is kept only inside emoji sequences (👨‍👩‍👧), where it carries meaning.
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2190-\u21ff\u2b00-\u2bff\ufe0f"
_STRAY_ZWJ = re.compile(f"(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])")
# NIKHAHIT + SARA AA typed in place of SARA AM (ำ): looks the same, compares differently.
_SPLIT_SARA_AM = re.compile("\u0e4d\u0e32")


def normalize_text(text: str) -> str:
    """NFC, invisible characters removed, ``\\r\\n`` → ``\\n``, trailing spaces trimmed per line."""
    text = unicodedata.normalize("NFC", text or "")
    text = _ALWAYS_INVISIBLE.sub("", text)
    text = _STRAY_ZWJ.sub("", text)
    text = _SPLIT_SARA_AM.sub("\u0e33", text)
    text = strip_controls(text)  # \r\n → \n, other C0 controls out (they break the Atom feed)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def normalize_line(text: str) -> str:
    """A one-line field (title, reason): normalised, inner newlines folded to spaces."""
    return " ".join(normalize_text(text).split())


TITLE_MAX = 200

# The title rule (docs/POSTS.md §1). A title is *derived* when the author typed none: it is the
# body's opening line, used where a short label is needed (lists, cards, notifications, the feed
# entry's <title>). A title is *printed* above the body only when it adds something, i.e. when
# the body does not already start with it. Whether a title was typed or derived is not stored:
# the rule depends only on (title, body), so a typed title equal to the first line behaves like a
# derived one (both would print the opening twice), and a moderator's edit of either field is
# judged afresh.

_THAI_MONTH = (
    "มกราคม|กุมภาพันธ์|มีนาคม|เมษายน|พฤษภาคม|มิถุนายน|กรกฎาคม|สิงหาคม|กันยายน|ตุลาคม|พฤศจิกายน|ธันวาคม"
    r"|ม\.ค\.|ก\.พ\.|มี\.ค\.|เม\.ย\.|พ\.ค\.|มิ\.ย\.|ก\.ค\.|ส\.ค\.|ก\.ย\.|ต\.ค\.|พ\.ย\.|ธ\.ค\."
)
_DIGIT = "[0-9๐-๙]"
# A line that is only a date: "3 ธันวาคม 2569", "วันพุธที่ 3 ธ.ค. 69", "03/12/2569", "🗓 3 ธันวาคม 2569".
_DATE_ONLY = re.compile(
    rf"(?:วัน\S*?)?(?:ที่)?\s*{_DIGIT}{{1,2}}\s*(?:{_THAI_MONTH})\s*(?:พ\.ศ\.\s*)?{_DIGIT}{{2,4}}"
    rf"(?:\s*(?:เวลา)?\s*{_DIGIT}{{1,2}}[.:]{_DIGIT}{{2}}\s*(?:น\.)?)?"
    rf"|{_DIGIT}{{1,2}}[/.-]{_DIGIT}{{1,2}}[/.-]{_DIGIT}{{2,4}}"
)
# Emoji modifiers that are not symbols by category (variation selector, joiner, keycap).
_EMOJI_GLUE = {"\ufe0f", "\ufe0e", "\u200d", "\u20e3"}


def comparable(text: str) -> str:
    """Text reduced to its letters and digits for comparing a title with the body's opening: no
    emoji, symbols or punctuation (so "…" and "📢" do not matter), no whitespace (Thai spacing
    varies between a typed title and the body), case folded. Thai vowel and tone marks are kept
    (they are marks of letters, not symbols)."""
    kept = [
        ch
        for ch in unicodedata.normalize("NFC", text)
        if not ch.isspace() and ch not in _EMOJI_GLUE and unicodedata.category(ch)[0] not in "PS"
    ]
    return "".join(kept).casefold()


def _trim_decoration(line: str) -> str:
    """The line without emoji, symbols, punctuation or spaces at either end."""
    chars = list(line)
    while chars and (chars[0].isspace() or chars[0] in _EMOJI_GLUE or unicodedata.category(chars[0])[0] in "PS"):
        chars.pop(0)
    while chars and (chars[-1].isspace() or chars[-1] in _EMOJI_GLUE or unicodedata.category(chars[-1])[0] in "S"):
        chars.pop()  # a trailing "." may end "น." or "ธ.ค.": only symbols are trimmed at the end
    return "".join(chars)


def is_preamble_line(line: str) -> bool:
    """A line before the real opening: only emoji/symbols/punctuation, or only a date."""
    if not comparable(line):
        return True
    return bool(_DATE_ONLY.fullmatch(" ".join(_trim_decoration(line).split())))


def _lines(body: str) -> list[str]:
    return [" ".join(line.split()) for line in body.split("\n") if line.strip()]


def _cut(line: str) -> str:
    return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1] + "…"


def default_title(body: str) -> str:
    """The derived title: the body's first line that says something (a line of only emoji or
    only a date is skipped), whitespace collapsed, cut to the title limit with "…"."""
    lines = _lines(body)
    for line in lines:
        if not is_preamble_line(line):
            return _cut(line)
    return _cut(lines[0]) if lines else ""


def legacy_default_title(body: str) -> str:
    """The derivation of earlier versions (the first non-empty line, cut): items stored then
    still count as derived."""
    lines = _lines(body)
    return _cut(lines[0]) if lines else ""


def is_derived_title(title: str, body: str) -> bool:
    """True when ``title`` is what the hub derives from ``body`` (now or in earlier versions)."""
    title = " ".join((title or "").split())
    return title in (default_title(body), legacy_default_title(body))


def title_is_printed(title: str, body: str) -> bool:
    """Whether a post prints ``title`` above ``body`` (bold on Telegram, first line elsewhere).

    Not printed when it is empty, or when the body already starts with it: its words are the
    beginning of the body's first line or of its first line after a preamble of emoji or a date
    line (a derived title always is; so is a typed title equal to the first line or a prefix of
    it, with or without "…"). Printed when it says something the opening does not: a typed title
    longer than the first line, different from it, or equal to a later paragraph.
    """
    wanted = comparable(title or "")
    if not wanted:
        return False
    lines = _lines(body)
    candidates = lines[:1]
    for line in lines:
        if not is_preamble_line(line):
            candidates.append(line)
            break
    return not any(comparable(line).startswith(wanted) for line in candidates)
