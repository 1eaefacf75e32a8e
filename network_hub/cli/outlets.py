"""``outlet add | list | pause | resume | check``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Outlets: Telegram channels, Facebook Pages, sandbox.", no_args_is_help=True)
