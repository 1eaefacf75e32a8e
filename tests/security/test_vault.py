"""Secrets at rest: the vault encrypts with a key kept outside the database; secrets are shown redacted."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config.settings import Settings
from network_hub.keyfile import read_or_create_secret
from network_hub.logs import RedactingFormatter
from network_hub.vault import Vault, VaultError, redact

PAGE_TOKEN = "EAAGm0PX4ZCpsBAKZAZCexampleexampleexampleZDZD"


def test_round_trip_with_a_key_file_created_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    vault = Vault.from_settings(Settings(data_dir=data_dir, secrets_key=""))
    token = vault.encrypt(PAGE_TOKEN)
    assert PAGE_TOKEN not in token and vault.decrypt(token) == PAGE_TOKEN
    key_file = data_dir / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    # A second process reads the same key file and decrypts what the first one stored.
    assert Vault.from_settings(Settings(data_dir=data_dir, secrets_key="")).decrypt(token) == PAGE_TOKEN


def test_the_environment_key_wins_and_the_key_file_is_not_created(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    vault = Vault.from_settings(Settings(data_dir=tmp_path, secrets_key=key))
    assert Fernet(key.encode()).decrypt(vault.encrypt("ลับ").encode()).decode() == "ลับ"
    assert not (tmp_path / "secrets.key").exists()


def test_a_wrong_key_or_damaged_value_is_a_clear_error(tmp_path: Path) -> None:
    token = Vault(Vault.generate_key()).encrypt(PAGE_TOKEN)
    other = Vault(Vault.generate_key())
    with pytest.raises(VaultError) as wrong:
        other.decrypt(token)
    assert "secrets key" in wrong.value.message_en and "ถอดรหัส" in wrong.value.message_th
    with pytest.raises(VaultError):
        other.decrypt(token[:-4] + "AAAA")
    with pytest.raises(VaultError, match="not a Fernet key"):
        Vault("not-a-key")


def test_rotation_new_key_first_old_key_still_decrypts() -> None:
    old, new = Vault.generate_key(), Vault.generate_key()
    stored = Vault(old).encrypt(PAGE_TOKEN)
    both = Vault(f"{new}, {old}")
    assert both.decrypt(stored) == PAGE_TOKEN
    rotated = both.rotate(stored)
    assert Vault(new).decrypt(rotated) == PAGE_TOKEN
    with pytest.raises(VaultError):
        Vault(old).decrypt(rotated)


def test_redact_shows_four_characters_at_most() -> None:
    assert redact(PAGE_TOKEN) == "••••" + PAGE_TOKEN[-4:]
    assert redact("short-secret") == "••••"
    assert redact("") == "" and redact(None) == ""


def test_two_processes_creating_the_key_at_once_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "d" / "secrets.key"
    results: list[str] = []
    counter = iter(range(1000))
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(read_or_create_secret(path, lambda: f"key-{next(counter)}"))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and path.read_text() == results[0]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_cookie_secret_key_file_is_created_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "hub", secret_key="")
    key = settings.ensure_secret_key()
    key_file = tmp_path / "hub" / "secret_key"
    assert key_file.read_text() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "hub", secret_key="").ensure_secret_key() == key



def test_stored_and_decrypted_tokens_are_redacted_from_logs() -> None:
    secret = "PAGE-TOKEN-" + "q" * 40
    token = Vault(Vault.generate_key()).encrypt(secret)
    assert secret not in token
    record = logging.LogRecord("publishers.facebook", logging.ERROR, __file__, 1, "posting with %s failed",
                               (secret,), None)
    line = RedactingFormatter("%(message)s").format(record)
    assert secret not in line and "posting with" in line
