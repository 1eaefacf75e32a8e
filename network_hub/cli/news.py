"""``news submit | list | queue | show | edit | approve | reschedule | unschedule | reject | return |
resubmit | correct | withdraw``.

Moderation commands act as the member named by ``--by`` (the permission function decides as it
would in the bot: nobody moderates their own item). ``submit`` runs as the hub itself, entering
the item for ``--author`` (who must hold a grant over the village and is sent the receipt), or as
``--by``. Times are Asia/Bangkok ``YYYY-MM-DD HH:MM``; a time in the past is refused.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from network_hub.cli.common import JSON_OPTION, actor_for, emit, get_hub, local_time
from network_hub.errors import InvalidInput
from network_hub.newsroom import queries

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from network_hub.newsroom.photos import PhotoInput

# Moderation, submission (PDPA text checks, Thai text), photos (Pillow) and photo checks are imported
# by the commands that use them, so `news list` and `news queue` load only the queries.

app = typer.Typer(help="News items and their moderation.", no_args_is_help=True)

ITEM_COLUMNS = ("id", "receipt_no", "status", "village", "category", "author", "title", "pdpa_flags",
                "scheduled_at", "version")
DELIVERY_COLUMNS = ("id", "outlet_id", "state", "attempts", "due_at", "not_before", "external_ids",
                    "followup_action", "followup_state", "last_error")

ITEM_ARG = typer.Argument(..., help="Item id or receipt number (NH-2569-000123)")
# README: every command runs as the hub itself unless --by names the member acting.
BY_REQUIRED = typer.Option(None, "--by", help="The acting MEMBER: id, tg:<Telegram id> or phone; default: the hub")
TEXT_OPTION = typer.Option(None, "--text", help="The news text")
TEXT_FILE_OPTION = typer.Option(None, "--text-file", help="Read the text from a UTF-8 file ('-' for stdin)")
TITLE_OPTION = typer.Option(None, "--title", help="Title (default: the first line of the text)")
REASON_OPTION = typer.Option(..., "--reason", help="Why (1-500 characters); the author is told")
VERSION_OPTION = typer.Option(None, "--expected-version",
                              help="Refuse if the item changed since you saw this version")
AT_OPTION_HELP = "Publish at this Asia/Bangkok time, YYYY-MM-DD HH:MM (Christian Era year)"


def _item_id(session: Session, ref: str) -> int:
    return queries.get_item(session, ref.strip()).id


def _read_text(text: str | None, text_file: Path | None, *, required: bool = True) -> str | None:
    if text is not None and text_file is not None:
        raise InvalidInput("give either --text or --text-file, not both", "ระบุข้อความได้ทางเดียว")
    if text_file is not None:
        if str(text_file) == "-":
            return sys.stdin.read()
        try:
            return text_file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InvalidInput(f"text file {text_file} does not exist", f"ไม่พบไฟล์ {text_file}") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"text file {text_file} is not UTF-8 text; save it as UTF-8",
                               f"ไฟล์ {text_file} ไม่ใช่ข้อความ UTF-8") from None
    if text is None and required:
        raise InvalidInput("the news text is missing: give --text or --text-file", "กรุณาระบุเนื้อหาข่าว")
    return text


def _read_photos(paths: list[Path]) -> list[PhotoInput]:
    from network_hub.newsroom.photos import PhotoInput

    photos = []
    for path in paths:
        try:
            photos.append(PhotoInput(data=path.read_bytes(), filename=path.name))
        except (FileNotFoundError, IsADirectoryError):
            raise InvalidInput(f"photo file {path} does not exist", f"ไม่พบไฟล์ภาพ {path}") from None
    return photos


def _when(text: str, now: datetime) -> datetime:
    from network_hub.timeparse import parse_local_time

    return parse_local_time(text, get_hub().settings.tz, now=now).astimezone(UTC)


def _print_item(data: dict[str, Any], as_json: bool) -> None:
    emit(data, as_json, ITEM_COLUMNS)
    if not as_json and data.get("pdpa_flags"):
        typer.echo(f"PDPA flags: {', '.join(data['pdpa_flags'])} — approval needs --confirm-pdpa", err=True)


@app.command("submit")
def submit(
    village: str = typer.Option(..., "--village", help="8-digit village code"),
    author: str = typer.Option(..., "--author", help="The reporter MEMBER (id, tg:<id> or phone)"),
    category: str = typer.Option(..., "--category",
                                 help="development_result, local_product, community_charm, announcement or event"),
    title: str | None = TITLE_OPTION,
    text: str | None = TEXT_OPTION,
    text_file: Path | None = TEXT_FILE_OPTION,
    photo: list[Path] = typer.Option([], "--photo", help="A photo file (repeat for up to 10)"),
    photos_show_children: bool = typer.Option(False, "--photos-show-children/--no-photos-show-children",
                                              help="The photos show children (raises the PDPA 'minor' flag)"),
    identifiable_people: bool = typer.Option(False, "--identifiable-people/--no-identifiable-people",
                                             help="The photos show people who can be recognised"),
    consent_given: bool = typer.Option(False, "--consent-given/--no-consent-given",
                                       help="The people shown agreed to publication"),
    by: str | None = typer.Option(None, "--by", help="Submit as this MEMBER (default: the hub, for the author)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Submit a news item for a village; prints the item with its receipt number."""
    from network_hub.newsroom import pdpa
    from network_hub.newsroom.submission import submit_item
    from network_hub.roster.lookup import find_member

    body = _read_text(text, text_file) or ""
    photos = _read_photos(photo)
    hub = get_hub()
    now = hub.clock.now()
    consent = pdpa.Consent(photos_show_children=photos_show_children, identifiable_people=identifiable_people,
                           consent_given=consent_given)
    with hub.transaction() as session:
        author_id = find_member(session, author).id
        actor = actor_for(session, by)
        item = submit_item(session, actor=actor, author_id=author_id, village_code=village, category=category,
                           body=body, title=title, photos=photos, consent=consent, now=now,
                           media_dir=hub.settings.resolved_media_dir, via="cli")
        data = queries.item_to_dict(item)
    _print_item(data, as_json)


