"""``reminders run --once`` and ``reminders list``."""

from __future__ import annotations

import typer

from network_hub.cli.common import JSON_OPTION, dumps, emit, get_hub
from network_hub.notifications import list_notifications

app = typer.Typer(help="Follow-up reminders and digests.", no_args_is_help=True)


@app.command("run")
def run(once: bool = typer.Option(False, "--once", help="One planning pass, then exit"),
        as_json: bool = JSON_OPTION) -> None:
    """Plan due reminders (each occurrence once, ever) and queue their messages."""
    if not once:
        raise typer.BadParameter("use --once; `network-hub run` plans reminders continuously")
    from network_hub.followup.planner import plan_reminders  # it imports APScheduler (CronTrigger)
    from network_hub.followup.rules import Thresholds

    hub = get_hub()
    with hub.transaction() as s:
        report = plan_reminders(s, hub.clock.now(), Thresholds.from_settings(hub.settings))
    data = {"considered": report.considered, "created": report.created, "skipped": report.skipped,
            "by_rule": report.by_rule}
    typer.echo(dumps(data) if as_json else
               f"reminders: {report.created} queued, {report.skipped} skipped (of {report.considered} considered)")


@app.command("list")
def list_(state: str | None = typer.Option(None, "--state", help="pending, sent, unreachable, failed"),
          as_json: bool = JSON_OPTION) -> None:
    """Messages to members (reminders, digests, item status), newest first."""
    hub = get_hub()
    with hub.transaction() as s:
        rows = list_notifications(s, state=state)
    emit(rows, as_json, ["id", "member", "kind", "state", "due_at", "sent_at", "last_error"])
