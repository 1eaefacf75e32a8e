"""Keep credentials out of logs.

httpx logs every request URL at INFO (``POST https://api.telegram.org/bot<TOKEN>/sendMessage``)
and urllib3 logs request paths with their query string at DEBUG (facebook-sdk puts tokens
there). A filter on those loggers rewrites the record before any handler sees it.
"""

from __future__ import annotations

import logging
import re

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
