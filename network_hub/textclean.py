"""Control characters never enter the hub: C0 controls other than newline and tab are removed.

A ``\\x0b`` or ``\\x1b`` typed (or pasted) into a news item made ``/feeds/<area>.atom`` unparseable
for the area and every area above it (XML 1.0 forbids them; security review, finding 7). Text is
cleaned where it enters the domain (``newsroom.text.normalize_text``, which every submission,
edit, correction and reason goes through, whether from the bot, the web, the CLI or an import;
area names), and the feeds clean what they print once more, for rows stored before this rule.
"""

from __future__ import annotations

import re

# C0 controls except \t (0x09) and \n (0x0a); DEL; C1 controls; the XML non-characters U+FFFE/U+FFFF;
# lone surrogates (not valid UTF-8 either).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def strip_controls(text: str) -> str:
    """``text`` with line breaks unified to ``\\n`` and every other control character removed."""
    if not text:
        return text or ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def has_controls(text: str) -> bool:
    return bool(_CONTROLS.search(text.replace("\r", "")))
