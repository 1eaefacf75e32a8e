"""Roster CSV: encodings, headers, every bad row listed, all-or-nothing, re-import, export round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from network_hub.db.models import AuditEvent, Member, RoleGrant
from network_hub.errors import InvalidInput
from network_hub.permissions import load_actor, system_actor
from network_hub.roster import members
from network_hub.roster.csv_io import export_roster, import_roster
from tests.factories import seed_network

SYSTEM = system_actor()
HEADER = "name,role,area_code,phone,telegram_user_id,language\n"
GOOD = (
    HEADER
    + "มาลี ศรีสุข,reporter,52010101,081-111-1111,,th\n"
    + "มาลี ศรีสุข,reporter,52010102,0811111111,,\n"  # the same person, a second grant
    + "John Smith,moderator,520102,,123456789,en\n"
    + "ยายทองคำ,reporter,52010201,,,\n"  # neither phone nor Telegram id
)


def _snapshot(s) -> tuple[int, int, int]:
    return (s.scalar(select(func.count()).select_from(Member)),
            s.scalar(select(func.count()).select_from(RoleGrant)),
            s.scalar(select(func.count()).select_from(AuditEvent)))


def _import(hub, data: bytes | str, *, dry_run: bool = False, actor=SYSTEM):
    raw = data.encode() if isinstance(data, str) else data
    with hub.transaction() as s:
        return import_roster(s, raw, dry_run=dry_run, now=hub.clock.now(), actor=actor)


@pytest.fixture
def people(hub):
    with hub.transaction() as s:
        return seed_network(s, hub.clock.now())


def test_import_creates_members_and_grants(hub, people) -> None:
    report = _import(hub, GOOD)
    assert report.ok and report.applied and report.errors == []
    assert (report.rows, report.members_created, report.grants_added) == (4, 3, 4)
    with hub.transaction() as s:
        malee = s.scalar(select(Member).where(Member.phone == "+66811111111"))
        assert malee.name == "มาลี ศรีสุข" and malee.language == "th"
        assert {(g.role, g.area_code) for g in members.grants_of(s, malee.id)} == {
            ("reporter", "52010101"), ("reporter", "52010102")}
        john = s.scalar(select(Member).where(Member.telegram_user_id == 123456789))
        assert (john.language, john.phone) == ("en", None)
        assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "roster.import"


def test_reimport_is_harmless_and_updates_matching_members(hub, people) -> None:
    _import(hub, GOOD)
    with hub.transaction() as s:
        before = _snapshot(s)[:2]
    again = _import(hub, GOOD)
    assert again.ok and (again.members_created, again.members_updated, again.grants_added) == (0, 0, 0)
    assert again.grants_unchanged == 4
    with hub.transaction() as s:
        assert _snapshot(s)[:2] == before
    # A row matching the seeded reporter by Telegram id updates her and adds the new grant.
    report = _import(hub, HEADER + "สมศรี ใจดี (แก้ชื่อ),moderator,520101,,1001,en\n")
    assert (report.members_created, report.members_updated, report.grants_added) == (0, 1, 1)
    with hub.transaction() as s:
        reporter = s.get(Member, people.reporter.id)
        assert (reporter.name, reporter.language, reporter.phone) == ("สมศรี ใจดี (แก้ชื่อ)", "en", "+66812345601")


def test_bom_and_missing_optional_columns_are_accepted(hub, people) -> None:
    report = _import(hub, ("\ufeffname,role,area_code\r\nนายหนึ่ง,reporter,52010101\r\n").encode())
    assert report.ok and report.members_created == 1


def test_every_bad_row_is_listed_and_nothing_is_written(hub, people) -> None:
    bad = (
        HEADER
        + "ดี มาก,reporter,52010101,0822222222,,\n"  # line 2: fine
        + ",reporter,52010101,,,\n"  # 3: no name
        + "ก,boss,52010101,,,\n"  # 4: bad role
        + "ข,reporter,99,,,\n"  # 5: unknown area
        + "ค,reporter,5201010,,,\n"  # 6: malformed area
        + "ง,reporter,52010101,12345,,\n"  # 7: bad phone
        + "จ,reporter,52010101,,abc,\n"  # 8: bad telegram id
        + "ฉ,reporter,52010101,,,fr\n"  # 9: bad language
        + "ดี มาก,reporter,52010101,0822222222,,\n"  # 10: duplicate of line 2
        + "ดี น้อย,reporter,52010102,0822222222,,\n"  # 11: same phone as line 2, another name
        + "ช,reporter,52010101,0812345601,2001,\n"  # 12: phone of member A, Telegram id of member B
        + "ซ,reporter,52010101,,,,extra\n"  # 13: too many columns
        + "ฌ,reporter,52010199,,,\n"  # 14: unknown village
    )
    with hub.transaction() as s:
        before = _snapshot(s)
    report = _import(hub, bad)
    assert not report.ok and not report.applied
    assert sorted({e.line for e in report.errors}) == list(range(3, 15))
    by_line = {e.line: e for e in report.errors}
    assert "name" in by_line[3].message_en
    assert "not a role" in by_line[4].message_en
    assert "99 is not known" in by_line[5].message_en and "areas load" in by_line[5].message_en
    assert "area code" in by_line[6].message_en
    assert "phone" in by_line[7].message_en
    assert "Telegram user id" in by_line[8].message_en
    assert "language" in by_line[9].message_en
    assert "duplicate of line 2" in by_line[10].message_en
    assert "differs from line 2" in by_line[11].message_en
    assert f"member {people.reporter.id}" in by_line[12].message_en
    assert "columns" in by_line[13].message_en
    assert "village add" in by_line[14].message_en
    assert all(e.message_th for e in report.errors)
    assert report.to_dict()["errors"][0] == {"line": 3, "error": by_line[3].message_en,
                                            "error_th": by_line[3].message_th}
    with hub.transaction() as s:
        assert _snapshot(s) == before


def test_dry_run_checks_and_writes_nothing(hub, people) -> None:
    with hub.transaction() as s:
        before = _snapshot(s)
    report = _import(hub, GOOD, dry_run=True)
    assert report.ok and not report.applied and report.members_created == 3
    with hub.transaction() as s:
        assert _snapshot(s) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("ชื่อ,บทบาท\nก,ข\n".encode("tis-620"), "not UTF-8"),
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"name;role;area_code\nx;reporter;52\n", "header"),
        (b"name,area_code,role\nx,52,reporter\n", "header"),
        (b"name,role\nx,reporter\n", "header"),
        (b"name,role,area_code\n\"unterminated,reporter,52\n", "CSV"),
        (b'name,role,area_code\nx,"rep"orter,52\n', "CSV"),
    ],
)
def test_unreadable_files_are_refused_clearly(hub, people, data: bytes, message: str) -> None:
    with hub.transaction() as s:
        before = _snapshot(s)
        with pytest.raises(InvalidInput, match=message) as refused:
            import_roster(s, data, dry_run=False, now=hub.clock.now(), actor=SYSTEM)
        assert refused.value.message_th
        assert _snapshot(s) == before


def test_rows_outside_the_importers_areas_are_refused(hub, people) -> None:
    with hub.transaction() as s:
        tambon_admin = members.add_member(s, name="แอดมินตำบล", now=hub.clock.now(), actor=SYSTEM)
        members.add_grant(s, tambon_admin.id, "admin", "520101", now=hub.clock.now(), actor=SYSTEM)
        actor = load_actor(s, tambon_admin.id)
    report = _import(hub, HEADER + "ก,reporter,52010101,,,\nข,reporter,500101,,,\n"
                     + "ค,admin,TH,,,\nง,reporter,52010102,,4001,\n", actor=actor)
    # Lines 3, 4: outside the tambon; line 5: would rename the national admin (Telegram id 4001).
    assert sorted({e.line for e in report.errors}) == [3, 4, 5]


def test_export_round_trips_with_a_bom_for_excel(hub, people) -> None:
    _import(hub, GOOD + "=HYPERLINK(\"x\"),reporter,52010101,,,\n")
    with hub.transaction() as s:
        members.forget_member(s, people.outsider.id, now=hub.clock.now(), actor=SYSTEM)
        text = export_roster(s)
        before = _snapshot(s)[:2]
    assert text.startswith("\ufeffname,role,area_code,phone,telegram_user_id,language\r\n")
    lines = text.lstrip("\ufeff").splitlines()
    assert "มาลี ศรีสุข,reporter,52010101,+66811111111,,th" in lines
    assert "มาลี ศรีสุข,reporter,52010102,+66811111111,,th" in lines
    assert not any("คนนอก" in line for line in lines)  # forgotten members are not exported
    assert "'=HYPERLINK" in text  # a formula-looking name is quoted for spreadsheets
    assert len(lines) == 1 + 5 + 4 + 1  # header, seeded grants (minus the forgotten one), imported grants
    report = _import(hub, text.encode("utf-8"))
    assert report.ok and report.members_created == 0 and report.grants_added == 0
    with hub.transaction() as s:
        assert _snapshot(s)[:2] == before
        assert s.scalar(select(Member).where(Member.name == "=HYPERLINK(\"x\")")) is not None
        assert export_roster(s, "5201").count("\r\n") == 1 + 4 + 5  # grants in the district 5201 only
