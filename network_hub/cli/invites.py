"""``invite create | list | revoke``."""

from __future__ import annotations

import typer

from network_hub.cli.common import BY_OPTION, JSON_OPTION, actor_for, emit, get_hub
from network_hub.errors import InvalidInput
from network_hub.roster.invites import create_invite, invite_to_dict, list_invites, primary_grant, revoke_invite
from network_hub.roster.lookup import find_member
from network_hub.timeparse import parse_duration

app = typer.Typer(help="Invites: how volunteers join through the bot.", no_args_is_help=True)

PLACEHOLDER_BOT = "YOUR_BOT_USERNAME"
LIST_COLUMNS = ("id", "code", "role", "area_code", "member_id", "uses", "max_uses", "expires_at", "state", "link")


def _bot_username() -> str:
    """The bot's username for links, or a placeholder (with a hint on stderr) when it is not set."""
    username = get_hub().settings.telegram_bot_username.strip()
    if username:
        return username
    typer.echo(f"hint: set HUB_TELEGRAM_BOT_USERNAME so invite links name your bot (shown as {PLACEHOLDER_BOT})",
               err=True)
    return PLACEHOLDER_BOT


@app.command("create")
def invite_create(
    role: str | None = typer.Option(None, "--role", help="reporter, moderator, coordinator or admin "
                                    "(with --member: defaults to the member's role)"),
    area: str | None = typer.Option(None, "--area", help="Area code (with --member: defaults to the member's area)"),
    member: str | None = typer.Option(None, "--member", help="A personal invite for this roster member "
                                      "(id, tg:<id> or phone): opening it links THEIR record, one use"),
    max_uses: int = typer.Option(1, "--max-uses", help="How many people may join with this code"),
    expires: str = typer.Option("7d", "--expires", help="Valid for: 30m, 12h, 7d (at most 90d)"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an invite; prints the code and the t.me link that opens the bot."""
    expires_in = parse_duration(expires)
    if member is None and (role is None or area is None):
        raise InvalidInput("give --role and --area (or --member for a personal invite)",
                           "กรุณาระบุ --role และ --area (หรือ --member สำหรับลิงก์เชิญเฉพาะบุคคล)")
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        member_id = None
        if member is not None:
            member_id = find_member(session, member).id
            grant = primary_grant(session, member_id)
            role, area = role or grant.role, area or grant.area_code
        assert role is not None and area is not None
        invite = create_invite(session, role=role, area_code=area, max_uses=max_uses, expires_in=expires_in,
                               now=now, actor=actor, member_id=member_id)
        data = invite_to_dict(invite, _bot_username(), now=now)
    if as_json:
        emit(data, True)
        return
    personal = f" for member {data['member_id']}" if data["member_id"] else ""
    typer.echo(f"invite {data['code']}{personal}: {data['role']} in {data['area_code']}, {data['max_uses']} use(s), "
               f"valid until {data['expires_at'].strftime('%Y-%m-%d %H:%M')} UTC")
    typer.echo(data["link"])


@app.command("list")
def invite_list(
    area: str | None = typer.Option(None, "--area", help="Only invites for this area or below"),
    active: bool = typer.Option(False, "--active", help="Only invites that can still be used"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List invites, newest first, with their state (active, used_up, expired, revoked)."""
    hub = get_hub()
    now = hub.clock.now()
    with hub.sessions() as session:
        invites = list_invites(session, area)
        username = _bot_username() if invites else PLACEHOLDER_BOT
        rows = [invite_to_dict(i, username, now=now) for i in invites]
    if active:
        rows = [r for r in rows if r["state"] == "active"]
    emit(rows, as_json, LIST_COLUMNS)


@app.command("revoke")
def invite_revoke(
    code: str = typer.Argument(..., help="The invite code"),
    by: str | None = BY_OPTION,
) -> None:
    """Revoke an invite: its link stops working at once (members who joined keep their role)."""
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        invite = revoke_invite(session, code, now=now, actor=actor)
        used = f"{invite.uses} of {invite.max_uses}"
    typer.echo(f"invite {code.strip()} revoked (it had been used {used} times)")
