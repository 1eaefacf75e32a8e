"""``member …``, ``grant …`` and ``roster import/export``."""

from __future__ import annotations

import typer

member_app = typer.Typer(help="Members of the PR network.", no_args_is_help=True)
grant_app = typer.Typer(help="Role grants (member × role × area).", no_args_is_help=True)
roster_app = typer.Typer(help="Roster CSV import and export.", no_args_is_help=True)
