"""``deliveries list | resolve | retry``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Deliveries: one news item to one outlet.", no_args_is_help=True)
