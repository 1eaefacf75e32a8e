"""The sandbox outlet: records each rendered post as a JSON file instead of posting it.

Files live in ``<root>/<address>/<external id>.json`` (root = ``settings.sandbox_dir``), so a
person can see exactly what residents would have seen: the dashboard reads them back with
``list_posts``. It is the default outlet when no platform credentials are configured, and a place
where volunteers practise. Writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from publishers.base import CheckResult, ErrorClass, OutletTarget, Post, PublishError, PublishResult
from publishers.plan import PostPlan
from publishers.render import plan_sandbox, plan_telegram

ADDRESS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def valid_address(address: str) -> bool:
    """A sandbox address is a plain directory name (no path separators, no '..')."""
    return bool(ADDRESS_RE.fullmatch(address)) and ".." not in address


class SandboxPublisher:
    platform = "sandbox"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, address: str) -> Path:
        if not valid_address(address):
            raise PublishError(
                ErrorClass.NEEDS_HUMAN,
                f"sandbox address {address!r} must be letters, digits, '.', '_' or '-'",
                code="bad_address",
            )
        return self.root / address

    @staticmethod
    def _write(path: Path, record: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False, indent=2)
        os.replace(temporary, path)

    def plan(self, post: Post, target: OutletTarget) -> PostPlan:
        """One call: the record (no network)."""
        return plan_sandbox(post, thai_digits=target.thai_digits)

    def _render(self, post: Post, target: OutletTarget) -> dict[str, Any]:
        telegram = plan_telegram(post, thai_digits=target.thai_digits)
        return {
            "receipt_no": post.receipt_no,
            "category": post.category,
            "title": post.title,
            "text": self.plan(post, target).calls[0].text,
            # what a Telegram channel would receive, call by call (the same plan the publisher runs)
            "telegram_html": telegram.texts,
            "telegram_calls": [
                {"method": c.method, "messages": c.messages, "photo_indexes": list(c.photo_indexes)}
                for c in telegram.calls
            ],
            "photos": [{"sha256": p.sha256, "path": str(p.path) if p.path else None} for p in post.photos],
            "link": post.link,
            "published_at": post.published_at.isoformat(),
        }

    async def publish(
        self,
        post: Post,
        target: OutletTarget,
        *,
        start_at: int = 0,
        prior_external_ids: Sequence[str] = (),
    ) -> PublishResult:
        if start_at >= 1:  # the one call is done: nothing left to record
            ids = [str(i) for i in prior_external_ids]
            return PublishResult(ids, f"sandbox://{target.address}/{ids[0]}" if ids else None)
        directory = self._dir(target.address)
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        # A sortable, unique id: time, then the receipt (several outlets may share a directory).
        stem = f"{now:%Y%m%dT%H%M%S%f}-{re.sub(r'[^A-Za-z0-9-]', '_', post.receipt_no)}"
        record = {
            "id": stem,
            "outlet_id": target.outlet_id,
            "outlet_name": target.name,
            "address": target.address,
            "created_at": now.isoformat(),
            "edited_at": None,
            "deleted_at": None,
            **self._render(post, target),
        }
        self._write(directory / f"{stem}.json", record)
        return PublishResult(external_ids=[stem], permalink=f"sandbox://{target.address}/{stem}")

    def _load(self, address: str, external_id: str) -> tuple[Path, dict[str, Any]] | None:
        if not valid_address(external_id):
            return None
        path = self._dir(address) / f"{external_id}.json"
        if not path.exists():
            return None
        return path, json.loads(path.read_text(encoding="utf-8"))

    async def edit(self, external_ids: list[str], post: Post, target: OutletTarget) -> None:
        for external_id in external_ids:
            loaded = self._load(target.address, external_id)
            if loaded is None or loaded[1].get("deleted_at"):
                raise PublishError(ErrorClass.PERMANENT, f"sandbox post {external_id} does not exist", code="not_found")
            path, record = loaded
            record.update(self._render(post, target))
            record["edited_at"] = datetime.now(UTC).isoformat()
            self._write(path, record)

    async def delete(self, external_ids: list[str], target: OutletTarget) -> None:
        for external_id in external_ids:
            loaded = self._load(target.address, external_id)
            if loaded is None or loaded[1].get("deleted_at"):
                continue  # already gone: deleting is idempotent
            path, record = loaded
            record["deleted_at"] = datetime.now(UTC).isoformat()
            self._write(path, record)

    async def check(self, target: OutletTarget) -> CheckResult:
        if not valid_address(target.address):
            return CheckResult(False, "bad_address", f"sandbox address {target.address!r} is not a plain name")
        directory = self.root / target.address
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            return CheckResult(False, "not_writable", f"cannot write to {directory}: {exc.strerror}")
        return CheckResult(True, "ok", f"posts are recorded in {directory}")

    async def find_post(self, target: OutletTarget, since: datetime, marker: str) -> PublishResult | None:
        for record in self.list_posts(target.address):
            if marker in record.get("text", "") and datetime.fromisoformat(record["created_at"]) >= since:
                return PublishResult(
                    external_ids=[record["id"]], permalink=f"sandbox://{target.address}/{record['id']}"
                )
        return None

    def list_posts(self, address: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The recorded posts of one sandbox outlet, newest first (for the dashboard)."""
        return list_posts(self.root, address, include_deleted=include_deleted)

    async def aclose(self) -> None:
        return None


def list_posts(root: Path, address: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    if not valid_address(address):
        return []
    directory = Path(root) / address
    if not directory.is_dir():
        return []
    records = []
    for path in sorted(directory.glob("*.json"), reverse=True):
        if path.name.startswith(".tmp-"):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if include_deleted or not record.get("deleted_at"):
            records.append(record)
    return records
