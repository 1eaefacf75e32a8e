"""Top-level commands: ``init``, ``run``, ``backup``, ``dispatch``, ``status``."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from network_hub.cli.common import JSON_OPTION, dumps, emit, get_hub
from network_hub.db.migrate import require_current, upgrade
from network_hub.errors import EXIT_ADDRESS_IN_USE
from network_hub.keyfile import ensure_private_dir
from network_hub.logs import configure_logging


def init() -> None:
    """Create or upgrade the database (safe to run again)."""
    hub = get_hub()
    ensure_private_dir(hub.settings.data_dir)  # 0700: database, keys and photos are private
    ensure_private_dir(hub.settings.resolved_media_dir)
    hub.settings.ensure_secret_key()
    upgrade(hub.engine)
    from network_hub.areas import ensure_root_area

    with hub.transaction() as session:
        ensure_root_area(session, hub.clock.now())
    typer.echo(f"database ready: {hub.engine.url.render_as_string(hide_password=True)}")


def run(
    no_bot: bool = typer.Option(False, "--no-bot", help="Do not run the Telegram bot in this process"),
    no_web: bool = typer.Option(False, "--no-web", help="Do not serve the web dashboard in this process"),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING"),
) -> None:
    """The service: scheduler, dispatcher, the bot (if a token is set) and the web dashboard."""
    from network_hub.service import run_service

    hub = get_hub()
    configure_logging(hub.settings, level=log_level)  # registers the configured secrets for redaction
    quiet_scheduler_ticks(log_level)
    hub.settings.ensure_secret_key()
    wait_for_database(lambda: require_current(hub.engine))
    if not no_web:
        ensure_port_free(hub.settings.web_host, hub.settings.web_port)
    for line in component_lines(hub.settings, with_bot=not no_bot, with_web=not no_web):
        logging.getLogger("network_hub.run").info(line)
        typer.echo(line)
    run_service(hub, with_bot=not no_bot, with_web=not no_web)


def wait_for_database(check: Callable[[], None], *, attempts: int = 8, first_wait_s: float = 0.25,
                      sleep: Callable[[float], None] = time.sleep) -> None:
    """Run the start-up schema check, retrying a lost or refused connection (a database restarting,
    a connection cut by the server) for about half a minute before giving up; a database that
    answers but is not initialised is refused at once (retrying would not help)."""
    from sqlalchemy.exc import OperationalError

    wait = first_wait_s
    for attempt in range(1, attempts + 1):
        try:
            check()
            return
        except OperationalError as exc:
            if attempt == attempts:
                raise
            logging.getLogger("network_hub.run").warning(
                "database not reachable at start-up (attempt %d of %d): %s; trying again in %.1f s",
                attempt, attempts, str(getattr(exc, "orig", exc)).splitlines()[0], wait)
            sleep(wait)
            wait = min(wait * 2, 8.0)


def quiet_scheduler_ticks(log_level: str) -> None:
    """APScheduler logs "Running job …" / "executed successfully" at INFO for every tick (about 150,000
    lines a day with a 1 s dispatch tick); those belong at DEBUG. Its warnings and errors still show."""
    if log_level.upper() != "DEBUG":
        for name in ("apscheduler", "apscheduler.scheduler", "apscheduler.executors.default"):
            logging.getLogger(name).setLevel(logging.WARNING)


def ensure_port_free(host: str, port: int) -> None:
    """Refuse to start when the dashboard's port is taken, with its own exit code (not "not found")."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            typer.echo(f"error: port {port} on {host} is already in use (another network-hub run?); "
                       "stop it or set HUB_WEB_PORT", err=True)
            typer.echo(f"ข้อผิดพลาด: พอร์ต {port} ถูกใช้อยู่แล้ว (อาจมี network-hub run ทำงานอยู่) "
                       "กรุณาหยุดโปรแกรมนั้นหรือเปลี่ยน HUB_WEB_PORT", err=True)
            raise typer.Exit(EXIT_ADDRESS_IN_USE) from None


