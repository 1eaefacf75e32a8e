"""``news submit | list | edit | approve | reschedule | unschedule | reject | return | correct | withdraw``."""

from __future__ import annotations

import typer

app = typer.Typer(help="News items and their moderation.", no_args_is_help=True)
