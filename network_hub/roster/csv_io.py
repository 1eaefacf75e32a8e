"""Roster CSV import and export: ``name,role,area_code,phone,telegram_user_id,language``.

Import takes all rows or none. Every bad row is reported with its line number and a reason in
English and Thai, and nothing is written while any row is bad (``--dry-run`` never writes).
Rows are grouped into people: rows that share a phone number or a Telegram id are one person
(an export has one row per grant, so a person with two grants is on two lines); rows with
neither are grouped by exact name. A person who matches an existing member (phone or Telegram
id; for rows with neither, the one member of that exact name who has neither) updates that
member and gains the grants they do not hold yet, so importing the same file again is harmless.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.areas import validate_code
from network_hub.db.models import Area, Member, RoleGrant
from network_hub.errors import HubError, InvalidInput
from network_hub.permissions import Action, Actor, require
from network_hub.roster.members import (
    add_grant,
    add_member,
    audit_actor,
    clean_language,
    clean_name,
    clean_phone,
    clean_role,
    clean_telegram_user_id,
    require_over_member,
    update_member,
)
from network_hub.states import MemberStatus

COLUMNS = ("name", "role", "area_code", "phone", "telegram_user_id", "language")
REQUIRED_COLUMNS = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
BOM = "\ufeff"
# Cells that spreadsheet programs run as formulas; export quotes them with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RowError:
    line: int
    message_en: str
    message_th: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.message_en, "error_th": self.message_th}


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    members_created: int = 0
    members_updated: int = 0
    grants_added: int = 0
    grants_unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # The members of the file, in file order, once applied (for one personal invite per member).
    member_ids: list[int] = field(default_factory=list)
    # What the import does with the person starting on each line (Thai, for the web preview).
    notes_th: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def applied(self) -> bool:
        return self.ok and not self.dry_run

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "applied": self.applied,
            "rows": self.rows,
            "members_created": self.members_created,
            "members_updated": self.members_updated,
            "grants_added": self.grants_added,
            "grants_unchanged": self.grants_unchanged,
            "errors": [e.to_dict() for e in self.errors],
            "member_ids": list(self.member_ids),
        }


@dataclass
class _Row:
    line: int
    name: str
    role: str
    area_code: str
    phone: str | None
    telegram_user_id: int | None
    language: str | None


@dataclass
class _Person:
    """One person of the file: the rows that share an identity, and what the import will do."""

    first_line: int
    name: str
    phone: str | None
    telegram_user_id: int | None
    language: str | None
    grants: dict[tuple[str, str], int] = field(default_factory=dict)  # (role, area) -> line
    member: Member | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    new_grants: list[tuple[str, str]] = field(default_factory=list)


# -- decoding and parsing -----------------------------------------------------------------------
def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it",
                           f"ไฟล์ใหญ่เกิน {MAX_FILE_BYTES // (1024 * 1024)} MB กรุณาแบ่งเป็นหลายไฟล์")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"the file is not UTF-8 (line {line}, byte {exc.start}); in Excel choose "
            "'Save as' > 'CSV UTF-8 (comma delimited)'; a TIS-620/Windows-874 file must be converted first",
            f"ไฟล์ไม่ได้เข้ารหัสเป็น UTF-8 (บรรทัดที่ {line}) ใน Excel ให้เลือก 'บันทึกเป็น' > "
            "'CSV UTF-8 (คั่นด้วยจุลภาค)'",
        ) from None


def _check_header(cells: list[str]) -> int:
    """Return how many columns the file has; raise when the header is not the expected one."""
    names = [c.strip().lstrip(BOM).strip().lower() for c in cells]
    while names and names[-1] == "":
        names.pop()
    if REQUIRED_COLUMNS <= len(names) <= len(COLUMNS) and tuple(names) == COLUMNS[: len(names)]:
        return len(names)
    expected = ",".join(COLUMNS)
    raise InvalidInput(
        f"line 1: the header must be {expected} (the last three may be left out), got {','.join(cells)!r}",
        f"บรรทัดที่ 1: หัวตารางต้องเป็น {expected} (สามคอลัมน์สุดท้ายละได้)",
    )


def _unquote_formula(cell: str) -> str:
    """Undo the apostrophe ``export_roster`` puts before a cell that looks like a formula."""
    if len(cell) > 1 and cell[0] == "'" and cell[1].startswith(_FORMULA_START):
        return cell[1:]
    return cell


def _parse_rows(text: str, errors: list[RowError]) -> tuple[list[_Row], int]:
    """The valid rows, and how many data rows (good or bad) the file has."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[_Row] = []
    count = 0
    try:
        header = next(reader, None)
        if header is None or not any(c.strip() for c in header):
            raise InvalidInput(f"the file is empty; the first line must be the header {','.join(COLUMNS)}",
                               f"ไฟล์ว่างเปล่า บรรทัดแรกต้องเป็นหัวตาราง {','.join(COLUMNS)}")
        width = _check_header(header)
        last_line = reader.line_num
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines are harmless
            count += 1
            if count > MAX_ROWS:
                raise InvalidInput(f"more than {MAX_ROWS} rows; split the file",
                                   f"มีมากกว่า {MAX_ROWS} แถว กรุณาแบ่งเป็นหลายไฟล์")
            row = _parse_row(line, cells, width, errors)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: the CSV is broken ({exc})",
                           f"บรรทัดที่ {reader.line_num}: รูปแบบ CSV ไม่ถูกต้อง") from None
    return rows, count


