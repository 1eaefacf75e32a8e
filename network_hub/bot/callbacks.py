"""Callback data: short strings (≤ 64 bytes, Telegram's limit) that name an action, never grant one.

Formats (``:``-separated, ASCII only):

- ``m:<verb>:<item id>:<version>[:<arg>]`` moderation on a card. Verbs: ``a`` approve now,
  ``s`` schedule menu, ``t`` schedule at slot ``arg`` (minutes since the epoch, UTC),
  ``tt`` typed time, ``b`` return menu, ``bc`` return with canned reason ``arg``, ``bt`` typed
  return reason, ``r`` reject menu, ``rc`` canned reject reason ``arg``, ``rt`` typed reject
  reason, ``x`` back to the main buttons. A version ties the press to what the card showed: a
  stale card changes nothing.
- ``d:<p|n>:<delivery id>`` an unknown delivery: ``p`` it is posted, ``n`` send it.
- ``n:<step>[:<arg>]`` the submission conversation; ``rs:<item id>:<version>`` edit and resubmit.
- ``l:<th|en>`` language.

Everything parsed here is then checked against the database and ``permissions`` by the handler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
MODERATION_PATTERN = r"^m:"
DELIVERY_PATTERN = r"^d:"
_MOD = re.compile(r"^m:(a|s|t|tt|b|bc|bt|r|rc|rt|x):(\d{1,12}):(\d{1,9})(?::(\d{1,12}))?$")
_DELIVERY = re.compile(r"^d:(p|n):(\d{1,12})$")
MOD_VERBS_WITH_ARG = frozenset({"t", "bc", "rc"})


def checked(data: str) -> str:
    """Refuse (in code, before Telegram does) anything longer than 64 bytes."""
    if not 1 <= len(data.encode("utf-8")) <= MAX_BYTES:
        raise ValueError(f"callback data {data!r} is not 1-{MAX_BYTES} bytes")
    return data


@dataclass(frozen=True)
class ModPress:
    verb: str
    item_id: int
    version: int
    arg: int | None = None


def mod(verb: str, item_id: int, version: int, arg: int | None = None) -> str:
    return checked(f"m:{verb}:{item_id}:{version}" + (f":{arg}" if arg is not None else ""))


def parse_mod(data: str | None) -> ModPress | None:
    match = _MOD.match(data or "")
    if match is None:
        return None
    verb, item_id, version, arg = match.groups()
    if (arg is not None) != (verb in MOD_VERBS_WITH_ARG):
        return None
    return ModPress(verb, int(item_id), int(version), int(arg) if arg is not None else None)


def delivery(answer: str, delivery_id: int) -> str:
    return checked(f"d:{answer}:{delivery_id}")


def parse_delivery(data: str | None) -> tuple[bool, int] | None:
    match = _DELIVERY.match(data or "")
    if match is None:
        return None
    return match.group(1) == "p", int(match.group(2))


def resubmit(item_id: int, version: int) -> str:
    return checked(f"rs:{item_id}:{version}")


def parse_resubmit(data: str | None) -> tuple[int, int] | None:
    match = re.match(r"^rs:(\d{1,12}):(\d{1,9})$", data or "")
    return (int(match.group(1)), int(match.group(2))) if match else None
