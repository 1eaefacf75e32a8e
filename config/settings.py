"""Hub settings (pydantic-settings, prefix ``HUB_``, ``.env`` read).

Every variable of DESIGN §5 lives here with its default. ``load_settings`` turns a validation
error into one line that names the variable, so a bad value stops start-up with an actionable
message instead of a traceback.
"""

from __future__ import annotations

import re
import secrets
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SettingsError(Exception):
    """A setting has an invalid value; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("hub-data"), description="Where the SQLite file, media and keys live")
    database_url: str = Field(default="", description="SQLAlchemy URL; default a SQLite file in data_dir")
    timezone: str = "Asia/Bangkok"
    secret_key: str = Field(default="", description="Signs cookies and links; generated on first run")
    # Fernet key(s), comma separated (newest first), encrypting tokens stored in the database;
    # empty: data_dir/secrets.key, generated on first use (network_hub/vault.py).
    secrets_key: str = Field(default="", description="Encrypts stored platform tokens; never in the database")
    public_base_url: str = "http://127.0.0.1:8080"

    telegram_bot_token: str = ""
    telegram_bot_username: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str = ""
    # Webhook mode: where the bot's own small HTTP server listens (host:port) behind HUB_TELEGRAM_WEBHOOK_URL.
    telegram_webhook_listen: str = "127.0.0.1:8443"
    # The telegram-polling leader lease: one process polls; another takes over this long after it dies.
    telegram_lease_seconds: int = Field(default=30, ge=2, le=600)

    facebook_graph_url: str = "https://graph.facebook.com"
    facebook_graph_version: str = "v25.0"
    facebook_app_id: str = ""
    facebook_app_secret: str = ""
    # Facebook Login (connect a Page by signing in): the dialog's host; tests point it at the Graph fake.
    facebook_dialog_url: str = "https://www.facebook.com"

    # LINE (docs/OUTLETS.md): the hub's own Official Account; empty token: LINE is off.
    line_channel_access_token: str = ""
    line_channel_secret: str = ""
    line_api_base_url: str = "https://api.line.me"
    line_data_api_base_url: str = "https://api-data.line.me"
    # Share of the OA's monthly message quota that ordinary posts leave untouched (for emergencies).
    line_quota_reserve_percent: float = Field(default=20.0, ge=0, le=100)

    media_dir: Path | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)

    quiet_village_days: int = Field(default=14, ge=1, le=365)
    pending_approval_hours: int = Field(default=24, ge=1, le=24 * 30)
    quiet_hours: str = "21:00-07:00"
    digest_weekday: str = "mon"
    digest_hour: int = Field(default=8, ge=0, le=23)

    dispatch_interval_s: float = Field(default=2.0, gt=0, le=60)
    dispatch_batch: int = Field(default=20, ge=1, le=1000)
    dispatch_concurrency: int = Field(default=8, ge=1, le=256)
    lease_seconds: int = Field(default=120, ge=10, le=3600)
    max_attempts: int = Field(default=8, ge=1, le=100)
    http_timeout_s: float = Field(default=30.0, gt=0, le=300)
    # Telegram's per-bot budget (about 30 messages a second); 0 turns the hub's own limit off.
    telegram_bot_per_second: float = Field(default=30.0, ge=0, le=1000)
    # Engine v2 sliding windows (network_hub/outbox/ledger.py): messages per chat per window; 0: off.
    telegram_chat_per_window: int = Field(default=20, ge=0, le=10000)
    telegram_chat_window_s: float = Field(default=60.0, gt=0, le=3600)
    # Added to each window so a send in the fake's (or Telegram's) window is never outside ours.
    rate_window_slack_s: float = Field(default=0.5, ge=0, le=60)
    # A private chat the bot owns: reconciliation forwards channel messages there to read them.
    telegram_probe_chat_id: str = ""
    # SQLite: how often other processes' approvals are looked for (PostgreSQL uses LISTEN/NOTIFY).
    wake_poll_s: float = Field(default=0.25, gt=0, le=10)

    # Production (docs/DEPLOY.md): log format, the built-in daily backup, /metrics access.
    log_format: str = Field(default="text", pattern=r"^(text|json)$", description="text, or json: one object a line")
    backup_dir: Path | None = Field(default=None, description="Daily backups go here; empty: no scheduled backup")
    backup_keep_days: int = Field(default=14, ge=1, le=3650)
    backup_hour: int = Field(default=2, ge=0, le=23)
    # Empty: /metrics answers loopback clients only. Set: any client that sends it as a Bearer token.
    metrics_token: str = ""

    # PDPA in photos (issue 16): Tesseract reads submitted photos off the request path.
    photo_checks_enabled: bool = True
    # How long approval waits for the photo checks of an item before the moderator may confirm anyway.
    photo_check_wait_s: int = Field(default=300, ge=0, le=3600)
    photo_check_concurrency: int = Field(default=1, ge=1, le=16)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (expected e.g. Asia/Bangkok)") from exc
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_format(cls, value: str) -> str:
        if value.strip() in ("", "off"):
            return "off"
        if not re.fullmatch(r"\d{2}:\d{2}-\d{2}:\d{2}", value.strip()):
            raise ValueError("expected HH:MM-HH:MM, e.g. 21:00-07:00, or 'off'")
        start, end = value.strip().split("-")
        for part in (start, end):
            hour, minute = (int(x) for x in part.split(":"))
            if hour > 23 or minute > 59:
                raise ValueError(f"{part} is not a time of day")
        return value.strip()

    @field_validator("digest_weekday")
    @classmethod
    def _weekday_name(cls, value: str) -> str:
        lowered = value.strip().lower()[:3]
        if lowered not in WEEKDAYS:
            raise ValueError("expected a weekday name: mon, tue, wed, thu, fri, sat or sun")
        return lowered

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("expected a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("facebook_graph_version")
    @classmethod
    def _graph_version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", value):
            raise ValueError("expected a Graph API version like v25.0")
        return value

    # -- derived values -------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: ``postgresql://`` means psycopg 3; empty means the SQLite default."""
        url = self.database_url
        if not url:
            return f"sqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"

    @property
    def sandbox_dir(self) -> Path:
        return self.data_dir / "sandbox"

    @property
    def quiet_hours_window(self) -> tuple[time, time] | None:
        if self.quiet_hours == "off":
            return None
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    def ensure_secret_key(self) -> str:
        """Return the secret key, generating and storing one in the data directory on first run."""
        if self.secret_key:
            return self.secret_key
        from network_hub.keyfile import read_or_create_secret  # lazy: config must not import the hub early

        # O_CREAT|O_EXCL, 0600 from the start: two processes starting together share one key.
        self.secret_key = read_or_create_secret(self.data_dir / "secret_key", lambda: secrets.token_urlsafe(48))
        return self.secret_key


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and ``.env``; raise SettingsError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"HUB_{field.upper()}: {message}") from None
