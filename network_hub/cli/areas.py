"""``areas load | list``, ``area set-moderation-chat``, ``village add``."""

from __future__ import annotations

import re
from typing import Any

import typer
from sqlalchemy import select

from network_hub import audit
from network_hub.areas import GEOTHAI_CREDIT, add_village, get_area, load_official_areas, validate_code
from network_hub.cli.common import BY_OPTION, JSON_OPTION, actor_for, emit, get_hub
from network_hub.db.models import Area
from network_hub.errors import InvalidInput
from network_hub.permissions import ROOT_AREA, Action, require
from network_hub.roster.members import audit_actor

areas_app = typer.Typer(help="Official areas (GeoThai data).", no_args_is_help=True)
area_app = typer.Typer(help="Settings of one area.", no_args_is_help=True)
village_app = typer.Typer(help="Villages (หมู่ที่) and municipal communities (ชุมชน).", no_args_is_help=True)

# Telegram groups and supergroups have negative chat ids (-12345, -100…); a positive id is a person.
_GROUP_CHAT_ID = re.compile(r"^-\d{1,19}$")


def area_to_dict(area: Area) -> dict[str, Any]:
    return {
        "code": area.code,
        "level": area.level,
        "name_th": area.name_th,
        "name_en": area.name_en,
        "parent_code": area.parent_code,
        "is_community": area.is_community,
        "moderation_chat_id": area.moderation_chat_id,
    }


@areas_app.command("load")
def areas_load(
    province: str | None = typer.Option(None, "--province", help="Only this province (2 digits, e.g. 52)"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Load provinces, districts and tambon from GeoThai (safe to run again)."""
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        require(actor, Action.MANAGE_AREAS, validate_code(province) if province else ROOT_AREA)
        report = load_official_areas(session, now, province)
        data = {"provinces": report.provinces, "districts": report.districts,
                "subdistricts": report.subdistricts, "added": report.added, "credit": GEOTHAI_CREDIT}
        audit.record(session, at=now, action="areas.load", object_type="area",
                     object_id=province or ROOT_AREA, after=data, **audit_actor(actor))
    if as_json:
        emit(data, True)
        return
    typer.echo(f"loaded {data['provinces']} provinces, {data['districts']} districts, "
               f"{data['subdistricts']} subdistricts ({data['added']} new)")
    typer.echo(GEOTHAI_CREDIT)


@areas_app.command("list")
def areas_list(
    parent: str = typer.Option(ROOT_AREA, "--parent", help="List the areas directly under this code"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the areas directly under an area (provinces under TH by default)."""
    hub = get_hub()
    with hub.sessions() as session:
        top = get_area(session, parent)
        rows = [area_to_dict(a) for a in
                session.scalars(select(Area).where(Area.parent_code == top.code).order_by(Area.code))]
    emit(rows, as_json, ("code", "level", "name_th", "name_en", "moderation_chat_id"))


@area_app.command("set-moderation-chat", context_settings={"ignore_unknown_options": True})
def area_set_moderation_chat(
    code: str = typer.Argument(..., help="Area code"),
    chat_id: str = typer.Argument(..., help="The moderators' Telegram group id (negative, e.g. -1001234567890)"),
    by: str | None = BY_OPTION,
) -> None:
    """Set the moderators' Telegram group for an area (pass 'none' to clear it)."""
    new_id: int | None
    if chat_id.strip().lower() == "none":
        new_id = None
    elif _GROUP_CHAT_ID.match(chat_id.strip()):
        new_id = int(chat_id.strip())
    else:
        raise InvalidInput(
            f"{chat_id!r} is not a Telegram group id: groups have negative ids like -1001234567890 "
            "(add the bot to the group and read the id from its first update), or 'none' to clear",
            f"'{chat_id}' ไม่ใช่รหัสกลุ่ม Telegram (รหัสกลุ่มเป็นเลขติดลบ เช่น -1001234567890)",
        )
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        area = get_area(session, code)
        require(actor, Action.MANAGE_AREAS, area.code)
        before = area.moderation_chat_id
        area.moderation_chat_id = new_id
        audit.record(session, at=now, action="area.set_moderation_chat", object_type="area", object_id=area.code,
                     before={"moderation_chat_id": before}, after={"moderation_chat_id": new_id},
                     **audit_actor(actor))
        label = f"{area.code} {area.name_th}"
    typer.echo(f"{label}: moderation chat {'cleared' if new_id is None else new_id}")


@village_app.command("add")
def village_add(
    code: str = typer.Argument(..., help="8 digits: the tambon code (6) + หมู่ที่ (2), e.g. 52010103"),
    name: str = typer.Option(..., "--name", help="Village name, e.g. บ้านป่าขาม"),
    community: bool = typer.Option(False, "--community", help="A municipal community (ชุมชน), not a หมู่ที่"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a village (หมู่ที่) or municipal community (ชุมชน) under an existing tambon."""
    hub = get_hub()
    now = hub.clock.now()
    with hub.transaction() as session:
        actor = actor_for(session, by)
        tambon = code.strip()[:6]
        require(actor, Action.MANAGE_AREAS, tambon if tambon.isdigit() else ROOT_AREA)
        area = add_village(session, code, name, now, community=community)
        data = area_to_dict(area)
        audit.record(session, at=now, action="village.add", object_type="area", object_id=area.code,
                     after=data, **audit_actor(actor))
    if as_json:
        emit(data, True)
    else:
        kind = "community" if community else "village"
        typer.echo(f"added {kind} {data['code']} {data['name_th']} under tambon {data['parent_code']}")
