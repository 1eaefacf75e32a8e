"""Secrets at rest: tokens the hub stores (Facebook Page tokens, LINE channel secrets…) are encrypted.

``Vault.from_settings(settings)`` gives ``encrypt(plaintext) -> token`` and ``decrypt(token) ->
plaintext`` (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``). The key is never in the
database: it comes from ``HUB_SECRETS_KEY`` or, when that is empty, from ``secrets.key`` in the data
directory (created 0600 with ``O_EXCL`` on first use). A database dump alone therefore reveals no
token. Rotation: put a new key first in ``HUB_SECRETS_KEY`` followed by the old one(s), comma
separated; every key decrypts, the first encrypts, and ``rotate(token)`` re-encrypts a stored value.

Show a stored secret only through ``redact()`` ("••••abcd"); never send the plaintext back to a page.
Every value encrypted or decrypted here is registered with ``network_hub.logs.register_secret``, so
log lines (tracebacks included) print it redacted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from network_hub.errors import HubError
from network_hub.keyfile import read_or_create_secret
from network_hub.logs import register_secret

KEY_FILE_NAME = "secrets.key"
MASK = "••••"


class VaultError(HubError):
    """A stored secret cannot be decrypted (wrong key, damaged value) or a key is malformed."""

    code = "vault_error"


class _HasVaultSettings(Protocol):
    data_dir: Path

    @property
    def secrets_key(self) -> str: ...


def _parse_keys(text: str) -> list[Fernet]:
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:
        raise VaultError("HUB_SECRETS_KEY is empty", "ไม่พบกุญแจเข้ารหัสของระบบ กรุณาติดต่อผู้ดูแลระบบ")
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise VaultError(
                f"secrets key #{number} is not a Fernet key (44 url-safe base64 characters; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)",
                "กุญแจเข้ารหัสของระบบไม่ถูกต้อง กรุณาติดต่อผู้ดูแลระบบ",
            ) from None
    return fernets


class Vault:
    """Encrypts and decrypts the secrets the hub keeps in its database."""

    def __init__(self, keys: str) -> None:
        self._fernets = _parse_keys(keys)
        self._multi = MultiFernet(self._fernets)

    @classmethod
    def from_settings(cls, settings: _HasVaultSettings) -> Vault:
        configured = getattr(settings, "secrets_key", "") or ""
        if configured.strip():
            return cls(configured)
        key_file = Path(settings.data_dir) / KEY_FILE_NAME
        return cls(read_or_create_secret(key_file, lambda: Fernet.generate_key().decode("ascii")))

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        if not isinstance(plaintext, str):
            raise TypeError("Vault.encrypt takes a str")
        register_secret(plaintext)  # from now on no log line prints it (network_hub.logs)
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            plaintext = self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, AttributeError):
            raise VaultError(
                "a stored secret cannot be decrypted: the secrets key changed or the value is damaged "
                "(connect the account again, or restore the old key as a second HUB_SECRETS_KEY entry)",
                "ไม่สามารถถอดรหัสข้อมูลลับที่บันทึกไว้ได้ กรุณาเชื่อมต่อบัญชีใหม่อีกครั้ง หรือติดต่อผู้ดูแลระบบ",
            ) from None
        register_secret(plaintext)  # a decrypted token is redacted from every log line
        return plaintext

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` with the first (newest) key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise VaultError("a stored secret cannot be re-encrypted: no key decrypts it",
                             "ไม่สามารถเข้ารหัสข้อมูลลับใหม่ได้ กรุณาติดต่อผู้ดูแลระบบ") from None


def redact(secret: str | None, visible: int = 4) -> str:
    """How a stored secret may be shown: "••••abcd" (its last four characters), never more.

    Short values (12 characters or fewer) show only the mask: four characters of an eight
    character secret would be half of it.
    """
    if not secret:
        return ""
    if len(secret) <= 12:
        return MASK
    return MASK + secret[-visible:]
