"""Telegram's HTML parse mode, as strictly as the real server applies it.

Supported tags only, balanced; every ``<`` that is not a tag and every ``&`` that is not one of
``&lt; &gt; &amp; &quot;`` or a numeric entity is an error ("can't parse entities"). Returns the
visible text and its entities (offsets/lengths in UTF-16 units, as Telegram reports them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>")
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class EntityParseError(ValueError):
    """The text Telegram answers with ``400 Bad Request: can't parse entities: …``."""


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    entity_type: str
    start: int  # UTF-16 offset in the visible text
    extra: dict[str, str] = field(default_factory=dict)


def parse_html(source: str) -> tuple[str, list[dict[str, object]]]:
    visible: list[str] = []
    offset = 0
    stack: list[_Open] = []
    entities: list[dict[str, object]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            match = _TAG.match(source, i)
            if match is None:
                raise EntityParseError(f"can't parse entities: unexpected '<' at byte offset {i}")
            closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
            if closing:
                if not stack or stack[-1].tag != name:
                    raise EntityParseError(f"can't parse entities: unexpected end tag at byte offset {i}")
                opened = stack.pop()
                length = offset - opened.start
                if length > 0:
                    entity: dict[str, object] = {"type": opened.entity_type, "offset": opened.start, "length": length}
                    entity.update(opened.extra)
                    entities.append(entity)
            else:
                opened = _open_tag(name, attrs, i)
                opened.start = offset
                stack.append(opened)
            i = match.end()
            continue
        if char == "&":
            match = _ENTITY.match(source, i)
            if match is None:
                raise EntityParseError(f"can't parse entities: character entity expected at byte offset {i}")
            text = unescape(match.group(0))
            i = match.end()
        elif char == ">":
            text = ">"  # Telegram tolerates a bare '>' in text
            i += 1
        else:
            text = char
            i += 1
        visible.append(text)
        offset += _u16(text)
    if stack:
        raise EntityParseError(f'can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -int(e["length"])))  # type: ignore[call-overload]
    return "".join(visible), entities


def _open_tag(name: str, attrs: str, position: int) -> _Open:
    values = {m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or "") for m in _ATTR.finditer(attrs)}
    if name in SIMPLE_TAGS:
        return _Open(name, SIMPLE_TAGS[name], 0)
    if name == "span" and values.get("class") == "tg-spoiler":
        return _Open(name, "spoiler", 0)
    if name == "a":
        href = unescape(values.get("href", ""))
        if not href:
            raise EntityParseError(f"can't parse entities: empty href in a tag at byte offset {position}")
        return _Open(name, "text_link", 0, {"url": href})
    if name == "tg-emoji":
        return _Open(name, "custom_emoji", 0, {"custom_emoji_id": values.get("emoji-id", "")})
    raise EntityParseError(f'can\'t parse entities: unsupported start tag "{name}" at byte offset {position}')
