"""The grant policy on the operator's CLI: ``network-hub grant add|remove --by`` goes through the same
roster service, so a coordinator gets exactly what the web gives them, with the Thai reason on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_roster_cli import Cli, Template, cli_session, cli_template_fixture  # noqa: F401 (fixture)

COORDINATOR = "0812345604"  # the seeded coordinator of district 5201
MODERATOR = "0812345603"
REPORTER = "0812345601"  # reporter of 52010101


@pytest.fixture
def run(cli_template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """A fresh copy of the initialised, seeded hub (see tests/cli/test_roster_cli.py)."""
    yield from cli_session(cli_template, tmp_path, monkeypatch, capsys)


def test_a_coordinator_grants_and_removes_inside_their_district(run: Cli) -> None:
    added = run("grant", "add", REPORTER, "--role", "moderator", "--area", "520102", "--by", COORDINATOR, "--json")
    assert added.code == 0, added.err
    assert added.json()["role"] == "moderator"
    removed = run("grant", "remove", REPORTER, "--role", "moderator", "--area", "520102", "--by", COORDINATOR)
    assert removed.code == 0, removed.err


def test_refusals_on_the_cli_are_explained_in_thai_and_change_nothing(run: Cli) -> None:
    before = run.counts()
    cases = [
        ((REPORTER, "--role", "reporter", "--area", "50010101", "--by", COORDINATOR), "นอกพื้นที่ที่ท่านรับผิดชอบ"),
        ((REPORTER, "--role", "admin", "--area", "52010101", "--by", COORDINATOR), "ต้องให้ผู้ดูแลระบบดำเนินการ"),
        ((COORDINATOR, "--role", "moderator", "--area", "520101", "--by", COORDINATOR), "ของตนเอง"),
        ((REPORTER, "--role", "reporter", "--area", "52010102", "--by", MODERATOR), "ไม่มีสิทธิ์มอบหรือถอนบทบาท"),
    ]
    for args, thai in cases:
        result = run("grant", "add", *args)
        assert result.code == 4, (args, result.err)
        assert thai in result.err, (args, result.err)
    gone = run("grant", "remove", REPORTER, "--role", "reporter", "--area", "52010101", "--by", MODERATOR)
    assert gone.code == 4 and "ไม่มีสิทธิ์" in gone.err
    assert run.counts() == before
