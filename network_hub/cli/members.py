"""``member …``, ``grant …`` and ``roster import/export``.

Commands run as the hub itself (a national admin) unless ``--by MEMBER`` names the member on
whose behalf the operator acts; the permission function then decides as it would in the bot.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from network_hub.cli.common import BY_OPTION, JSON_OPTION, actor_for, emit, get_hub
from network_hub.errors import InvalidInput

if TYPE_CHECKING:
    from network_hub.roster.csv_io import ImportReport

# The roster services (ORM models, permissions, phone numbers, passwords) are imported inside each
# command, so `member list` loads only what listing needs (docs/PERFORMANCE.md, "CLI start-up").

member_app = typer.Typer(help="Members of the PR network.", no_args_is_help=True)
grant_app = typer.Typer(help="Role grants (member × role × area).", no_args_is_help=True)
roster_app = typer.Typer(help="Roster CSV import and export.", no_args_is_help=True)

MEMBER_ARG = typer.Argument(..., help="Member id, tg:<Telegram user id>, or phone number")
ROLE_OPTION = typer.Option(..., "--role", help="reporter, moderator, coordinator or admin")
AREA_OPTION = typer.Option(..., "--area", help="Area code: TH, 2/4/6-digit official code or 8-digit village")
LIST_COLUMNS = ("id", "name", "phone", "telegram_user_id", "language", "status", "grants")


def _table_row(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "grants": [f"{g['role']}@{g['area_code']}" for g in data["grants"]]}


def _show(data: dict[str, Any], as_json: bool) -> None:
    emit(data if as_json else _table_row(data), as_json, LIST_COLUMNS)


# -- member ---------------------------------------------------------------------------------------
@member_app.command("add")
def member_add(
    name: str = typer.Option(..., "--name", help="Full name as the network knows the person"),
    role: str = ROLE_OPTION,
    area: str = AREA_OPTION,
    phone: str | None = typer.Option(None, "--phone", help="Thai phone number, e.g. 0812345678"),
    telegram_id: str | None = typer.Option(None, "--telegram-id", help="Numeric Telegram user id"),
    language: str = typer.Option("th", "--language", help="th or en"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a member with one role grant (more with: grant add)."""
    from network_hub.roster import members as roster

    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        roster.clean_role(role)  # refuse a bad role before the member is created
        member = roster.add_member(session, name=name, phone=phone, telegram_user_id=telegram_id,
                                   language=language, now=now, actor=actor)
        grant = roster.add_grant(session, member.id, role, area, now=now, actor=actor)
        data = roster.member_to_dict(member, [grant])
    _show(data, as_json)


