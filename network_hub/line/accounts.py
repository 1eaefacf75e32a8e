"""Other Official Accounts (e.g. one per tambon) besides the hub's own.

The hub's own OA is configured by ``HUB_LINE_CHANNEL_ACCESS_TOKEN``/``HUB_LINE_CHANNEL_SECRET``.
Another OA is registered by name with the environment variables or files that hold its token and
secret (read at each use; the secrets never enter the database), so its bot's ``join`` events are
verified and recorded and its groups can be picked for outlets. The OA's bot user id is learned
from the first webhook its secret verifies (the body's ``destination``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.db.models import KeyValue
from network_hub.errors import Conflict, InvalidInput

NAMESPACE = "line_accounts"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


@dataclass(frozen=True)
class Account:
    name: str
    token_env: str | None
    token_file: str | None
    secret_env: str | None
    secret_file: str | None
    bot_user_id: str | None = None

    def token(self) -> str:
        return _read(self.token_env, self.token_file)

    def secret(self) -> str:
        return _read(self.secret_env, self.secret_file)


def _read(env: str | None, file: str | None) -> str:
    if env:
        return os.environ.get(env, "").strip()
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError:
            return ""
    return ""


def _source(kind: str, env: str | None, file: str | None) -> tuple[str | None, str | None]:
    env, file = (env or "").strip() or None, (file or "").strip() or None
    if bool(env) == bool(file):
        raise InvalidInput(f"give exactly one of --{kind}-env or --{kind}-file (the {kind} never enters the database)",
                           f"ระบุ --{kind}-env หรือ --{kind}-file อย่างใดอย่างหนึ่ง")
    if env and not ENV_NAME_RE.fullmatch(env):
        raise InvalidInput(f"{env!r} is not an environment variable name", "ชื่อตัวแปรสภาพแวดล้อมไม่ถูกต้อง")
    return env, str(Path(file).expanduser().resolve()) if file else None


def add_account(session: Session, name: str, *, token_env: str | None = None, token_file: str | None = None,
                secret_env: str | None = None, secret_file: str | None = None, now: datetime) -> Account:
    name = name.strip().lower()
    if not NAME_RE.fullmatch(name) or name == "hub":
        raise InvalidInput(f"account name {name!r}: use lowercase letters, digits, '-' or '_' (not 'hub')",
                           "ชื่อบัญชีใช้ได้เฉพาะอักษรอังกฤษตัวเล็ก ตัวเลข - และ _")
    tenv, tfile = _source("token", token_env, token_file)
    senv, sfile = _source("secret", secret_env, secret_file)
    if session.get(KeyValue, (NAMESPACE, name)) is not None:
        raise Conflict(f"LINE account {name} exists", f"มีบัญชี LINE ชื่อ {name} แล้ว")
    value = {"token_env": tenv, "token_file": tfile, "secret_env": senv, "secret_file": sfile, "bot_user_id": None}
    session.add(KeyValue(namespace=NAMESPACE, key=name, value=value, updated_at=now))
    audit.record(session, at=now, action="line.account_added", object_type="line_account", object_id=name,
                 after={k: v for k, v in value.items() if k != "bot_user_id"})
    return Account(name, tenv, tfile, senv, sfile)


def list_accounts(session: Session) -> list[Account]:
    rows = session.scalars(select(KeyValue).where(KeyValue.namespace == NAMESPACE).order_by(KeyValue.key))
    return [Account(r.key, r.value.get("token_env"), r.value.get("token_file"), r.value.get("secret_env"),
                    r.value.get("secret_file"), r.value.get("bot_user_id")) for r in rows]


def learn_bot_user_id(session: Session, name: str, bot_user_id: str, now: datetime) -> None:
    row = session.get(KeyValue, (NAMESPACE, name))
    if row is not None and row.value.get("bot_user_id") != bot_user_id:
        row.value, row.updated_at = {**row.value, "bot_user_id": bot_user_id}, now


def account_of_bot(session: Session, bot_user_id: str) -> Account | None:
    return next((a for a in list_accounts(session) if a.bot_user_id == bot_user_id), None)
