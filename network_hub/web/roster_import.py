"""Roster CSV upload on the web: a preview of every row and its errors, then confirm → all or nothing.

``POST /roster/import`` (multipart) runs ``import_roster(dry_run=True)`` — the same checks as the
CLI — and shows every row of the file with what is wrong with it; nothing changes. When every row
is good the page carries the file's text in a hidden field and ``POST /roster/import/confirm``
imports it for real in one transaction (checked again: if the roster changed meanwhile and a row
became bad, the preview comes back instead and nothing is written). Optionally one personal invite
per member is made in the same transaction, and the page links to the village invite sheets.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from network_hub.errors import HubError, InvalidInput
from network_hub.permissions import Action
from network_hub.roster.csv_io import MAX_FILE_BYTES, ImportReport, import_roster
from network_hub.roster.sheet import personal_invite_rows
from network_hub.web.bodylimit import DEFAULT_LIMIT, allow_body
from network_hub.web.deps import CSRF, VIEWER, Viewer, now, transaction
from network_hub.web.members_admin import bot_username, page, status_of

router = APIRouter()
# The file (5 MB at most) travels twice: uploaded, then back as the confirmed text (URL-encoded
# Thai takes up to ~9 bytes per character), so the confirm route gets a larger allowance.
allow_body(r"/roster/import", MAX_FILE_BYTES + DEFAULT_LIMIT)
allow_body(r"/roster/import/confirm", 10 * MAX_FILE_BYTES + DEFAULT_LIMIT)
PREVIEW_ROWS = 2000


@dataclass
class PreviewRow:
    line: int
    cells: list[str]
    errors: list[str] = field(default_factory=list)
    note: str = ""


def _rows(text: str) -> tuple[list[str], list[PreviewRow]]:
    """The header and every non-blank row with its line number (as ``csv_io`` counts them)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header: list[str] = []
    rows: list[PreviewRow] = []
    try:
        header = next(reader, [])
        last = reader.line_num
        for cells in reader:
            line, last = last + 1, reader.line_num
            if any(c.strip() for c in cells):
                rows.append(PreviewRow(line, cells))
    except csv.Error:
        pass  # import_roster reports the broken line
    return header, rows


def _preview(request: Request, viewer: Viewer, text: str, report: ImportReport, *, status_code: int = 200,
             with_invites: bool = False) -> Response:
    header, rows = _rows(text)
    by_line: dict[int, list[str]] = {}
    for error in report.errors:
        message = error.message_en if viewer.language == "en" else error.message_th
        by_line.setdefault(error.line, []).append(message)
    for row in rows:
        row.errors = by_line.pop(row.line, [])
        row.note = report.notes_th.get(row.line, "")
    orphan = [(line, msgs) for line, msgs in sorted(by_line.items())]  # e.g. errors on the header line
    bad = len({e.line for e in report.errors})
    return page(request, "roster_import.html", status_code=status_code, stage="preview", header=header,
                rows=rows[:PREVIEW_ROWS], more=max(0, len(rows) - PREVIEW_ROWS), orphan=orphan, report=report,
                bad=bad, text=text if report.ok else "", error=None, with_invites=with_invites)


@router.get("/roster/import")
def import_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_ROSTER)
    return page(request, "roster_import.html", stage="upload", error=None)


@router.post("/roster/import", dependencies=[CSRF])
async def import_check(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_ROSTER)
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("choose a CSV file", "กรุณาเลือกไฟล์ CSV")
        data = await upload.read(MAX_FILE_BYTES + 1)
        with transaction(request) as session:
            report = import_roster(session, data, dry_run=True, now=now(request), actor=viewer.actor)
        text = data.decode("utf-8-sig")
    except HubError as exc:
        return page(request, "roster_import.html", status_code=status_of(exc), stage="upload",
                    error=exc.message(viewer.language))
    return _preview(request, viewer, text, report, status_code=200 if report.ok else 400)


@router.post("/roster/import/confirm", dependencies=[CSRF])
async def import_confirm(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_ROSTER)
    form = await request.form()
    text = str(form.get("text", ""))
    with_invites = form.get("invites") == "yes"
    at = now(request)
    try:
        with transaction(request) as session:
            report = import_roster(session, text.encode("utf-8"), dry_run=False, now=at, actor=viewer.actor)
            invites = 0
            areas: set[str] = set()
            if report.applied and with_invites and bot_username(request):
                for row in personal_invite_rows(session, report.member_ids, now=at, actor=viewer.actor):
                    invites += row.status == "invite"
                    areas.add(row.area_code)
            elif report.applied:
                from network_hub.roster.invites import primary_grant

                areas = {primary_grant(session, m).area_code for m in report.member_ids}
    except HubError as exc:
        return page(request, "roster_import.html", status_code=status_of(exc), stage="upload",
                    error=exc.message(viewer.language))
    if not report.ok:
        return _preview(request, viewer, text, report, status_code=409)
    return page(request, "roster_import.html", stage="done", report=report, invites=invites,
                areas=sorted(areas), error=None)