def component_lines(settings: Any, *, with_bot: bool, with_web: bool) -> list[str]:
    """One start-up line per component: what runs, and what is off and why."""
    lines = ["scheduler + dispatcher: on"]
    if with_web:
        lines.append(f"web: on (http://{settings.web_host}:{settings.web_port}/)")
    else:
        lines.append("web: off (--no-web)")
    if not with_bot:
        lines.append("bot: off (--no-bot)")
    elif not settings.telegram_bot_token:
        lines.append("bot: off (HUB_TELEGRAM_BOT_TOKEN not set)")
    else:
        username = settings.telegram_bot_username
        lines.append(f"bot: on (@{username})" if username else "bot: on (HUB_TELEGRAM_BOT_USERNAME not set: "
                     "invite links cannot be printed)")
    line_secret = getattr(settings, "line_channel_secret", "")
    lines.append("line: on" if line_secret else "line: off (HUB_LINE_CHANNEL_SECRET not set)")
    return lines


def dispatch(
    once: bool = typer.Option(False, "--once", help="One dispatcher pass, then exit"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send what is due now (with --once: one pass, then exit)."""
    from jobs import reconcile, sweeps
    from jobs.dispatch import Dispatcher
    from publishers.registry import Publishers

    if not once:
        raise typer.BadParameter("use --once for a single pass; `network-hub run` dispatches continuously")
    hub = get_hub()

    async def one_pass() -> dict[str, object]:
        with hub.transaction() as s:
            sweeps.sweep_leases(s, hub.clock.now())
            sweeps.sweep_missed_posts(s, hub.clock.now())
        publishers = Publishers(hub.settings)
        try:
            report = await Dispatcher(hub, publishers).run_once()
            reconciled = await reconcile.reconcile_unknown(hub, publishers)
        finally:
            await publishers.aclose()
        return {"claimed": report.claimed, "sent": report.sent, "outcomes": report.outcomes,
                "followups": report.followups, "reconciled": reconciled}

    result = asyncio.run(one_pass())
    if as_json:
        typer.echo(dumps(result))
    else:
        typer.echo(f"claimed {result['claimed']}, sent {result['sent']}, outcomes {result['outcomes']}, "
                   f"follow-ups {result['followups']}")


def status(as_json: bool = JSON_OPTION) -> None:
    """Processes (heartbeats), deliveries by state, oldest due delivery, blocked outlets."""
    from network_hub.outbox.status import hub_status

    hub = get_hub()
    with hub.transaction() as s:
        data = hub_status(s, hub.clock.now())
    if as_json:
        typer.echo(dumps(data))
        return
    counts = ", ".join(f"{k} {v}" for k, v in data["deliveries_by_state"].items() if v)
    typer.echo(f"deliveries: {counts or 'none'}")
    typer.echo(f"oldest due delivery waiting: {data['oldest_due_age_s']} s")
    typer.echo(f"items waiting for approval: {data['items_waiting_for_approval']}")
    typer.echo("processes:")
    emit(data["processes"], False, ["process_id", "roles", "last_tick_at", "age_s", "alive"])
    typer.echo("blocked or paused outlets:")
    emit(data["blocked_outlets"], False, ["id", "name", "platform", "status", "blocked_until", "reason"])


def backup(file: Path = typer.Argument(..., help="The archive to write, e.g. hub-2026-11-24.tar"),
           as_json: bool = JSON_OPTION) -> None:
    """A consistent copy of the database, media and keys as one .tar with a checksummed manifest."""
    from network_hub.backup import backup as make_backup

    hub = get_hub()
    result = make_backup(hub.settings, file, hub.clock.now())
    emit(result, as_json)


def restore(file: Path = typer.Argument(..., help="An archive written by `network-hub backup`"),
            force: bool = typer.Option(False, "--force",
                                       help="Overwrite a database/media that hold data (stop the hub first)"),
            verify_only: bool = typer.Option(False, "--verify-only",
                                             help="Only check the archive's manifest and checksums; change nothing"),
            as_json: bool = JSON_OPTION) -> None:
    """Verify a backup's checksums, then restore it into an empty data directory or database."""
    from network_hub.backup import restore as restore_backup
    from network_hub.backup import verify

    if verify_only:
        manifest = verify(file.expanduser())
        emit({"file": str(file), "ok": True, **{k: v for k, v in manifest.items() if k != "files"},
              "files": len(manifest["files"])}, as_json)
        return
    hub = get_hub()
    result = restore_backup(hub.settings, file, force=force)
    emit(result, as_json)
    if not as_json:
        typer.echo("restored; run `network-hub init` to bring the schema up to this version, then start the hub")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("run")(run)
    app.command("dispatch")(dispatch)
    app.command("status")(status)
    app.command("backup")(backup)
    app.command("restore")(restore)
    from network_hub.demo import demo  # imported here: the demo pulls in the whole service

    app.command("demo")(demo)
