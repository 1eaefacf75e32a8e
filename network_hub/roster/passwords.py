"""Member passwords for the web dashboard: argon2id hashes (argon2-cffi), never the password itself."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from network_hub.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase, short enough that hashing a pasted novel cannot be a DoS.
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()


def check_password_rules(password: str) -> None:
    """Raise InvalidInput (English + Thai) when ``password`` may not be used."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            f"รหัสผ่านต้องมีอย่างน้อย {MIN_PASSWORD_LENGTH} ตัวอักษร",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password may have at most {MAX_PASSWORD_LENGTH} characters",
            f"รหัสผ่านยาวได้ไม่เกิน {MAX_PASSWORD_LENGTH} ตัวอักษร",
        )
    if password.strip() != password or not password.strip():
        raise InvalidInput(
            "a password may not start or end with spaces",
            "รหัสผ่านต้องไม่ขึ้นต้นหรือลงท้ายด้วยช่องว่าง",
        )


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for no hash or a damaged hash."""
    if not password_hash or not password or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at next sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
