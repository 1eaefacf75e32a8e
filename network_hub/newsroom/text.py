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


def default_title(body: str) -> str:
    """The first non-empty line of the body, cut to the title limit."""
    for line in body.split("\n"):
        line = " ".join(line.split())
        if line:
            return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1] + "…"
    return ""
