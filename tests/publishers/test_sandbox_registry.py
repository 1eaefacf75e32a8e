"""The sandbox outlet and the publisher registry (target_for reads tokens at each use)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import Settings
from publishers.base import ErrorClass, OutletTarget, PublishError
from publishers.facebook import FacebookPublisher
from publishers.registry import Publishers, TokenMissing, make_publisher, target_for
from publishers.sandbox import SandboxPublisher, list_posts
from publishers.telegram import TelegramPublisher
from tests.publishers.conftest import make_post


async def test_sandbox_records_edits_and_deletes(tmp_path: Path) -> None:
    sandbox = SandboxPublisher(tmp_path)
    target = OutletTarget(5, "sandbox", "practice", name="ฝึกโพสต์")
    result = await sandbox.publish(make_post(), target)
    [record] = sandbox.list_posts("practice")
    assert record["id"] == result.external_ids[0] and "รหัสข่าว N-2569-000123" in record["text"]
    assert record["telegram_html"][0].startswith("<b>ผ้าทอมือบ้านปงยางคก</b>")
    found = await sandbox.find_post(target, datetime.now(UTC) - timedelta(minutes=1), "รหัสข่าว N-2569-000123")
    assert found is not None and found.external_ids == result.external_ids
    await sandbox.edit(result.external_ids, make_post("แก้ไขแล้ว"), target)
    assert "แก้ไขแล้ว" in list_posts(tmp_path, "practice")[0]["text"]
    await sandbox.delete(result.external_ids, target)
    await sandbox.delete(result.external_ids, target)
    assert sandbox.list_posts("practice") == [] and len(sandbox.list_posts("practice", include_deleted=True)) == 1
    assert (await sandbox.check(target)).ok


@pytest.mark.parametrize("address", ["../etc", "a/b", "", ".hidden"])
async def test_sandbox_refuses_paths_as_addresses(tmp_path: Path, address: str) -> None:
    sandbox = SandboxPublisher(tmp_path)
    with pytest.raises(PublishError) as caught:
        await sandbox.publish(make_post(), OutletTarget(5, "sandbox", address))
    assert caught.value.error_class is ErrorClass.NEEDS_HUMAN
    assert not (await sandbox.check(OutletTarget(5, "sandbox", address))).ok
    assert list(tmp_path.iterdir()) == []


@dataclass
class OutletRow:
    id: int = 9
    platform: str = "facebook"
    address: str = "1000001"
    name: str = "เพจ"
    token_env: str | None = None
    token_file: str | None = None
    thai_digits: bool = True


def test_target_for_reads_the_token_at_each_use(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAGE_TOKEN_TEST", "first")
    outlet = OutletRow(token_env="PAGE_TOKEN_TEST")
    assert target_for(outlet).token == "first" and target_for(outlet).thai_digits
    monkeypatch.setenv("PAGE_TOKEN_TEST", "renewed")
    assert target_for(outlet).token == "renewed"
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert target_for(OutletRow(token_file=str(token_file))).token == "from-file"
    assert target_for(OutletRow(platform="sandbox", address="x")).token is None


@pytest.mark.parametrize("outlet", [OutletRow(token_env="PAGE_TOKEN_UNSET"), OutletRow(token_file="/nonexistent/t"),
                                    OutletRow()])
def test_target_for_missing_token_is_a_clear_needs_human(outlet: OutletRow,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAGE_TOKEN_UNSET", raising=False)
    with pytest.raises(TokenMissing) as caught:
        target_for(outlet)
    assert caught.value.error_class is ErrorClass.NEEDS_HUMAN and "outlet 9" in caught.value.message


async def test_publishers_are_made_once_per_platform_and_closed(tmp_path: Path) -> None:
    publishers = Publishers(Settings(data_dir=tmp_path))
    assert isinstance(publishers.get("telegram"), TelegramPublisher)
    assert publishers.get("facebook") is publishers.get("facebook")
    assert isinstance(publishers.get("facebook"), FacebookPublisher)
    sandbox = publishers.get("sandbox")
    assert isinstance(sandbox, SandboxPublisher) and sandbox.root == tmp_path / "sandbox"
    await publishers.aclose()
    from publishers.line import LinePublisher

    assert isinstance(make_publisher("line", Settings(data_dir=tmp_path)), LinePublisher)  # issue 14
    with pytest.raises(ValueError, match="unknown platform"):
        make_publisher("myspace", Settings(data_dir=tmp_path))
