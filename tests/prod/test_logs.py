"""Logging (issue 10 item 8, issue 15 item 5): secrets are redacted at the handler, in both formats."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from network_hub import logs
from network_hub.cli.app import main

BOT_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
LINE_TOKEN = "eyJhbGciOiJIUzI1NiJ9+abc/DEF=ghiJKLmnoPQRstuVWXyz0123456789"
LINE_SECRET = "8c0e2b5d4f6a7b9c1d3e5f7a9b1c3d5e"
FB_APP_SECRET = "f00dfacecafebabe1234"


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger's handlers and level after a test that configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, telegram_bot_token=BOT_TOKEN,  # type: ignore[call-arg]
                    facebook_app_secret=FB_APP_SECRET, **extra)


def _log_everything() -> None:
    # A child logger that no logger-level filter covered before (issue 10 item 8).
    logging.getLogger("telegram.ext.Updater").error(
        "Error while getting Updates: http://127.0.0.1:8081/bot%s/getUpdates", BOT_TOKEN)
    logging.getLogger("httpcore.http11").warning(
        "send_request_headers.started request=<Request [b'POST']> headers=[(b'Authorization', b'Bearer %s')]",
        LINE_TOKEN)
    logging.getLogger("network_hub.line.webhook").warning("channel secret %s did not verify", LINE_SECRET)
    logging.getLogger("publishers.facebook").warning(
        "GET /debug_token?input_token=abc123456&access_token=app|%s", FB_APP_SECRET)
    try:
        raise RuntimeError(f"Unauthorized for http://127.0.0.1:8081/bot{BOT_TOKEN}/sendMessage")
    except RuntimeError:
        logging.getLogger("jobs.dispatch").exception(
            "send failed", extra={"delivery_id": 41, "item_id": 7, "outlet_id": 3})


def _assert_clean(output: str) -> None:
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], LINE_TOKEN, LINE_SECRET, FB_APP_SECRET):
        assert secret not in output, f"{secret[:12]}… leaked"
    assert "<redacted>" in output


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_tokens_in_child_loggers_and_tracebacks_are_redacted(
    tmp_path: Path, root_logging: None, log_format: str
) -> None:
    logs.register_secret(LINE_SECRET)  # e.g. a LINE channel secret decrypted from the vault
    stream = io.StringIO()
    logs.configure_logging(_settings(tmp_path), level="INFO", log_format=log_format, stream=stream)
    _log_everything()
    output = stream.getvalue()
    _assert_clean(output)
    assert "Traceback (most recent call last)" in output and "RuntimeError" in output
    if log_format == "json":
        lines = [json.loads(line) for line in output.splitlines()]
        assert len(lines) == 5
        failed = lines[-1]
        assert failed["level"] == "ERROR" and failed["logger"] == "jobs.dispatch"
        assert (failed["delivery_id"], failed["item_id"], failed["outlet_id"]) == (41, 7, 3)
        assert "RuntimeError" in failed["exception"] and BOT_TOKEN not in failed["exception"]
        assert lines[0]["message"].endswith("/bot<redacted>/getUpdates")


def test_configured_secret_values_are_redacted_whatever_their_shape(tmp_path: Path, root_logging: None) -> None:
    stream = io.StringIO()
    settings = _settings(tmp_path, metrics_token="metrics-scrape-secret-1",
                         database_url="postgresql://hub:pg-pass-word@db.internal/hub")
    logs.configure_logging(settings, level="INFO", log_format="text", stream=stream)
    log = logging.getLogger("anything.at.all")
    log.info("token is %s", "metrics-scrape-secret-1")
    log.info("connecting to postgresql://hub:pg-pass-word@db.internal/hub")
    log.info("repr %r", {"access_token": "EAAB-not-a-known-value", "client_secret": "zzz-something"})
    output = stream.getvalue()
    for secret in ("metrics-scrape-secret-1", "pg-pass-word", "EAAB-not-a-known-value", "zzz-something"):
        assert secret not in output
    assert "postgresql://hub:<redacted>@db.internal/hub" in output


def test_ordinary_text_is_left_alone() -> None:
    text = "delivery 41 to outlet 3 sent at 10:15:00 (Telegram message 1234)"
    assert logs.redact(text) == text


def test_configuring_twice_keeps_one_hub_handler(root_logging: None) -> None:
    logs.configure_logging(log_format="text", stream=io.StringIO())
    logs.configure_logging(log_format="json", stream=io.StringIO())
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs._HubHandler)]
    assert len(ours) == 1 and isinstance(ours[0].formatter, logs.JsonFormatter)


def test_unknown_log_format_is_refused_with_the_variable_named() -> None:
    with pytest.raises(ValueError, match="HUB_LOG_FORMAT"):
        logs.configure_logging(log_format="xml", stream=io.StringIO())


def test_cli_logs_json_when_asked(tmp_path: Path, root_logging: None, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    assert main(["no-such-command"]) == 2  # logging is configured before the command is parsed
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logs._HubHandler))
    assert isinstance(handler.formatter, logs.JsonFormatter)
    stream = io.StringIO()
    handler.setStream(stream)
    logging.getLogger("telegram.ext.Updater").warning("token %s", BOT_TOKEN)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "token <redacted>"


def test_json_lines_carry_the_ids_an_event_concerns(root_logging: None) -> None:
    stream = io.StringIO()
    logs.configure_logging(log_format="json", level="INFO", stream=stream)
    log = logging.getLogger("jobs.dispatch")
    log.warning("delivery %s to outlet %s (%s): %s", 41, 3, "telegram", "Bad Request")  # the engine's style
    with logs.log_context(item_id=7, process_id="web-1"):
        log.info("approved")
    log.info("nothing in particular")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["delivery_id"], first["outlet_id"]) == (41, 3) and "item_id" not in first
    assert (second["item_id"], second["process_id"]) == (7, "web-1")
    assert not {"delivery_id", "item_id", "outlet_id", "process_id"} & set(third)
