"""``network-hub``: the operators' command. Errors go to stderr with a non-zero exit."""

from __future__ import annotations

import logging
import sys

import click
import typer

from config.settings import SettingsError
from network_hub.cli import areas, deliveries, invites, members, news, outlets, reminders, service
from network_hub.cli import line as line_cli
from network_hub.cli import pdpa as pdpa_cli
from network_hub.errors import HubError
from network_hub.logs import configure_from_environment

try:  # typer >= 0.25 vendors click: its usage errors and Abort are not click's own classes
    from typer._click.exceptions import ClickException as VendoredClickException
except ImportError:  # pragma: no cover - older typer uses click itself
    VendoredClickException = click.ClickException

app = typer.Typer(
    name="network-hub",
    help="Tambon PR Hub: roster, newsroom and cross-posting for a village PR network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(areas.areas_app, name="areas")
app.add_typer(areas.area_app, name="area")
app.add_typer(areas.village_app, name="village")
app.add_typer(members.member_app, name="member")
app.add_typer(members.grant_app, name="grant")
app.add_typer(members.roster_app, name="roster")
app.add_typer(invites.app, name="invite")
app.add_typer(outlets.app, name="outlet")
app.add_typer(news.app, name="news")
app.add_typer(deliveries.app, name="deliveries")
app.add_typer(reminders.app, name="reminders")
app.add_typer(pdpa_cli.app, name="pdpa")
app.add_typer(line_cli.app, name="line")
service.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; print HubError/SettingsError as one actionable line (English, then Thai)."""
    # One handler on the root logger that redacts tokens from every line (network_hub/logs.py).
    configure_from_environment(logging.WARNING)
    try:
        result = app(args=argv, standalone_mode=False)
    except HubError as exc:
        typer.echo(f"error: {exc.message_en}", err=True)
        if exc.message_th != exc.message_en:
            typer.echo(f"ข้อผิดพลาด: {exc.message_th}", err=True)
        code = exc.exit_code
    except SettingsError as exc:
        typer.echo(f"error: invalid setting {exc}", err=True)
        code = 2
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("aborted", err=True)
        code = 130
    except (click.ClickException, VendoredClickException) as exc:
        exc.show()
        code = exc.exit_code
    else:
        code = result if isinstance(result, int) else 0
    if argv is None:
        sys.exit(code)
    return code
