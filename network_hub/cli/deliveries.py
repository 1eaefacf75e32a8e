"""``deliveries list | resolve | retry``."""

from __future__ import annotations

import typer

from network_hub.cli.common import BY_OPTION, JSON_OPTION, actor_for, emit, get_hub
from network_hub.outbox import resolution

app = typer.Typer(help="Deliveries: one news item to one outlet.", no_args_is_help=True)
COLUMNS = ["id", "item_id", "outlet_id", "outlet", "state", "attempts", "not_before", "external_ids", "last_error"]


@app.command("list")
def list_(
    state: str | None = typer.Option(None, "--state", help="pending, sent, unknown, failed, …"),
    item: int | None = typer.Option(None, "--item", help="Only this news item's deliveries"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List deliveries, newest first."""
    hub = get_hub()
    with hub.transaction() as s:
        rows = resolution.list_deliveries(s, state=state, item_id=item)
    emit(rows, as_json, COLUMNS)


@app.command("resolve")
def resolve(
    delivery_id: int = typer.Argument(..., help="The unknown delivery"),
    posted: bool = typer.Option(False, "--posted", help="The post IS on the outlet: mark it sent"),
    not_posted: bool = typer.Option(False, "--not-posted", help="The post is NOT there: send it again"),
    external_id: str | None = typer.Option(None, "--external-id", help="The post's id, if you know it"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Answer an `unknown` delivery after looking at the channel or page."""
    if posted == not_posted:
        raise typer.BadParameter("give exactly one of --posted or --not-posted")
    hub = get_hub()
    with hub.transaction() as s:
        d = resolution.resolve_unknown(s, delivery_id, posted=posted, actor=actor_for(s, by), now=hub.clock.now(),
                                       external_id=external_id)
        data = resolution.delivery_to_dict(d)
    emit(data, as_json, COLUMNS[:3] + COLUMNS[4:])


@app.command("retry")
def retry(
    delivery_id: int = typer.Argument(..., help="The failed delivery"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a failed delivery again once its cause is fixed."""
    hub = get_hub()
    with hub.transaction() as s:
        d = resolution.retry_failed(s, delivery_id, actor=actor_for(s, by), now=hub.clock.now())
        data = resolution.delivery_to_dict(d)
    emit(data, as_json, COLUMNS[:3] + COLUMNS[4:])
