"""The status page and ``/status.json`` (signed in) and ``/healthz`` (public, ok / not ok only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from network_hub.outbox.status import hub_status
from network_hub.permissions import Action
from network_hub.web.deps import VIEWER, Viewer, now, render, transaction

router = APIRouter()
SCHEDULER_ROLE = "scheduler"


@router.get("/status")
def status_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.VIEW_STATS)
    with transaction(request) as session:
        data = hub_status(session, now(request))
    return render(request, "status.html", status=data)


def _health(request: Request) -> tuple[dict[str, Any], int]:
    """The detailed health record and its HTTP status: 200 when the database answers and a
    scheduler ticked within the last minute, 503 otherwise."""
    try:
        with transaction(request) as session:
            data = hub_status(session, now(request))
    except SQLAlchemyError as exc:
        return {"ok": False, "database": False, "error": type(exc).__name__}, 503
    schedulers = [p for p in data["processes"] if SCHEDULER_ROLE in (p["roles"] or [])]
    ticking = any(p["alive"] for p in schedulers)
    body = {
        "ok": ticking,
        "database": True,
        "scheduler_alive": ticking,
        "last_tick_age_s": min((p["age_s"] for p in schedulers), default=None),
        "oldest_due_age_s": data["oldest_due_age_s"],
        "deliveries_by_state": data["deliveries_by_state"],
        "blocked_outlets": len(data["blocked_outlets"]),
    }
    return body, 200 if ticking else 503


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """Public, for monitoring: only ok / not ok (delivery counts are nobody's business outside)."""
    body, status_code = _health(request)
    return JSONResponse({"ok": bool(body["ok"])}, status_code=status_code, headers={"Cache-Control": "no-store"})


@router.get("/status.json")
def status_json(request: Request, viewer: Viewer = VIEWER) -> Response:
    """The detailed health record, for signed-in members who may see statistics."""
    viewer.require_anywhere(Action.VIEW_STATS)
    body, status_code = _health(request)
    return JSONResponse(body, status_code=status_code, headers={"Cache-Control": "private, no-store"})