@app.command("list")
def list_(
    status: str | None = typer.Option(None, "--status", help="Only items in this status"),
    area: str | None = typer.Option(None, "--area", help="Only items in this area or below"),
    by: str | None = typer.Option(None, "--by", help="Only what this MEMBER may see"),
    limit: int = typer.Option(200, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """List news items, newest first."""
    hub = get_hub()
    with hub.transaction() as session:
        actor = actor_for(session, by) if by is not None else None
        rows = [queries.item_to_dict(i)
                for i in queries.list_items(session, actor=actor, status=status, area=area, limit=limit)]
    emit(rows, as_json, ITEM_COLUMNS)


@app.command("queue")
def queue(by: str | None = BY_REQUIRED, as_json: bool = JSON_OPTION) -> None:
    """Submitted items this MEMBER may moderate, oldest first."""
    hub = get_hub()
    with hub.transaction() as session:
        rows = [queries.item_to_dict(i) for i in queries.pending_queue(session, actor_for(session, by))]
    emit(rows, as_json, ITEM_COLUMNS)


@app.command("show")
def show(item: str = ITEM_ARG, as_json: bool = JSON_OPTION) -> None:
    """One item with its PDPA evidence, deliveries and history."""
    from network_hub.newsroom import moderation
    from network_hub.photo_checks.present import views as photo_views

    hub = get_hub()
    with hub.transaction() as session:
        row = queries.get_item(session, item.strip())
        data = queries.item_to_dict(row)
        data["pdpa_evidence"] = queries.pdpa_evidence(row)
        data["allowed_actions"] = moderation.allowed_verbs(row)
        data["deliveries"] = queries.item_deliveries(session, row.id)
        data["history"] = queries.item_history(session, row.id)
        data["photo_checks"] = [  # issue 16: what was found in which photo
            {"photo": v.number, "state": v.state, "findings": v.findings} for v in photo_views(session, row.id)]
    if as_json:
        emit(data, True)
        return
    for key in (*ITEM_COLUMNS, "submitted_at", "decided_by", "decision_reason", "allowed_actions"):
        value = data.get(key)
        typer.echo(f"{key:16} {', '.join(map(str, value)) if isinstance(value, list) else local_time(value)}")
    typer.echo(f"photos           {len(data['photos'])}")
    for finding in data["pdpa_evidence"]:
        typer.echo(f"PDPA {finding['flag']} ({finding['field']}): {finding['evidence']}")
    for check in data["photo_checks"]:
        found = "; ".join(f"{f['flag']} {f['evidence']}" for f in check["findings"]) or "nothing found"
        typer.echo(f"photo {check['photo']} check    {check['state']}: {found}")
    typer.echo("\n" + data["body"] + "\n")
    typer.echo("deliveries:")
    emit(data["deliveries"], False, DELIVERY_COLUMNS)
    typer.echo("history:")
    for event in data["history"]:
        reason = f" — {event['reason']}" if event["reason"] else ""
        who = event["actor_id"] or "hub"
        typer.echo(f"  {local_time(event['at'])}  {event['action']:16} by {who} ({event['via']}){reason}")


def _transition(item: str, by: str | None, as_json: bool, run: Any) -> None:
    """Resolve the item and actor, run one moderation service in one transaction, print the item."""
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        item_id = _item_id(session, item)
        result = run(session, item_id, actor_for(session, by), now)
        row = queries.get_item(session, item_id)
        data = queries.item_to_dict(row)
        if isinstance(result, list):  # approval: the deliveries it wrote
            data["deliveries"] = queries.item_deliveries(session, item_id)
    _print_item(data, as_json)


@app.command("edit")
def edit(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, title: str | None = TITLE_OPTION,
    text: str | None = TEXT_OPTION, text_file: Path | None = TEXT_FILE_OPTION,
    expected_version: int | None = VERSION_OPTION, as_json: bool = JSON_OPTION,
) -> None:
    """Edit the title and/or text of a submitted item (the author is told)."""
    from network_hub.newsroom import moderation

    body = _read_text(text, text_file, required=False)
    if body is None and title is None:
        raise InvalidInput("nothing to edit: give --title and/or --text/--text-file", "ไม่มีสิ่งที่จะแก้ไข")
    _transition(item, by, as_json, lambda s, i, a, now: moderation.edit_item(
        s, i, actor=a, title=title, body=body, expected_version=expected_version, now=now))


@app.command("approve")
def approve(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED,
    at: str | None = typer.Option(None, "--at", help=AT_OPTION_HELP),
    confirm_pdpa: bool = typer.Option(False, "--confirm-pdpa", help="I checked the PDPA flags; publish anyway"),
    expected_version: int | None = VERSION_OPTION, as_json: bool = JSON_OPTION,
) -> None:
    """Approve now, or schedule with --at; writes one delivery per routed outlet."""
    from network_hub.newsroom import moderation

    now = get_hub().clock.now()
    when = _when(at, now) if at is not None else None
    _transition(item, by, as_json, lambda s, i, a, now: moderation.approve_item(
        s, i, actor=a, at=when, confirm_pdpa=confirm_pdpa, expected_version=expected_version, now=now))


@app.command("reschedule")
def reschedule(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, at: str = typer.Option(..., "--at", help=AT_OPTION_HELP),
    expected_version: int | None = VERSION_OPTION, as_json: bool = JSON_OPTION,
) -> None:
    """Move a scheduled item to another time."""
    from network_hub.newsroom import moderation

    when = _when(at, get_hub().clock.now())
    _transition(item, by, as_json, lambda s, i, a, now: moderation.reschedule_item(
        s, i, actor=a, at=when, expected_version=expected_version, now=now))


@app.command("unschedule")
def unschedule(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, expected_version: int | None = VERSION_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Cancel a schedule: the item goes back to the queue (submitted)."""
    from network_hub.newsroom import moderation

    _transition(item, by, as_json, lambda s, i, a, now: moderation.unschedule_item(
        s, i, actor=a, expected_version=expected_version, now=now))


@app.command("reject")
def reject(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, reason: str = REASON_OPTION,
    expected_version: int | None = VERSION_OPTION, as_json: bool = JSON_OPTION,
) -> None:
    """Reject an item with a reason."""
    from network_hub.newsroom import moderation

    _transition(item, by, as_json, lambda s, i, a, now: moderation.reject_item(
        s, i, actor=a, reason=reason, expected_version=expected_version, now=now))


@app.command("return")
def return_(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, reason: str = REASON_OPTION,
    expected_version: int | None = VERSION_OPTION, as_json: bool = JSON_OPTION,
) -> None:
    """Return an item to its author for changes, with a reason."""
    from network_hub.newsroom import moderation

    _transition(item, by, as_json, lambda s, i, a, now: moderation.return_item(
        s, i, actor=a, reason=reason, expected_version=expected_version, now=now))


@app.command("resubmit")
def resubmit(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, title: str | None = TITLE_OPTION,
    text: str | None = TEXT_OPTION, text_file: Path | None = TEXT_FILE_OPTION,
    photo: list[Path] = typer.Option([], "--photo", help="Replace the photos with these (repeat for up to 10)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The author sends a returned item again (photos kept unless --photo is given)."""
    from network_hub.newsroom import moderation

    body = _read_text(text, text_file) or ""
    photos = _read_photos(photo) if photo else None
    media_dir = get_hub().settings.resolved_media_dir
    _transition(item, by, as_json, lambda s, i, a, now: moderation.resubmit_item(
        s, i, actor=a, body=body, title=title, photos=photos, now=now, media_dir=media_dir))


@app.command("correct")
def correct(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, title: str | None = TITLE_OPTION,
    text: str | None = TEXT_OPTION, text_file: Path | None = TEXT_FILE_OPTION,
    confirm_pdpa: bool = typer.Option(False, "--confirm-pdpa", help="The new text's PDPA flags were checked"),
    expected_version: int | None = VERSION_OPTION, as_json: bool = JSON_OPTION,
) -> None:
    """Correct a published item's text; every posted copy is edited where the platform allows."""
    from network_hub.newsroom import moderation

    body = _read_text(text, text_file) or ""
    _transition(item, by, as_json, lambda s, i, a, now: moderation.correct_item(
        s, i, actor=a, body=body, title=title, confirm_pdpa=confirm_pdpa, expected_version=expected_version,
        now=now))


@app.command("withdraw")
def withdraw(
    item: str = ITEM_ARG, by: str | None = BY_REQUIRED, reason: str = REASON_OPTION,
    expected_version: int | None = VERSION_OPTION, as_json: bool = JSON_OPTION,
) -> None:
    """Withdraw an item: unsent deliveries are cancelled, posted copies deleted where possible."""
    from network_hub.newsroom import moderation

    _transition(item, by, as_json, lambda s, i, a, now: moderation.withdraw_item(
        s, i, actor=a, reason=reason, expected_version=expected_version, now=now))
