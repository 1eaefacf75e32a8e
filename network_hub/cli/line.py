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


ACCOUNT_COLUMNS = ("name", "token_source", "secret_source", "bot_user_id")


def _account_row(account: object) -> dict[str, object]:
    a = account
    return {"name": a.name,  # type: ignore[attr-defined]
            "token_source": f"env:{a.token_env}" if a.token_env else f"file:{a.token_file}",  # type: ignore[attr-defined]
            "secret_source": f"env:{a.secret_env}" if a.secret_env else f"file:{a.secret_file}",  # type: ignore[attr-defined]
            "bot_user_id": a.bot_user_id}  # type: ignore[attr-defined]


@app.command("account-add")
def line_account_add(
    name: str = typer.Argument(..., help="A short name, e.g. pongyangkok"),
    token_env: str | None = typer.Option(None, "--token-env", help="Variable holding its channel access token"),
    token_file: str | None = typer.Option(None, "--token-file", help="File holding its channel access token"),
    secret_env: str | None = typer.Option(None, "--secret-env", help="Variable holding its channel secret"),
    secret_file: str | None = typer.Option(None, "--secret-file", help="File holding its channel secret"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register another Official Account (its webhook URL is the same /line/webhook)."""
    from network_hub.line.accounts import add_account

    hub = get_hub()
    with hub.transaction() as session:
        account = add_account(session, name, token_env=token_env, token_file=token_file, secret_env=secret_env,
                              secret_file=secret_file, now=hub.clock.now())
        row = _account_row(account)
    emit(row, as_json, ACCOUNT_COLUMNS)


@app.command("accounts")
def line_accounts(as_json: bool = JSON_OPTION) -> None:
    """Other Official Accounts registered with the hub (the hub's own is HUB_LINE_CHANNEL_ACCESS_TOKEN)."""
    from network_hub.line.accounts import list_accounts

    hub = get_hub()
    with hub.transaction() as session:
        rows = [_account_row(a) for a in list_accounts(session)]
    emit(rows, as_json, ACCOUNT_COLUMNS)


@app.command("budget")
def line_budget(
    outlet_id: int = typer.Argument(..., help="A LINE outlet (see: network-hub outlet list --platform line)"),
    messages: str = typer.Argument(..., help="Messages it may spend a month, or 'none' for no outlet budget"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a LINE outlet's monthly budget: a post that would go over it waits for next month."""
    from network_hub.errors import InvalidInput
    from network_hub.line.quota import month_use_label, set_budget
    from network_hub.outlets import get_outlet

    value = None if messages.strip().lower() == "none" else messages.strip()
    if value is not None and not value.isdigit():
        raise InvalidInput(f"{messages!r}: give a number of messages or 'none'", "ระบุจำนวนข้อความ หรือ none")
    hub = get_hub()
    with hub.transaction() as session:
        outlet = get_outlet(session, outlet_id)
        set_budget(session, outlet, int(value) if value is not None else None, hub.clock.now())
        row = {"id": outlet.id, "name": outlet.name, "line_monthly_budget": outlet.line_monthly_budget,
               "month_use": month_use_label(session, outlet, hub.clock.now())}
    emit(row, as_json, ("id", "name", "line_monthly_budget", "month_use"))
