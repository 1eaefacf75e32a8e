"""``network-hub``: the operators' command. Errors go to stderr with a non-zero exit.

Start-up is lazy: ``network-hub --help`` and ``--version`` import no command module (the bot,
LINE and Facebook libraries take over a second to import); a command's module is imported only
when that command runs (docs/PERFORMANCE.md, "CLI start-up").
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
import typer.core

from network_hub.errors import EXIT_UNAVAILABLE, HubError

# name → (module, attribute, one-line help). Groups are Typer apps; service commands are
# registered by network_hub.cli.service.register.
GROUPS: dict[str, tuple[str, str, str]] = {
    "areas": ("network_hub.cli.areas", "areas_app", "Official areas (GeoThai data)."),
    "area": ("network_hub.cli.areas", "area_app", "Settings of one area."),
    "village": ("network_hub.cli.areas", "village_app", "Villages (หมู่ที่) and municipal communities (ชุมชน)."),
    "member": ("network_hub.cli.members", "member_app", "Members of the PR network."),
    "grant": ("network_hub.cli.members", "grant_app", "Role grants (member × role × area)."),
    "roster": ("network_hub.cli.members", "roster_app", "Roster CSV import and export."),
    "invite": ("network_hub.cli.invites", "app", "Invites: how volunteers join through the bot."),
    "outlet": ("network_hub.cli.outlets", "app", "Outlets: Telegram channels, Facebook Pages, sandbox."),
    "news": ("network_hub.cli.news", "app", "News items and their moderation."),
    "deliveries": ("network_hub.cli.deliveries", "app", "Deliveries: one news item to one outlet."),
    "reminders": ("network_hub.cli.reminders", "app", "Follow-up reminders and digests."),
    "pdpa": ("network_hub.cli.pdpa", "app", "PDPA checks: personal data in text and photos."),
    "line": ("network_hub.cli.line", "app", "LINE: groups the bots were invited into."),
}
SERVICE_COMMANDS: dict[str, str] = {
    "init": "Create or upgrade the database and load the areas.",
    "run": "Run the hub: scheduler, dispatcher, bot and web (each can be turned off).",
    "dispatch": "Send what is due once, then exit.",
    "status": "Processes, queues and blocked outlets.",
    "backup": "Write a backup archive.",
    "restore": "Restore a backup archive.",
    "demo": "Load a demonstration network.",
}


def version() -> str:
    # network_hub.__version__ (kept equal to pyproject.toml's by tests/prod/test_version.py), not the
    # installed metadata: an editable install keeps the version it was installed with until reinstalled.
    from network_hub import __version__

    return __version__


class LazyGroup(typer.core.TyperGroup):
    """Lists commands from the static tables above; imports a command's module only to run it."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted([*GROUPS, *SERVICE_COMMANDS, *super().list_commands(ctx)])

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in GROUPS:
            module, attribute, _ = GROUPS[name]
            sub = getattr(importlib.import_module(module), attribute)
            # get_group, not get_command: typer collapses a one-command app (`village add`,
            # `area set-moderation-chat`) into that command, which would drop the subcommand word.
            command = typer.main.get_group(sub)
            command.name = name
            return command
        if name in SERVICE_COMMANDS:
            from network_hub.cli import service

            holder = typer.Typer()
            service.register(holder)
            return typer.main.get_command(holder).get_command(ctx, name)  # type: ignore[attr-defined]
        return super().get_command(ctx, name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        helps = {name: text for name, (_, _, text) in GROUPS.items()} | SERVICE_COMMANDS
        for name in super().list_commands(ctx):  # commands added with app.add_typer/app.command directly
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                helps[name] = command.get_short_help_str(limit=80)
        rows = [(name, helps[name]) for name in sorted(helps)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"network-hub {version()}")
        raise typer.Exit()


app = typer.Typer(
    name="network-hub",
    help="Tambon PR Hub: roster, newsroom and cross-posting for a village PR network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    cls=LazyGroup,
)


@app.callback()
def _root(
    show_version: bool = typer.Option(False, "--version", help="Print the version and exit.",
                                      callback=_show_version, is_eager=True),
) -> None:
    """Tambon PR Hub: roster, newsroom and cross-posting for a village PR network."""


def _database_not_ready(exc: Exception) -> tuple[str, str] | None:
    """A missing, unreachable or uninitialised database as one actionable line (English, Thai)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
    if "no such table" in text or ("does not exist" in text and "relation" in text) or "undefinedtable" in text:
        return ("the database is not initialised: run `network-hub init` first",
                "ยังไม่ได้สร้างฐานข้อมูล กรุณาสั่ง network-hub init ก่อน")
    return ("cannot open the database (HUB_DATABASE_URL): " + str(getattr(exc, "orig", exc)).splitlines()[0],
            "เปิดฐานข้อมูลไม่ได้ กรุณาตรวจสอบ HUB_DATABASE_URL และว่าเซิร์ฟเวอร์ฐานข้อมูลทำงานอยู่")


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """click's own ``click.exceptions.<name>``, when something has imported click.

    typer vendors its own click, so a command can raise click's classes only if click is loaded;
    importing click just to catch them cost about 15 ms on every start.
    """
    found = getattr(sys.modules.get("click.exceptions"), name, None)
    return (found,) if isinstance(found, type) and issubclass(found, BaseException) else ()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; print HubError/SettingsError as one actionable line (English, then Thai)."""
    try:  # typer >= 0.25 vendors click: its usage errors and Abort are not click's own classes
        from typer._click.exceptions import ClickException as VendoredClickException
    except ImportError:  # pragma: no cover - older typer uses click itself
        from click import ClickException as VendoredClickException

    # One handler on the root logger that redacts tokens from every line (network_hub/logs.py);
    # only when a command runs (help and --version need no logging set-up).
    args = sys.argv[1:] if argv is None else argv
    if args and not {"--help", "-h", "--version"} & set(args):
        import logging

        from network_hub.logs import configure_from_environment

        configure_from_environment(logging.WARNING)
    try:
        result = app(args=argv, standalone_mode=False)
    except HubError as exc:
        typer.echo(f"error: {exc.message_en}", err=True)
        if exc.message_th != exc.message_en:
            typer.echo(f"ข้อผิดพลาด: {exc.message_th}", err=True)
        code = exc.exit_code
    except (typer.Abort, *_click_classes("Abort")):
        typer.echo("aborted", err=True)
        code = 130
    except (VendoredClickException, *_click_classes("ClickException")) as exc:
        exc.show()
        code = exc.exit_code
    except (typer.Exit, *_click_classes("Exit")) as exc:
        code = exc.exit_code
    except Exception as exc:
        from config.settings import SettingsError

        if isinstance(exc, SettingsError):
            typer.echo(f"error: invalid setting {exc}", err=True)
            code = 2
        elif (lines := _database_not_ready(exc)) is not None:
            typer.echo(f"error: {lines[0]}", err=True)
            typer.echo(f"ข้อผิดพลาด: {lines[1]}", err=True)
            code = EXIT_UNAVAILABLE
        else:
            raise
    else:
        code = result if isinstance(result, int) else 0
    if argv is None:
        sys.exit(code)
    return code
