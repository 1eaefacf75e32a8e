"""Areas from the command line: ``areas load``, ``areas list``, ``village add``, ``area set-moderation-chat``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geothai
import pytest
from sqlalchemy import func, select

from network_hub.cli.common import get_hub
from network_hub.db.models import Area, AuditEvent
from tests.cli.test_roster_cli import Cli, Template, cli_session, cli_template_fixture  # noqa: F401


@pytest.fixture
def cli(cli_template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    yield from cli_session(cli_template, tmp_path, monkeypatch, capsys)


def _areas() -> int:
    with get_hub().sessions() as s:
        return s.scalar(select(func.count()).select_from(Area))


def _last_audit(action: str) -> AuditEvent | None:
    with get_hub().sessions() as s:
        return s.scalar(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc()))


def test_load_one_province_then_again(cli: Cli) -> None:
    districts = geothai.districts("52")
    subdistricts = [s for d in districts for s in geothai.subdistricts(d.code)]
    result = cli("areas", "load", "--province", "52")
    assert result.code == 0, result.err
    assert f"loaded 1 provinces, {len(districts)} districts, {len(subdistricts)} subdistricts" in result.out
    assert "GeoThai" in result.out
    again = cli("areas", "load", "--province", "52", "--json")
    assert again.json() == {"provinces": 1, "districts": len(districts), "subdistricts": len(subdistricts),
                            "added": 0, "credit": "ข้อมูลพื้นที่: GeoThai (CC BY 4.0)"}
    assert _last_audit("areas.load").object_id == "52"
    listed = cli("areas", "list", "--parent", "5201", "--json").json()
    assert {a["code"] for a in listed} == {s.code for s in geothai.subdistricts("5201")}


def test_load_all_of_thailand(cli: Cli) -> None:
    data = cli("areas", "load", "--json").json()
    assert data["provinces"] == 77 and data["districts"] > 900 and data["subdistricts"] > 7000
    assert _areas() == 1 + 77 + data["districts"] + data["subdistricts"] + 4  # TH + official + seeded villages
    assert len(cli("areas", "list", "--json").json()) == 77


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--province", "99"], 2, "not a province code"),
        (["--province", "5201"], 2, "not a province code"),
        (["--province", "xx"], 2, "not an area code"),
        (["--by", "tg:2001"], 4, "no role allowed"),  # a tambon moderator may not load areas
    ],
)
def test_bad_loads_change_nothing(cli: Cli, args: list[str], code: int, message: str) -> None:
    before = _areas()
    result = cli("areas", "load", *args)
    assert result.code == code and message in result.err
    assert _areas() == before


def test_village_and_community_add(cli: Cli) -> None:
    village = cli("village", "add", "52010103", "--name", "บ้านใหม่พัฒนา", "--json")
    assert village.code == 0, village.err
    assert village.json()["parent_code"] == "520101" and village.json()["level"] == "village"
    community = cli("village", "add", "52010104", "--name", "ชุมชนท่าน้ำ", "--community")
    assert community.code == 0 and "added community 52010104" in community.out
    with get_hub().sessions() as s:
        assert s.get(Area, "52010104").is_community is True
    assert _last_audit("village.add").object_id == "52010104"
    # The tambon's admin may add villages there with --by, a moderator may not.
    denied = cli("village", "add", "52010105", "--name", "บ้านสาม", "--by", "tg:2001")
    assert denied.code == 4


@pytest.mark.parametrize(
    ("code8", "exit_code", "message"),
    [
        ("5201010", 2, "8 digits"),
        ("52010100", 2, "00"),
        ("5201010a", 2, "8 digits"),
        ("52019901", 3, "tambon 520199 is not known"),
        ("52010101", 2, "already exists"),
    ],
)
def test_bad_villages_are_refused(cli: Cli, code8: str, exit_code: int, message: str) -> None:
    before = _areas()
    result = cli("village", "add", code8, "--name", "บ้านทดสอบ")
    assert result.code == exit_code and message in result.err
    assert _areas() == before
    empty = cli("village", "add", "52010109", "--name", "  ")
    assert empty.code == 2 and _areas() == before


def test_moderation_chat(cli: Cli) -> None:
    result = cli("area", "set-moderation-chat", "520101", "-1001234567890")
    assert result.code == 0, result.err
    with get_hub().sessions() as s:
        assert s.get(Area, "520101").moderation_chat_id == -1001234567890
    event = _last_audit("area.set_moderation_chat")
    assert (event.before, event.after) == ({"moderation_chat_id": None}, {"moderation_chat_id": -1001234567890})
    for bad, code in (("12345", 2), ("abc", 2), ("-12a", 2)):
        refused = cli("area", "set-moderation-chat", "520101", bad)
        assert refused.code == code and "group" in refused.err
    assert cli("area", "set-moderation-chat", "529999", "-100").code == 3
    assert cli("area", "set-moderation-chat", "520101", "-100", "--by", "tg:2001").code == 4
    with get_hub().sessions() as s:
        assert s.get(Area, "520101").moderation_chat_id == -1001234567890
    assert cli("area", "set-moderation-chat", "520101", "none").code == 0
    with get_hub().sessions() as s:
        assert s.get(Area, "520101").moderation_chat_id is None
