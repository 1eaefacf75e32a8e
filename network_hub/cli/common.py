"""What every CLI command shares: the hub, output (table or --json) and error reporting.

Imported by every command module, so it imports nothing heavy at module level: the settings,
the database engine and the permission code are imported when a command first asks for them
(``tests/cli/test_startup_imports.py`` guards what a listing and ``--help`` load).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from network_hub.hub import Hub
    from network_hub.permissions import Actor

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table")
BY_OPTION = typer.Option(None, "--by", help="Act as this MEMBER (id, tg:<id> or phone); default: the hub")


@cache
def get_hub() -> Hub:
    """The hub for this CLI process (settings read once)."""
    from config.settings import load_settings
    from network_hub.hub import Hub

    return Hub.from_settings(load_settings())


@cache
def hub_timezone() -> ZoneInfo:
    """HUB_TIMEZONE (Asia/Bangkok by default): the CLI shows times as the office's clock reads them."""
    from config.settings import load_settings

    return load_settings().tz


def actor_for(session: Session, by: str | None) -> Actor:
    """The actor a command runs as: the hub (system) or the member named by ``--by``."""
    from network_hub.permissions import load_actor, system_actor

    if by is None:
        return system_actor()
    from network_hub.roster.lookup import find_member

    return load_actor(session, find_member(session, by).id)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return str(value)


def dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, default=_default, indent=2)


def emit(data: Mapping[str, Any] | Sequence[Mapping[str, Any]], as_json: bool, columns: Iterable[str] = ()) -> None:
    """Print one object or a listing, as JSON or as an aligned text table."""
    if as_json:
        typer.echo(dumps(data))
        return
    rows = [data] if isinstance(data, Mapping) else list(data)
    if not rows:
        typer.echo("(none)")
        return
    cols = list(columns) or list(rows[0].keys())
    cells = [[_cell(row.get(c)) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for r in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def local_time(value: object) -> object:
    """An aware datetime, or ISO text with an offset (as the query helpers return), in the hub's timezone."""
    if isinstance(value, str) and ISO_TIME.match(value):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo:
        return value.astimezone(hub_timezone()).strftime("%Y-%m-%d %H:%M %Z")
    return value


def _cell(value: object) -> str:
    value = local_time(value)
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value) or "-"
    if isinstance(value, datetime):
        # In the hub's timezone (Asia/Bangkok by default), as the office reads its clock; --json keeps ISO.
        local = value.astimezone(get_hub().settings.tz) if value.tzinfo else value
        return local.strftime("%Y-%m-%d %H:%M %Z")
    text = str(value.value if isinstance(value, Enum) else value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
