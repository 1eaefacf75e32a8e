"""Top-level commands: ``init``, ``run``, ``demo``, ``backup``, ``dispatch``, ``status``."""

from __future__ import annotations

import typer

from network_hub.cli.common import get_hub
from network_hub.db.migrate import upgrade


def init() -> None:
    """Create or upgrade the database (safe to run again)."""
    hub = get_hub()
    hub.settings.data_dir.mkdir(parents=True, exist_ok=True)
    hub.settings.resolved_media_dir.mkdir(parents=True, exist_ok=True)
    hub.settings.ensure_secret_key()
    upgrade(hub.engine)
    from network_hub.areas import ensure_root_area

    with hub.transaction() as session:
        ensure_root_area(session, hub.clock.now())
    typer.echo(f"database ready: {hub.engine.url.render_as_string(hide_password=True)}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
