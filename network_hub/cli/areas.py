"""``areas load``, ``area set-moderation-chat``, ``village add``."""

from __future__ import annotations

import typer

areas_app = typer.Typer(help="Official areas (GeoThai data).", no_args_is_help=True)
area_app = typer.Typer(help="Settings of one area.", no_args_is_help=True)
village_app = typer.Typer(help="Villages (หมู่ที่) and municipal communities (ชุมชน).", no_args_is_help=True)
