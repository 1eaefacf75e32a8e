"""Keep credentials out of log records, whoever handles them.

httpx logs every request URL at INFO (``POST https://api.telegram.org/bot<TOKEN>/sendMessage``)
and urllib3 logs request paths with their query string at DEBUG (facebook-sdk puts tokens
there). A filter on those loggers rewrites the record before any handler sees it.

Why this stays next to the root-logger redaction of ``network_hub.logs`` (checked in round 3):
that one redacts in the formatter of the one handler ``configure_logging`` installs, so it
covers every logger but only that handler, and only in processes that called it. This filter
changes the record itself, so a handler the hub did not install — pytest's ``caplog``, a
program that embeds the publishers, a handler added by a library or an operator's logging
config — never receives the token either (tests/publishers/test_telegram.py::
test_token_never_reaches_the_logs fails without it). The patterns are ``network_hub.logs``'s
(one list, configured secrets included) plus a ``/bot<id>:<secret>`` rule for short bot ids.
"""

from __future__ import annotations

import logging
import re

from network_hub.logs import redact as redact_everywhere

_PATTERNS = (
    # Telegram: /bot<id>:<secret>/ and /file/bot<id>:<secret>/
    (re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"), r"\1<redacted>"),
    # Graph API query/form parameters that carry secrets
    (
        re.compile(r"((?:access_token|input_token|appsecret_proof|client_secret|fb_exchange_token)=)[^&\s\"']+"),
        r"\1<redacted>",
    ),
    (re.compile(r"((?:Bearer|OAuth)\s+)[A-Za-z0-9|._-]{8,}"), r"\1<redacted>"),
)
LOGGERS = ("httpx", "httpcore", "urllib3.connectionpool", "telegram", "facebook", "publishers")


def redact(text: str) -> str:
    text = redact_everywhere(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True
            record.msg, record.args = redact(message), None
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Attach the filter to every logger that may print a URL with a credential (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
