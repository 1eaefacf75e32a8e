"""``line groups``: the LINE groups the hub's bots are in (pick one for ``outlet add --platform line``)."""

from __future__ import annotations

import typer

from network_hub.cli.common import JSON_OPTION, emit, get_hub
from network_hub.line.groups import list_groups

app = typer.Typer(help="LINE: groups the bots were invited into.", no_args_is_help=True)
GROUP_COLUMNS = ("group_id", "name", "member_count", "joined_at", "left_at")


@app.command("groups")
def line_groups(
    include_left: bool = typer.Option(False, "--all", help="Also groups the bot has left"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Groups recorded from LINE's join events; then: network-hub outlet add --platform line --group ID --area CODE."""
    hub = get_hub()
    with hub.transaction() as session:
        rows = [{"group_id": g.group_id, "name": g.name, "member_count": g.member_count, "joined_at": g.joined_at,
                 "left_at": g.left_at} for g in list_groups(session, include_left=include_left)]
    emit(rows, as_json, GROUP_COLUMNS)
    if not rows and not as_json:
        typer.echo("no LINE group yet: invite the bot into a group in the LINE app; its join is recorded "
                   "by the webhook (docs/OUTLETS.md)", err=True)


@app.command("process")
def line_process() -> None:
    """Apply LINE webhook events still pending (e.g. after a crash between storing and processing)."""
    import asyncio

    from network_hub.line.startup import process_with_hub_oa

    hub = get_hub()
    done = asyncio.run(process_with_hub_oa(hub))
    typer.echo(f"processed {done} LINE event(s)")
