"""What `network-hub run` logs about LINE at start-up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from config.settings import Settings
from network_hub.line.startup import announce


def test_no_token_means_line_is_off_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="network_hub.line"):
        assert announce(Settings(_env_file=None, data_dir=tmp_path)) is False  # type: ignore[call-arg]
    assert "LINE is off: HUB_LINE_CHANNEL_ACCESS_TOKEN is not set" in caplog.text


def test_a_plain_http_public_address_is_named_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, line_channel_access_token="t", line_channel_secret="s",  # type: ignore[call-arg]
                        public_base_url="http://hub.local:8080")
    with caplog.at_level(logging.INFO, logger="network_hub.line"):
        assert announce(settings) is True
    assert "HUB_PUBLIC_BASE_URL (http://hub.local:8080) is not https://" in caplog.text
    assert "t" not in [r.getMessage() for r in caplog.records]
