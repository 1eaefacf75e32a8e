"""``invite create | list | revoke``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Invites: how volunteers join through the bot.", no_args_is_help=True)