@member_app.command("list")
def member_list(
    area: str | None = typer.Option(None, "--area", help="Only members with a grant in this area or below"),
    include_forgotten: bool = typer.Option(False, "--all", help="Include forgotten (erased) members"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List members and their grants."""
    from network_hub.roster.listing import member_rows

    hub = get_hub()
    with hub.engine.connect() as connection:  # Core reads: no ORM session (and no ORM import) needed
        rows = member_rows(connection, area, include_forgotten=include_forgotten)
    emit(rows if as_json else [_table_row(r) for r in rows], as_json, LIST_COLUMNS)


@member_app.command("show")
def member_show(member: str = MEMBER_ARG, as_json: bool = JSON_OPTION) -> None:
    """Show one member."""
    from network_hub.roster import members as roster
    from network_hub.roster.lookup import find_member

    hub = get_hub()
    with hub.sessions() as session:
        found = find_member(session, member)
        data = roster.member_to_dict(found, roster.grants_of(session, found.id))
    _show(data, as_json)


def _change_status(member: str, by: str | None, reason: str | None, as_json: bool, verb: str) -> None:
    from network_hub.roster import members as roster
    from network_hub.roster.lookup import find_member

    hub = get_hub()
    now = hub.clock.now()
    service = {"suspend": roster.suspend_member, "resume": roster.resume_member}[verb]
    with hub.transaction() as session:
        actor = actor_for(session, by)
        target = find_member(session, member)
        changed = service(session, target.id, now=now, actor=actor, reason=reason)
        data = roster.member_to_dict(changed, roster.grants_of(session, changed.id))
    if as_json:
        emit(data, True)
    else:
        typer.echo(f"member {data['id']} ({data['name']}) is now {data['status']}")


REASON_OPTION = typer.Option(None, "--reason", help="Why (kept in the audit log)")


@member_app.command("suspend")
def member_suspend(member: str = MEMBER_ARG, reason: str | None = REASON_OPTION, by: str | None = BY_OPTION,
                   as_json: bool = JSON_OPTION) -> None:
    """Suspend a member: they can do nothing until resumed; their news stays."""
    _change_status(member, by, reason, as_json, "suspend")


@member_app.command("resume")
def member_resume(member: str = MEMBER_ARG, reason: str | None = REASON_OPTION, by: str | None = BY_OPTION,
                  as_json: bool = JSON_OPTION) -> None:
    """Lift a suspension."""
    _change_status(member, by, reason, as_json, "resume")


@member_app.command("forget")
def member_forget(
    member: str = MEMBER_ARG,
    reason: str | None = REASON_OPTION,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """PDPA erasure: delete name, phone, Telegram id and password; keep the row as 'forgotten'."""
    from network_hub.roster import members as roster
    from network_hub.roster.lookup import find_member

    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        target = find_member(session, member)
        if not yes:
            typer.confirm(
                f"Erase the personal data of member {target.id} ({target.name})? This cannot be undone",
                abort=True, err=True,
            )
        forgotten = roster.forget_member(session, target.id, now=now, actor=actor, reason=reason)
        data = roster.member_to_dict(forgotten, [])
    if as_json:
        emit(data, True)
    else:
        typer.echo(f"member {data['id']} forgotten: name, phone, Telegram id and password erased; "
                   "their news items keep the member number as author")


@member_app.command("merge")
def member_merge(
    keep: str = typer.Argument(..., help="The member to keep (id, tg:<id> or phone)"),
    other: str = typer.Argument(..., help="The duplicate to fold into KEEP, then delete"),
    reason: str | None = REASON_OPTION,
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Merge two members who are one person: OTHER's grants, news, notifications and history move to KEEP."""
    from network_hub.roster import members as roster
    from network_hub.roster.lookup import find_member
    from network_hub.roster.merge import merge_members

    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        keep_id, other_id = find_member(session, keep).id, find_member(session, other).id
        kept = merge_members(session, keep_id, other_id, now=now, actor=actor, reason=reason)
        data = roster.member_to_dict(kept, roster.grants_of(session, kept.id))
    if as_json:
        emit(data, True)
    else:
        typer.echo(f"member {other_id} merged into member {keep_id} ({data['name']})")


@member_app.command("set-password")
def member_set_password(
    member: str = MEMBER_ARG,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input"),
    by: str | None = BY_OPTION,
) -> None:
    """Set the member's dashboard password (at least 10 characters); asked twice, hidden."""
    from network_hub.roster import members as roster
    from network_hub.roster.lookup import find_member

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        target = find_member(session, member)
        roster.set_password(session, target.id, password, now=now, actor=actor)
        member_id = target.id
    typer.echo(f"password set for member {member_id}")


# -- grant ----------------------------------------------------------------------------------------
@grant_app.command("add")
def grant_add(member: str = MEMBER_ARG, role: str = ROLE_OPTION, area: str = AREA_OPTION,
              by: str | None = BY_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Give a member a role in an area (and every area below it)."""
    from network_hub.roster import members as roster
    from network_hub.roster.lookup import find_member

    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        target = find_member(session, member)
        grant = roster.add_grant(session, target.id, role, area, now=now, actor=actor)
        data = {"id": grant.id, "member_id": target.id, "role": grant.role, "area_code": grant.area_code}
    if as_json:
        emit(data, True)
    else:
        typer.echo(f"member {data['member_id']} is now {data['role']} in {data['area_code']}")


@grant_app.command("remove")
def grant_remove(member: str = MEMBER_ARG, role: str = ROLE_OPTION, area: str = AREA_OPTION,
                 by: str | None = BY_OPTION) -> None:
    """Take a role in an area away from a member."""
    from network_hub.roster import members as roster
    from network_hub.roster.lookup import find_member

    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        target = find_member(session, member)
        roster.remove_grant(session, target.id, role, area, now=now, actor=actor)
        member_id = target.id
    typer.echo(f"member {member_id} is no longer {role.strip().lower()} in {area.strip().upper()}")


# -- roster ---------------------------------------------------------------------------------------
def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file", f"ไม่พบไฟล์ {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a CSV file",
                           f"{path} เป็นโฟลเดอร์ ไม่ใช่ไฟล์ CSV") from None
    except PermissionError:
        raise InvalidInput(f"{path}: permission denied", f"ไม่มีสิทธิ์อ่านไฟล์ {path}") from None


def _print_report(report: ImportReport, as_json: bool) -> None:
    if as_json:
        emit(report.to_dict(), True)
    for error in report.errors:
        typer.echo(f"line {error.line}: {error.message_en} / {error.message_th}", err=True)
    if report.errors:
        bad_lines = len({e.line for e in report.errors})
        typer.echo(f"error: {bad_lines} of {report.rows} rows are bad; nothing was imported", err=True)
        return
    if as_json:
        return
    counts = (f"{report.rows} rows: {report.members_created} new members, {report.members_updated} updated, "
              f"{report.grants_added} grants added, {report.grants_unchanged} already held")
    if report.dry_run:
        typer.echo(f"dry run, nothing changed. {counts}")
    else:
        typer.echo(f"imported {counts}")


@roster_app.command("import")
def roster_import(
    file: Path = typer.Argument(..., help="CSV: name,role,area_code[,phone,telegram_user_id,language]"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and change nothing"),
    invites: bool = typer.Option(False, "--invites", help="Also make one personal invite link per member "
                                 "not on Telegram yet (printed; the web prints the sheet: /roster/sheet)"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a roster CSV: all rows or none; every bad row is listed with its line number."""
    from network_hub.cli.invites import _bot_username
    from network_hub.roster.csv_io import import_roster
    from network_hub.roster.invites import invite_link
    from network_hub.roster.sheet import personal_invite_rows

    data = _read_file(file)
    hub = get_hub()
    now = hub.clock.now()
    links: list[dict[str, Any]] = []
    if invites and not hub.settings.telegram_bot_username.strip():
        # A personal link printed for a bot that does not exist yet cannot be taken back.
        typer.echo("warning: no personal invites made: set HUB_TELEGRAM_BOT_USERNAME first, then run "
                   "`network-hub roster import FILE --invites` again (the import itself is harmless to repeat)",
                   err=True)
        invites = False
    with hub.transaction() as session:
        actor = actor_for(session, by)
        report = import_roster(session, data, dry_run=dry_run, now=now, actor=actor)
        if invites and report.applied:
            username = _bot_username()
            for row in personal_invite_rows(session, report.member_ids, now=now, actor=actor):
                links.append({"member_id": row.member_id, "name": row.name, "role": row.role,
                              "area_code": row.area_code, "status": row.status,
                              "link": invite_link(row.invite, username) if row.invite else ""})
    _print_report(report, as_json)
    if links:
        if as_json:
            emit(links, True)
        else:
            typer.echo("personal invites (one per member; status 'linked' = already on Telegram):")
            emit(links, False, ("member_id", "name", "role", "area_code", "status", "link"))
    if not report.ok:
        raise typer.Exit(InvalidInput.exit_code)


@roster_app.command("export")
def roster_export(
    file: Path | None = typer.Argument(None, help="Write here (default: standard output)"),
    area: str | None = typer.Option(None, "--area", help="Only grants in this area or below"),
) -> None:
    """Export the roster as CSV (UTF-8 with BOM, one row per grant), the format import takes."""
    from network_hub.roster.csv_io import export_roster

    hub = get_hub()
    with hub.sessions() as session:
        text = export_roster(session, area)
    if file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    file.write_text(text, encoding="utf-8", newline="")
    typer.echo(f"wrote {text.count(chr(10)) - 1} grants to {file}", err=True)
