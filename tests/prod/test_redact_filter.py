"""Why publishers/redact.py stays: it redacts the record itself, so handlers the hub did not
install (here a bare ``logging.Handler``, as an embedding program or an operator's config would
add) never see a token; its patterns are the root redaction's, configured secrets included."""

from __future__ import annotations

import logging

from network_hub import logs
from publishers import redact

BOT_TOKEN = "8123456789:AAH" + "x" * 32
SHORT_BOT = "123:abcDEF_-9"
CONFIGURED = "line-channel-token-" + "q" * 30


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())  # no hub formatter: what any other handler would see


def test_a_foreign_handler_gets_redacted_records_from_the_client_loggers() -> None:
    redact.install()
    logs.register_secret(CONFIGURED)
    keep = Keep()
    logger = logging.getLogger("httpx")
    saved = logger.level, logger.propagate
    logger.addHandler(keep)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.info("HTTP Request: POST http://127.0.0.1:8081/bot%s/sendMessage", BOT_TOKEN)
        logger.info("HTTP Request: POST http://127.0.0.1:8081/bot%s/getMe", SHORT_BOT)
        logger.info("GET /debug_token?input_token=%s&access_token=app|secret123456", "EAAB" + "z" * 20)
        logger.info("headers Authorization: Bearer %s", CONFIGURED)
        logger.info("pushed with %s", CONFIGURED)  # a configured secret in plain text: the root rules' list
    finally:
        logger.removeHandler(keep)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    text = "\n".join(keep.lines)
    for secret in (BOT_TOKEN, SHORT_BOT.split(":")[1], "EAAB" + "z" * 20, "secret123456", CONFIGURED):
        assert secret not in text
    assert text.count("<redacted>") >= 5 and "sendMessage" in text and "getMe" in text
