"""``reminders run --once``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Follow-up reminders and digests.", no_args_is_help=True)