def _parse_row(line: int, cells: list[str], width: int, errors: list[RowError]) -> _Row | None:
    extra = [c for c in cells[width:] if c.strip()]
    if extra:
        errors.append(RowError(line, f"{len(cells)} columns but the header has {width}",
                               f"มี {len(cells)} คอลัมน์ แต่หัวตารางมี {width} คอลัมน์"))
        return None
    values = dict(zip(COLUMNS, [*cells, *[""] * len(COLUMNS)], strict=False))
    values = {k: (values[k] if i < width else "").strip() for i, k in enumerate(COLUMNS)}
    before = len(errors)
    parsed: dict[str, Any] = {}
    cleaners = {
        "name": lambda v: clean_name(_unquote_formula(v)),
        "role": clean_role,
        "area_code": _clean_area_code,
        "phone": lambda v: clean_phone(_unquote_formula(v)),
        "telegram_user_id": clean_telegram_user_id,
        "language": lambda v: clean_language(v) if v else None,
    }
    for column, clean in cleaners.items():
        try:
            parsed[column] = clean(values[column])
        except HubError as exc:
            errors.append(RowError(line, f"{column}: {exc.message_en}", f"{column}: {exc.message_th}"))
    if len(errors) > before:
        return None
    return _Row(line=line, name=parsed["name"], role=parsed["role"].value, area_code=parsed["area_code"],
                phone=parsed["phone"], telegram_user_id=parsed["telegram_user_id"],
                language=parsed["language"])


def _clean_area_code(value: str) -> str:
    if not value:
        raise InvalidInput("the area code is empty", "ไม่ได้ระบุรหัสพื้นที่")
    return validate_code(value)


# -- grouping rows into people ------------------------------------------------------------------
def _group_people(rows: list[_Row], errors: list[RowError]) -> list[_Person]:
    people: list[_Person] = []
    by_phone: dict[str, _Person] = {}
    by_tg: dict[int, _Person] = {}
    by_name: dict[str, _Person] = {}  # rows with neither phone nor Telegram id
    for row in rows:
        via_phone = by_phone.get(row.phone) if row.phone else None
        via_tg = by_tg.get(row.telegram_user_id) if row.telegram_user_id else None
        if via_phone is not None and via_tg is not None and via_phone is not via_tg:
            errors.append(RowError(
                row.line,
                f"phone {row.phone} is the person of line {via_phone.first_line} but Telegram id "
                f"{row.telegram_user_id} is the person of line {via_tg.first_line}",
                f"เบอร์โทรศัพท์ตรงกับบรรทัดที่ {via_phone.first_line} แต่รหัส Telegram ตรงกับบรรทัดที่ "
                f"{via_tg.first_line}",
            ))
            continue
        person = via_phone or via_tg
        if person is None and row.phone is None and row.telegram_user_id is None:
            person = by_name.get(row.name)
        if person is None:
            person = _Person(row.line, row.name, row.phone, row.telegram_user_id, row.language)
            people.append(person)
            if row.phone is None and row.telegram_user_id is None:
                by_name[row.name] = person
        elif not _consistent(person, row, errors):
            continue
        key = (row.role, row.area_code)
        if key in person.grants:
            first = person.grants[key]
            errors.append(RowError(row.line, f"duplicate of line {first} ({row.role} in {row.area_code})",
                                   f"ซ้ำกับบรรทัดที่ {first} ({row.role} ใน {row.area_code})"))
            continue
        person.grants[key] = row.line
        person.phone = person.phone or row.phone
        person.telegram_user_id = person.telegram_user_id or row.telegram_user_id
        person.language = person.language or row.language
        if person.phone:
            by_phone[person.phone] = person
        if person.telegram_user_id:
            by_tg[person.telegram_user_id] = person
    return people


