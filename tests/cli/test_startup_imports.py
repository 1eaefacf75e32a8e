"""The CLI's import budget, checked without timing: what ``--help``, ``--version`` and a listing load.

Start-up time is measured by ``bench/cli_startup.py`` (docs/PERFORMANCE.md, "CLI start-up"); these
tests keep it from creeping back by asserting which modules a fresh interpreter has loaded after
running a command (the bot, web, scheduler, image, phone-number and Thai-text libraries cost
most of a second and no listing needs them), and that the fast listing gives exactly what the
ORM listing gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from network_hub.cli.app import main
from network_hub.cli.common import get_hub
from network_hub.db.models import Member, RoleGrant
from network_hub.hub import Hub
from network_hub.permissions import system_actor
from network_hub.roster import members
from network_hub.roster.listing import GRANTS, MEMBERS, member_rows
from tests.factories import People, seed_network

ROOT = Path(__file__).resolve().parents[2]

# Nothing that only lists or prints help may load these.
NEVER_FOR_A_LISTING = (
    "fastapi", "starlette", "uvicorn", "jinja2", "multipart",  # web
    "telegram", "facebook", "httpx", "requests",  # bot and publishers
    "apscheduler", "alembic",  # scheduler, migrations
    "PIL", "pythainlp", "phonenumbers", "argon2", "cryptography",  # photos, Thai text, phones, passwords, vault
    "click",  # typer vendors its own click
    "network_hub.web", "network_hub.bot", "network_hub.service", "network_hub.outbox", "publishers",
    "network_hub.roster.members", "network_hub.roster.csv_io",  # the roster services: not for reading
)
# --help and --version import no command module, no database and no settings.
NEVER_FOR_HELP = (*NEVER_FOR_A_LISTING, "rich", "sqlalchemy", "pydantic", "pydantic_settings", "config.settings",
                  "network_hub.cli.common", "network_hub.db.models", "geothai")

SCRIPT = """
import json, sys
from network_hub.cli.app import main
args, report_path = json.loads(sys.argv[1]), sys.argv[2]
sys.argv = ["network-hub"]  # the program name --help prints
code = main(args)
report = {"code": code, "modules": sorted(sys.modules)}
with open(report_path, "w", encoding="utf-8") as out:
    json.dump(report, out)
"""


def run_fresh(args: list[str], data_dir: Path, tmp_path: Path) -> tuple[dict, str]:
    """Run ``network-hub ARGS`` in a new interpreter; its report (exit code, loaded modules) and stdout."""
    report_file = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATA_DIR=str(data_dir), HUB_DATABASE_URL=f"sqlite:///{data_dir / 'hub.sqlite3'}",
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(args), str(report_file)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(report_file.read_text(encoding="utf-8")), done.stdout


def loaded(report: dict, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (packages or modules) the process had loaded."""
    modules = set(report["modules"])
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


@pytest.fixture(scope="module")
def seeded_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, People]]:
    """A data directory made by ``network-hub init`` and seeded with a small network."""
    data_dir = tmp_path_factory.mktemp("startup") / "data"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(data_dir.parent)  # no stray .env
        monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))
        monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{data_dir / 'hub.sqlite3'}")
        get_hub.cache_clear()
        assert main(["init"]) == 0
        hub = get_hub()
        with hub.transaction() as s:
            people = seed_network(s, hub.clock.now())
        hub.close()
        get_hub.cache_clear()
    yield data_dir, people


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_load_no_command_database_or_settings(args: list[str], seeded_hub: tuple[Path, People],
                                                               tmp_path: Path) -> None:
    report, out = run_fresh(args, seeded_hub[0], tmp_path)
    assert report["code"] == 0 and "network-hub" in out
    assert loaded(report, NEVER_FOR_HELP) == []


def test_member_list_loads_only_what_listing_needs(seeded_hub: tuple[Path, People], tmp_path: Path) -> None:
    data_dir, people = seeded_hub
    report, out = run_fresh(["member", "list"], data_dir, tmp_path)
    assert report["code"] == 0
    assert people.reporter.name in out and "moderator@500101" in out  # it did list the seeded network
    assert loaded(report, NEVER_FOR_A_LISTING) == []
    assert loaded(report, ("geothai",)) == []  # GeoThai only validates an --area
    # Core statements on a connection, lightweight table clauses: neither the ORM nor the models.
    assert loaded(report, ("sqlalchemy.orm", "network_hub.db.models")) == []


