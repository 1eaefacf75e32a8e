"""The status page (signed in) and ``/healthz`` (public, for monitoring)."""

from __future__ import annotations

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


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """200 when the database answers and a scheduler ticked within the last minute; 503 otherwise."""
    try:
        with transaction(request) as session:
            data = hub_status(session, now(request))
    except SQLAlchemyError as exc:
        return JSONResponse({"ok": False, "database": False, "error": type(exc).__name__},
                            status_code=503, headers={"Cache-Control": "no-store"})
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
    return JSONResponse(body, status_code=200 if ticking else 503, headers={"Cache-Control": "no-store"})