def _consistent(person: _Person, row: _Row, errors: list[RowError]) -> bool:
    """Rows of one person must agree on name, phone and Telegram id."""
    clashes = []
    if row.name != person.name:
        clashes.append(("name", row.name, person.name))
    if row.phone and person.phone and row.phone != person.phone:
        clashes.append(("phone", row.phone, person.phone))
    if row.telegram_user_id and person.telegram_user_id and row.telegram_user_id != person.telegram_user_id:
        clashes.append(("telegram_user_id", row.telegram_user_id, person.telegram_user_id))
    for column, here, there in clashes:
        errors.append(RowError(
            row.line,
            f"{column} {here!r} differs from line {person.first_line} ({there!r}) for the same person",
            f"{column} ไม่ตรงกับบรรทัดที่ {person.first_line} ของบุคคลเดียวกัน",
        ))
    return not clashes


# -- matching people with the database -----------------------------------------------------------
def _match_people(session: Session, people: list[_Person], actor: Actor, errors: list[RowError]) -> None:
    known_areas = set(session.scalars(
        select(Area.code).where(Area.code.in_({a for p in people for _r, a in p.grants}))
    ))
    matched_by: dict[int, _Person] = {}
    for person in people:
        _check_grants(person, known_areas, actor, errors)
        member = _find_existing(session, person, errors)
        if member is None:
            continue
        if member.id in matched_by:
            other = matched_by[member.id]
            errors.append(RowError(
                person.first_line,
                f"this row and line {other.first_line} are both member {member.id}; give the same phone "
                "and telegram_user_id on both",
                f"บรรทัดนี้และบรรทัดที่ {other.first_line} เป็นสมาชิกหมายเลข {member.id} คนเดียวกัน "
                "กรุณาระบุเบอร์โทรศัพท์และรหัส Telegram ให้ตรงกัน",
            ))
            continue
        matched_by[member.id] = person
        if member.status == MemberStatus.FORGOTTEN:  # cannot happen by phone/id (erased); by name never
            continue
        person.member = member
        changes: dict[str, Any] = {}
        for column in ("name", "phone", "telegram_user_id", "language"):
            value = getattr(person, column)
            if value is not None and value != getattr(member, column):
                changes[column] = value
        person.changes = changes
        held = {(g.role, g.area_code) for g in session.scalars(
            select(RoleGrant).where(RoleGrant.member_id == member.id))}
        person.new_grants = [k for k in person.grants if k not in held]
        if changes:
            try:
                require_over_member(session, actor, member)
            except HubError as exc:
                errors.append(RowError(person.first_line, f"updating member {member.id}: {exc.message_en}",
                                       f"แก้ไขสมาชิกหมายเลข {member.id}: {exc.message_th}"))


def _check_grants(person: _Person, known_areas: set[str], actor: Actor, errors: list[RowError]) -> None:
    person.new_grants = list(person.grants)
    for (role, area), line in person.grants.items():
        if area not in known_areas:
            hint = "network-hub village add" if len(area) == 8 else "network-hub areas load"
            errors.append(RowError(line, f"area_code: area {area} is not known (add it first: {hint})",
                                   f"area_code: ไม่พบพื้นที่รหัส {area} ในระบบ"))
            continue
        try:
            require(actor, Action.MANAGE_ROSTER, area)
        except HubError as exc:
            errors.append(RowError(line, f"{role} in {area}: {exc.message_en}", exc.message_th))


