"""Secret files in the data directory, created race-safely and private to the hub's user.

Two hub processes starting together must end up with the same key: the file is created with
``O_CREAT | O_EXCL`` (only one creator wins), mode 0600 from the first byte (never world-readable,
even for an instant), and whoever loses the race reads the winner's key. The data directory
itself is made 0700 when the hub creates it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 when missing; an existing directory is left as it is."""
    if not path.exists():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def read_or_create_secret(path: Path, generate: Callable[[], str]) -> str:
    """The secret stored in ``path``; on first use generate one and write it exclusively (0600)."""
    ensure_private_dir(path.parent)
    for _ in range(50):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
            time.sleep(0.02)  # the winner has created the file but not written it yet
            continue
        value = generate()
        try:
            os.write(fd, value.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return value
    raise RuntimeError(f"{path} exists but stays empty; remove it to let the hub generate a new secret")
