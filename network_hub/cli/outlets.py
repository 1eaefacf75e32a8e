"""``outlet add | list | pause | resume | check``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer

from network_hub import outlets as service
from network_hub.cli.common import BY_OPTION, JSON_OPTION, actor_for, emit, get_hub
from network_hub.errors import InvalidInput
from network_hub.line.quota import month_use_label as line_month_use

if TYPE_CHECKING:
    from publishers.base import CheckResult
    from publishers.registry import Publishers

# The publishers (Telegram, Facebook, LINE clients, httpx) are imported by `outlet check` only.

app = typer.Typer(help="Outlets: Telegram channels, Facebook Pages, sandbox.", no_args_is_help=True)

LIST_COLUMNS = (
    "id",
    "platform",
    "name",
    "area_code",
    "address",
    "status",
    "categories",
    "thai_digits",
    "last_check_verdict",
    "paused_reason",
    "month_use",
)
ID_ARG = typer.Argument(..., help="Outlet id (see: network-hub outlet list)")


@app.command("add")
def outlet_add(
    platform: str = typer.Option(..., "--platform", help="telegram, facebook or sandbox"),
    area: str = typer.Option(..., "--area", help="The area whose news it carries (and the villages below)"),
    chat: str | None = typer.Option(None, "--chat", help="Telegram: chat id (-100…) or @channelname"),
    page_id: str | None = typer.Option(None, "--page-id", help="Facebook: the Page's numeric id"),
    address: str | None = typer.Option(None, "--address", help="Sandbox: directory name (default sandbox-AREA)"),
    group: str | None = typer.Option(None, "--group", help="LINE: a group id from `network-hub line groups`, "
                                     "or 'friends' to broadcast to the Official Account's friends"),
    name: str | None = typer.Option(None, "--name", help="A name people recognise"),
    token_env: str | None = typer.Option(None, "--token-env", help="Facebook: variable holding the Page token"),
    token_file: str | None = typer.Option(None, "--token-file", help="Facebook: file holding the Page token"),
    categories: str | None = typer.Option(None, "--categories", help="Only these categories, comma-separated"),
    thai_digits: bool = typer.Option(False, "--thai-digits", help="Show dates and numbers in Thai digits"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an outlet. The Facebook Page token stays in the named variable or file, read at each use."""
    given = {"--chat": chat, "--page-id": page_id, "--address": address, "--group": group}
    expected = {"telegram": "--chat", "facebook": "--page-id", "sandbox": "--address", "line": "--group"}.get(
        platform.strip().lower())
    wrong = [flag for flag, value in given.items() if value is not None and flag != expected]
    if wrong:
        raise InvalidInput(
            f"{', '.join(wrong)} does not apply to --platform {platform}" + (f" (use {expected})" if expected else "")
        )
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        outlet = service.add_outlet(
            session,
            platform=platform,
            area_code=area,
            address=given.get(expected or ""),
            name=name,
            token_env=token_env,
            token_file=token_file,
            categories=categories.split(",") if categories else None,
            thai_digits=thai_digits,
            now=now,
            actor=actor_for(session, by),
        )
        data = service.outlet_to_dict(outlet)
    emit(data, as_json, LIST_COLUMNS)
    if not as_json:
        typer.echo(f"next: network-hub outlet check {data['id']}", err=True)


@app.command("list")
def outlet_list(
    area: str | None = typer.Option(None, "--area", help="Only outlets of this area or below"),
    platform: str | None = typer.Option(None, "--platform", help="telegram, facebook or sandbox"),
    status: str | None = typer.Option(None, "--status", help="active or paused"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List outlets with their status and last check."""
    hub = get_hub()
    with hub.transaction() as session:
        rows = []
        for o in service.list_outlets(session, area_code=area, platform=platform, status=status):
            row = service.outlet_to_dict(o)
            if o.platform == "line":  # this quota month's posts and their estimated message cost
                row["month_use"] = line_month_use(session, o, hub.clock.now())
            rows.append(row)
    emit(rows, as_json, LIST_COLUMNS)


@app.command("pause")
def outlet_pause(
    outlet_id: int = ID_ARG,
    reason: str | None = typer.Option(None, "--reason", help="Why (shown in outlet list)"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Pause an outlet: its deliveries wait (nothing is lost) until it is resumed."""
    hub = get_hub()
    with hub.transaction() as session:
        outlet = service.pause_outlet(
            session, outlet_id, reason=reason, now=hub.clock.now(), actor=actor_for(session, by)
        )
        data = service.outlet_to_dict(outlet)
    emit(data, as_json, LIST_COLUMNS)


@app.command("resume")
def outlet_resume(outlet_id: int = ID_ARG, by: str | None = BY_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Resume a paused outlet: its waiting deliveries go out again."""
    hub = get_hub()
    with hub.transaction() as session:
        outlet = service.resume_outlet(session, outlet_id, now=hub.clock.now(), actor=actor_for(session, by))
        data = service.outlet_to_dict(outlet)
    emit(data, as_json, LIST_COLUMNS)


async def run_check(publishers: Publishers, outlet: object) -> CheckResult:
    from publishers.base import CheckResult, PublishError
    from publishers.registry import target_for

    try:
        target = target_for(outlet)
        return await publishers.get(outlet.platform).check(target)  # type: ignore[attr-defined]
    except PublishError as error:
        return CheckResult(False, str(error.code or error.error_class.value), error.message)
    finally:
        await publishers.aclose()


@app.command("check")
def outlet_check(outlet_id: int = ID_ARG, as_json: bool = JSON_OPTION) -> int:
    """Are the outlet's credentials and rights good? Prints ok, verdict and what to do (docs/OUTLETS.md)."""
    from network_hub import facebook_pages  # noqa: F401  (stored Page tokens for the Facebook check)
    from publishers.registry import Publishers

    hub = get_hub()
    with hub.transaction() as session:
        outlet = service.get_outlet(session, outlet_id)
        session.expunge(outlet)
    result = asyncio.run(run_check(Publishers(hub.settings), outlet))
    with hub.transaction() as session:
        recorded = service.record_check(session, outlet_id, result, hub.clock.now())
        paused = recorded.status == "paused"
    data = {"id": outlet_id, "ok": result.ok, "verdict": result.verdict, "detail": result.detail}
    if as_json:
        emit(data, True)
    else:
        typer.echo(f"{'ok' if result.ok else 'FAILED'}: {result.verdict} — {result.detail}")
        if result.ok and paused:
            typer.echo(f"the outlet is paused; when ready: network-hub outlet resume {outlet_id}")
    return 0 if result.ok else 1
