"""Logging for ``network-hub run`` and the CLI: one handler on the root logger, secrets redacted.

Redaction happens in the handler's formatter, on the finished line, so it covers every logger
(child loggers such as ``telegram.ext.Updater`` or ``httpcore.http11`` included, which a filter on
a named logger never sees), formatted tracebacks and exception text. What is redacted:

- Telegram bot tokens (``123456:AA…``) wherever they appear, not only after ``/bot``;
- query/form/JSON parameters that carry credentials (``access_token=``, ``client_secret``,
  ``channel_secret``, ``channel_access_token``, ``password`` …);
- ``Authorization: Bearer|Basic|OAuth …`` values (LINE channel access tokens travel that way);
- passwords in URLs (``postgresql://hub:secret@db/hub``);
- the value of every setting whose name says it is a secret (``HUB_*TOKEN*``, ``*SECRET*``,
  ``*KEY*``, ``*PASSWORD*``), plus values registered with :func:`register_secret` (e.g. a token
  decrypted from the vault).

``HUB_LOG_FORMAT=json`` writes one JSON object per line (for journald and log shippers) with the
time, level, logger, message, exception text and the ids of what the event concerns
(``delivery_id``, ``item_id``, ``outlet_id`` …): passed with ``extra=``, set for a block with
:func:`log_context`, or read from the message ("delivery 41 to outlet 3"). Every string is redacted.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from pydantic import BaseModel

REDACTED = "<redacted>"
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_CREDENTIAL_NAMES = (
    "access_token|input_token|appsecret_proof|client_secret|fb_exchange_token|refresh_token|id_token"
    "|channel_secret|channel_access_token|secret_key|secrets_key|api_key|password|passwd|token"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram bot tokens: <bot id>:<35 url-safe characters>, anywhere (URLs, repr of a Bot, tracebacks).
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),
    # name=value in query strings, forms and key=value log lines.
    (re.compile(rf"(?i)\b((?:{_CREDENTIAL_NAMES})=)[^&\s\"',;]+"), rf"\1{REDACTED}"),
    # "name": "value" in JSON bodies and Python reprs of dicts.
    (re.compile(rf"(?i)([\"'](?:{_CREDENTIAL_NAMES})[\"']\s*:\s*)[\"'][^\"']*[\"']"), rf"\1'{REDACTED}'"),
    # Authorization header values (LINE and Graph tokens may contain + / =).
    (re.compile(r"(?i)\b((?:Bearer|OAuth|Basic)\s+)[A-Za-z0-9+/=|._~-]{8,}"), rf"\1{REDACTED}"),
    # user:password@ in URLs.
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), rf"\1{REDACTED}@"),
)
_SECRET_SETTING = re.compile(r"token|secret|key|password", re.IGNORECASE)
_MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words

_secrets_lock = threading.Lock()
_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None

# Attributes every LogRecord has; anything else came from ``extra=`` and goes into the JSON line.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def register_secret(value: str | None) -> None:
    """Redact this literal value from every log line from now on (short values are ignored)."""
    global _secrets_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a secret that contains another is replaced whole.
        alternatives = sorted(_secrets, key=len, reverse=True)
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def register_settings_secrets(settings: BaseModel) -> None:
    """Register the value of every setting whose name marks it as a secret, and the database password."""
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, str) and _SECRET_SETTING.search(name):
            for part in value.split(","):  # HUB_SECRETS_KEY may list several keys
                register_secret(part.strip())
    url = getattr(settings, "database_url", "")
    if isinstance(url, str) and url:
        match = re.search(r"://[^:/@\s]+:([^@/\s]+)@", url)
        if match:
            register_secret(match.group(1))


def redact(text: str) -> str:
    """``text`` with every known kind of credential replaced by ``<redacted>``."""
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _PATTERNS:
        text = regex.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class RedactingFormatter(logging.Formatter):
    """The usual one-line text format, redacted after formatting (message, traceback, stack)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_log_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("hub_log_context",
                                                                                     default=None)
# The hub's messages name what they are about ("delivery 41 to outlet 3 (telegram): …"); the JSON
# line carries those ids as fields when the caller did not pass them with ``extra=``.
_ID_IN_MESSAGE = {
    "delivery_id": re.compile(r"\bdelivery (\d+)\b"),
    "item_id": re.compile(r"\bitem (\d+)\b"),
    "outlet_id": re.compile(r"\boutlet (\d+)\b"),
}


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (e.g. ``delivery_id=41``) to every JSON log line written inside the block,
    in this thread or asyncio task."""
    token = _log_context.set({**(_log_context.get() or {}), **fields})
    try:
        yield
    finally:
        _log_context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, exception, and the ids of what the
    event concerns (from ``extra=``, :func:`log_context`, or the message's "delivery 41")."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, pattern in _ID_IN_MESSAGE.items():
            match = pattern.search(message)
            if match:
                entry[key] = int(match.group(1))
        entry.update(_log_context.get() or {})
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(_redact_value(entry), ensure_ascii=False)


class _HubHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring again replaces it."""


def configure_logging(settings: BaseModel | None = None, *, level: str | int | None = None,
                      log_format: str | None = None, stream: IO[str] | None = None) -> logging.Handler:
    """Install (or replace) the hub's handler on the root logger; safe to call more than once.

    ``log_format`` defaults to the setting ``log_format``, then ``HUB_LOG_FORMAT``, then text.
    Handlers someone else installed (pytest's capture, for example) are left alone.
    """
    if settings is not None:
        register_settings_secrets(settings)
    chosen = (log_format or getattr(settings, "log_format", None) or os.environ.get("HUB_LOG_FORMAT") or "text")
    chosen = chosen.strip().lower()
    if chosen not in LOG_FORMATS:
        raise ValueError(f"HUB_LOG_FORMAT: expected one of {', '.join(LOG_FORMATS)}, got {chosen!r}")
    handler = _HubHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else RedactingFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HubHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level.upper() if isinstance(level, str) else level)
    # httpx logs every request at INFO: thousands of lines a minute from a busy dispatcher.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler


def configure_from_environment(level: str | int = logging.WARNING) -> logging.Handler:
    """The CLI's start-up: settings from the environment when they are valid, text logs otherwise
    (a bad setting is then reported by the command itself, as one clear line)."""
    from config.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError:
        return configure_logging(level=level, log_format="text")
    return configure_logging(settings, level=level)
