"""The roster commands end to end: ``network-hub member|grant|roster|invite …`` run in-process.

Each test gets its own data directory and SQLite database (through HUB_ environment variables,
as an operator would set them): a copy of one made by ``network-hub init`` and seeded once per
run. Bad input must exit non-zero with a message on stderr and change nothing.
"""

from __future__ import annotations

import getpass
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from network_hub.cli.app import main
from network_hub.cli.common import get_hub
from network_hub.db.models import AuditEvent, Invite, Member, RoleGrant
from tests.factories import People, seed_network


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Cli:
    capsys: pytest.CaptureFixture[str]
    people: People

    def __call__(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def counts(self) -> tuple[int, int, int, int]:
        """Members, grants, invites, audit events: bad input must leave all four unchanged."""
        with get_hub().sessions() as s:
            return tuple(s.scalar(select(func.count()).select_from(m))  # type: ignore[return-value]
                         for m in (Member, RoleGrant, Invite, AuditEvent))


@dataclass(frozen=True)
class Template:
    """A database made once per test run by ``network-hub init`` and seeded; each test gets a copy."""

    data_dir: Path
    people: People


def _point_settings_at(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{data_dir / 'hub.sqlite3'}")
    monkeypatch.delenv("HUB_TELEGRAM_BOT_USERNAME", raising=False)
    get_hub.cache_clear()


@pytest.fixture(scope="session", name="cli_template")
def cli_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    data_dir = tmp_path_factory.mktemp("cli-template") / "data"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(data_dir.parent)  # no stray .env
        _point_settings_at(data_dir, monkeypatch)
        assert main(["init"]) == 0
        hub = get_hub()
        with hub.transaction() as s:
            people = seed_network(s, hub.clock.now())
        hub.close()  # the last connection checkpoints the WAL into the file
        get_hub.cache_clear()
    yield Template(data_dir, people)


def cli_session(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """A fresh copy of the initialised, seeded hub and a way to run commands in it."""
    data_dir = tmp_path / "data"
    shutil.copytree(template.data_dir, data_dir)
    monkeypatch.chdir(tmp_path)  # no stray .env
    _point_settings_at(data_dir, monkeypatch)
    yield Cli(capsys, template.people)
    get_hub().close()
    get_hub.cache_clear()


@pytest.fixture
def cli(cli_template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    yield from cli_session(cli_template, tmp_path, monkeypatch, capsys)


# -- member -------------------------------------------------------------------------------------
def test_member_add_list_and_show(cli: Cli) -> None:
    added = cli("member", "add", "--name", "นายใหม่ ใจดี", "--role", "reporter", "--area", "52010102",
                "--phone", "089-000-1111", "--telegram-id", "424242", "--json")
    assert added.code == 0, added.err
    data = added.json()
    assert data["phone"] == "+66890001111" and data["grants"] == [{"role": "reporter", "area_code": "52010102"}]
    listed = cli("member", "list", "--area", "52010102", "--json")
    assert {m["id"] for m in listed.json()} == {cli.people.reporter2.id, data["id"]}
    table = cli("member", "list")
    assert "นายใหม่ ใจดี" in table.out and "reporter@52010102" in table.out
    for ref in (str(data["id"]), "tg:424242", "0890001111", "+66890001111"):
        shown = cli("member", "show", ref, "--json")
        assert shown.code == 0 and shown.json()["id"] == data["id"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--phone", "0812345601"], 5, "already belongs to member"),  # the seeded reporter's phone
        (["--telegram-id", "1001"], 5, "already belongs to member"),
        (["--phone", "12"], 2, "phone"),
        (["--role", "boss"], 2, "not a role"),
        (["--area", "52010199"], 3, "village add"),  # the member must not be created without its grant
        (["--area", "xx"], 2, "area code"),
        (["--language", "fr"], 2, "language"),
        (["--by", "tg:1001"], 4, "no role allowed"),  # a reporter may not add members
        (["--by", "tg:999999"], 3, "no member matches"),
    ],
)
def test_member_add_refusals_change_nothing(cli: Cli, args: list[str], code: int, message: str) -> None:
    before = cli.counts()
    base = {"--name": "ทดสอบ", "--role": "reporter", "--area": "52010101"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    result = cli("member", "add", *[x for kv in base.items() for x in kv])
    assert result.code == code, result.err
    assert message in result.err and "error:" in result.err
    assert result.out == ""
    assert cli.counts() == before


def test_usage_errors_exit_non_zero_without_a_traceback(cli: Cli) -> None:
    result = cli("member", "add", "--name", "x")
    assert result.code == 2 and "Missing option" in result.err and "Traceback" not in result.err
    assert cli("member", "frobnicate").code == 2


def test_suspend_resume_and_forget(cli: Cli) -> None:
    rid = str(cli.people.reporter.id)
    assert cli("member", "suspend", rid, "--reason", "lost phone").code == 0
    again = cli("member", "suspend", rid)
    assert again.code == 5 and "already suspended" in again.err
    assert cli("member", "resume", "tg:1001", "--json").json()["status"] == "active"
    # A moderator may not suspend; a refusal changes nothing.
    before = cli.counts()
    denied = cli("member", "suspend", rid, "--by", str(cli.people.moderator.id))
    assert denied.code == 4 and cli.counts() == before


def test_forget_asks_first_then_erases(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = cli.people.reporter.id
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    declined = cli("member", "forget", str(rid))
    assert declined.code == 130 and "aborted" in declined.err
    with get_hub().sessions() as s:
        assert s.get(Member, rid).status == "active"
    forgotten = cli("member", "forget", str(rid), "--yes", "--json")
    assert forgotten.code == 0 and forgotten.json()["status"] == "forgotten"
    assert forgotten.json()["phone"] is None and forgotten.json()["name"] != "สมศรี ใจดี"
    assert cli("member", "show", "tg:1001").code == 3  # the Telegram id is gone
    assert cli("member", "forget", str(rid), "--yes").code == 5


def test_set_password_from_stdin_and_prompt(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    mid = cli.people.moderator.id
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    short = cli("member", "set-password", str(mid), "--password-stdin")
    assert short.code == 2 and "at least 10" in short.err
    monkeypatch.setattr("sys.stdin", io.StringIO("ต้นมะขามริมน้ำ 2569\n"))
    ok = cli("member", "set-password", str(mid), "--password-stdin")
    assert ok.code == 0 and "ต้นมะขาม" not in ok.out + ok.err
    answers = iter(["a good long passphrase", "a good long passphrase"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    assert cli("member", "set-password", str(mid)).code == 0
    from network_hub.roster.members import verify_password
    with get_hub().sessions() as s:
        assert verify_password(s.get(Member, mid), "a good long passphrase")


# -- grant --------------------------------------------------------------------------------------
def test_grant_add_and_remove(cli: Cli) -> None:
    added = cli("grant", "add", "0812345601", "--role", "moderator", "--area", "520102", "--json")
    assert added.code == 0 and added.json()["role"] == "moderator"
    twice = cli("grant", "add", "0812345601", "--role", "moderator", "--area", "520102")
    assert twice.code == 5 and "already holds" in twice.err
    removed = cli("grant", "remove", "0812345601", "--role", "moderator", "--area", "520102")
    assert removed.code == 0 and "no longer moderator in 520102" in removed.out
    gone = cli("grant", "remove", "0812345601", "--role", "moderator", "--area", "520102")
    assert gone.code == 3


# -- roster -------------------------------------------------------------------------------------
def test_roster_import_dry_run_then_for_real(cli: Cli, tmp_path: Path) -> None:
    good = tmp_path / "roster.csv"
    good.write_text("name,role,area_code,phone\nมาลี,reporter,52010101,0811111111\n"
                    "มาลี,moderator,520101,0811111111\n", encoding="utf-8-sig")
    before = cli.counts()
    dry = cli("roster", "import", str(good), "--dry-run")
    assert dry.code == 0 and "dry run, nothing changed" in dry.out and "1 new members" in dry.out
    assert cli.counts() == before
    real = cli("roster", "import", str(good), "--json")
    assert real.code == 0 and real.json()["grants_added"] == 2 and real.json()["applied"]
    again = cli("roster", "import", str(good))
    assert again.code == 0 and "0 new members" in again.out and "2 already held" in again.out


def test_roster_import_lists_every_bad_row_and_exits_non_zero(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,role,area_code\nดี,reporter,52010101\n,reporter,52010101\nก,boss,52010101\n"
                   "ข,reporter,99\n", encoding="utf-8")
    before = cli.counts()
    for args in ([], ["--dry-run"]):
        result = cli("roster", "import", str(bad), *args)
        assert result.code == 2
        assert [line.split(":")[0] for line in result.err.splitlines()[:3]] == ["line 3", "line 4", "line 5"]
        assert "3 of 4 rows are bad; nothing was imported" in result.err
    as_json = cli("roster", "import", str(bad), "--json")
    assert as_json.code == 2 and [e["line"] for e in as_json.json()["errors"]] == [3, 4, 5]
    assert cli.counts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfen\x00a\x00", "not UTF-8"), (b"first,last\n", "header")],
)
def test_roster_import_refuses_unreadable_files(cli: Cli, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    result = cli("roster", "import", str(path))
    assert result.code == 2 and message in result.err
    missing = cli("roster", "import", str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "no such file" in missing.err


def test_roster_export_to_file_and_stdout(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    written = cli("roster", "export", str(target))
    assert written.code == 0 and "wrote 6 grants" in written.err
    raw = target.read_bytes()
    assert raw.startswith("\ufeffname,role,area_code".encode()) and "สมศรี ใจดี".encode() in raw
    printed = cli("roster", "export", "--area", "50")
    assert printed.out.lstrip("\ufeff").splitlines()[1].startswith("คนนอก เชียงใหม่,moderator,500101")
    assert cli("roster", "import", str(target)).code == 0  # the export is importable as is


# -- invite -------------------------------------------------------------------------------------
def test_invite_create_list_revoke(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    created = cli("invite", "create", "--role", "reporter", "--area", "52010101", "--max-uses", "5",
                  "--expires", "3d", "--json")
    assert created.code == 0, created.err
    invite = created.json()
    assert invite["link"] == f"https://t.me/YOUR_BOT_USERNAME?start={invite['code']}"
    assert "HUB_TELEGRAM_BOT_USERNAME" in created.err and invite["max_uses"] == 5
    monkeypatch.setenv("HUB_TELEGRAM_BOT_USERNAME", "tambon_pr_bot")
    get_hub().close()
    get_hub.cache_clear()
    text = cli("invite", "create", "--role", "moderator", "--area", "520101")
    assert text.code == 0 and "https://t.me/tambon_pr_bot?start=" in text.out and text.err == ""
    listed = cli("invite", "list", "--json").json()
    assert [i["state"] for i in listed] == ["active", "active"]
    assert cli("invite", "revoke", invite["code"]).code == 0
    assert cli("invite", "list", "--active", "--json").json()[0]["role"] == "moderator"
    again = cli("invite", "revoke", invite["code"])
    assert again.code == 5 and "already revoked" in again.err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--expires", "soon"], 2, "duration"),
        (["--expires", "365d"], 2, "90 days"),
        (["--max-uses", "0"], 2, "max uses"),
        (["--role", "moderator", "--by", "tg:2001"], 4, "no role allowed"),  # moderators invite reporters only
        (["--area", "500101", "--by", "tg:2001"], 4, "no role allowed"),  # outside the moderator's tambon
        (["--area", "9999"], 3, "not known"),
    ],
)
def test_invite_create_refusals_change_nothing(cli: Cli, args: list[str], code: int, message: str) -> None:
    before = cli.counts()
    base = {"--role": "reporter", "--area": "520101"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    result = cli("invite", "create", *[x for kv in base.items() for x in kv])
    assert result.code == code and message in result.err
    assert cli.counts() == before


def test_a_moderator_invites_reporters_with_by(cli: Cli) -> None:
    result = cli("invite", "create", "--role", "reporter", "--area", "52010102", "--by", "tg:2001", "--json")
    assert result.code == 0
    with get_hub().sessions() as s:
        assert s.scalar(select(Invite.created_by)) == cli.people.moderator.id
    assert cli("invite", "revoke", "not-a-code").code == 3