def _find_existing(session: Session, person: _Person, errors: list[RowError]) -> Member | None:
    by_phone = session.scalar(select(Member).where(Member.phone == person.phone)) if person.phone else None
    by_tg = (session.scalar(select(Member).where(Member.telegram_user_id == person.telegram_user_id))
             if person.telegram_user_id else None)
    if by_phone is not None and by_tg is not None and by_phone.id != by_tg.id:
        errors.append(RowError(
            person.first_line,
            f"phone {person.phone} belongs to member {by_phone.id} but Telegram id {person.telegram_user_id} "
            f"to member {by_tg.id}",
            f"เบอร์โทรศัพท์เป็นของสมาชิกหมายเลข {by_phone.id} แต่รหัส Telegram เป็นของสมาชิกหมายเลข {by_tg.id}",
        ))
        return None
    if by_phone or by_tg:
        return by_phone or by_tg
    if person.phone or person.telegram_user_id:
        return None
    namesakes = list(session.scalars(select(Member).where(
        Member.name == person.name, Member.phone.is_(None), Member.telegram_user_id.is_(None),
        Member.status != MemberStatus.FORGOTTEN.value)))
    if len(namesakes) > 1:
        errors.append(RowError(
            person.first_line,
            f"{len(namesakes)} members are called {person.name!r} with no phone or Telegram id; "
            "add a phone or telegram_user_id to say which one",
            f"มีสมาชิกชื่อ {person.name} มากกว่าหนึ่งคน กรุณาระบุเบอร์โทรศัพท์หรือรหัส Telegram",
        ))
        return None
    return namesakes[0] if namesakes else None


# -- the import ---------------------------------------------------------------------------------
def import_roster(session: Session, data: bytes, *, dry_run: bool, now: datetime,
                  actor: Actor) -> ImportReport:
    """Check every row; write all of them (unless ``dry_run``) only when none is bad.

    A file that cannot be read at all (not UTF-8, wrong header, broken CSV) raises InvalidInput;
    bad rows are returned in ``ImportReport.errors`` (sorted by line) and nothing is written.
    """
    report = ImportReport(dry_run=dry_run)
    errors: list[RowError] = []
    rows, report.rows = _parse_rows(_decode(data), errors)
    people = _group_people(rows, errors)
    _match_people(session, people, actor, errors)
    report.errors = sorted(set(errors), key=lambda e: (e.line, e.message_en))
    for person in people:
        report.notes_th[person.first_line] = _note_th(person)
        if person.member is None:
            report.members_created += 1
        elif person.changes:
            report.members_updated += 1
        report.grants_added += len(person.new_grants)
        report.grants_unchanged += len(person.grants) - len(person.new_grants)
    if not report.applied:
        return report
    for person in people:
        report.member_ids.append(_apply(session, person, now=now, actor=actor))
    audit.record(session, at=now, action="roster.import", object_type="roster", object_id="csv",
                 after={k: v for k, v in report.to_dict().items() if k not in ("errors", "member_ids")},
                 **audit_actor(actor))
    return report


_FIELD_TH = {"name": "ชื่อ", "phone": "เบอร์โทรศัพท์", "telegram_user_id": "รหัส Telegram", "language": "ภาษา"}


def _note_th(person: _Person) -> str:
    if person.member is None:
        return "สมาชิกใหม่"
    note = f"สมาชิกเดิมหมายเลข {person.member.id} ({person.member.name})"
    if person.changes:
        note += " · แก้ไข" + ", ".join(_FIELD_TH.get(k, k) for k in person.changes)
    if person.new_grants:
        note += f" · เพิ่มบทบาท {len(person.new_grants)}"
    return note


def _apply(session: Session, person: _Person, *, now: datetime, actor: Actor) -> int:
    member = person.member
    if member is None:
        member = add_member(session, name=person.name, phone=person.phone,
                            telegram_user_id=person.telegram_user_id, language=person.language or "th",
                            now=now, actor=actor)
    elif person.changes:
        update_member(session, member.id, now=now, actor=actor, **person.changes)
    for role, area in person.new_grants:
        add_grant(session, member.id, role, area, now=now, actor=actor)
    return member.id


# -- the export ---------------------------------------------------------------------------------
def _formula_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def export_roster(session: Session, area: str | None = None) -> str:
    """The roster as CSV text (with a BOM so Excel shows Thai), one row per grant."""
    query = (
        select(Member, RoleGrant)
        .join(RoleGrant, RoleGrant.member_id == Member.id)
        .where(Member.status != MemberStatus.FORGOTTEN.value)
        .order_by(Member.id, RoleGrant.area_code, RoleGrant.role)
    )
    if area is not None:
        code = validate_code(area)
        if code != "TH":
            query = query.where(RoleGrant.area_code.like(f"{code}%"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for member, grant in session.execute(query):
        writer.writerow([
            _formula_safe(member.name),
            grant.role,
            grant.area_code,
            member.phone or "",
            member.telegram_user_id or "",
            member.language,
        ])
    return BOM + out.getvalue()