def test_member_list_by_area_and_as_json(seeded_hub: tuple[Path, People], tmp_path: Path) -> None:
    data_dir, people = seeded_hub
    report, out = run_fresh(["member", "list", "--area", "520101", "--json"], data_dir, tmp_path)
    assert report["code"] == 0
    assert {m["id"] for m in json.loads(out)} == {people.reporter.id, people.reporter2.id, people.moderator.id}
    assert loaded(report, NEVER_FOR_A_LISTING) == []


@pytest.mark.parametrize("args", [["news", "list"], ["outlet", "list"]])
def test_other_listings_load_no_moderation_photo_or_platform_module(args: list[str], seeded_hub: tuple[Path, People],
                                                                    tmp_path: Path) -> None:
    report, out = run_fresh(args, seeded_hub[0], tmp_path)
    assert report["code"] == 0 and "(none)" in out
    heavy = ("fastapi", "starlette", "jinja2", "telegram", "facebook", "httpx", "apscheduler", "alembic", "PIL",
             "pythainlp", "argon2", "cryptography", "click", "publishers", "network_hub.web", "network_hub.bot",
             "network_hub.newsroom.moderation", "network_hub.newsroom.submission", "network_hub.photo_checks")
    assert loaded(report, heavy) == []


def test_a_command_group_help_loads_no_database_or_settings(seeded_hub: tuple[Path, People], tmp_path: Path) -> None:
    report, out = run_fresh(["member", "--help"], seeded_hub[0], tmp_path)
    assert report["code"] == 0 and "list" in out
    assert loaded(report, (*NEVER_FOR_A_LISTING, "sqlalchemy", "config.settings", "network_hub.db.models")) == []


def test_member_rows_equal_the_orm_listing(hub: Hub) -> None:
    """The CLI's Core listing and the web's ORM listing give the same members, fields and grants."""
    now = hub.clock.now()
    with hub.transaction() as s:
        people = seed_network(s, now)
        system = system_actor()
        members.add_grant(s, people.reporter.id, "reporter", "52010102", now=now, actor=system)
        members.add_grant(s, people.reporter.id, "moderator", "520101", now=now, actor=system)
        members.forget_member(s, people.reporter2.id, now=now, actor=system)
        s.get(Member, people.moderator.id).password_hash = "argon2-hash-stand-in"
        s.get(Member, people.outsider.id).unreachable_since = now - timedelta(days=2)
        members.add_member(s, name="ไม่มีบทบาท", phone=None, telegram_user_id=None, language="en", now=now,
                           actor=system)
    with hub.sessions() as s:
        for area in (None, "TH", "52", "520101", "52010101", "50"):
            for include_forgotten in (False, True):
                expected = [members.member_to_dict(m)
                            for m in members.list_members(s, area, include_forgotten=include_forgotten)]
                assert member_rows(s, area, include_forgotten=include_forgotten) == expected, (area, include_forgotten)
        everyone = member_rows(s, include_forgotten=True)
    assert len(everyone) == 7
    reporter = next(r for r in everyone if r["id"] == people.reporter.id)
    assert [g["area_code"] for g in reporter["grants"]] == ["52010101", "52010102", "520101"]


@pytest.mark.parametrize(("light", "model"), [(MEMBERS, Member), (GRANTS, RoleGrant)])
def test_the_listing_clauses_match_the_models(light, model) -> None:
    """The listing names its columns without the models (to skip importing them): same table, names, types."""
    table = model.__table__
    assert light.name == table.name
    for col in light.c:
        assert col.name in table.c, f"{table.name}.{col.name} is not in the models"
        assert type(col.type) is type(table.c[col.name].type), (col.name, col.type, table.c[col.name].type)


def test_the_hubs_session_factory_is_made_on_first_use(tmp_path: Path) -> None:
    """Hub.from_settings defers the sessionmaker (the ORM import) until a session is asked for."""
    from config.settings import load_settings
    from network_hub.db.engine import SessionFactory

    hub = Hub.from_settings(load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}"))
    try:
        assert isinstance(hub.sessions, SessionFactory) and hub.sessions._made is None
        with hub.engine.connect():
            pass
        assert hub.sessions._made is None  # a Core connection did not make it
        with hub.transaction() as session:
            assert session.bind is hub.engine and session.expire_on_commit is False
        made = hub.sessions._made
        assert made is not None and hub.sessions.kw["expire_on_commit"] is False  # attributes are the real one's
        with hub.sessions() as again:
            assert again.bind is hub.engine
        assert hub.sessions._made is made  # made once
    finally:
        hub.close()
