"""The area picker: province → district → tambon → village by Thai name, never a typed code.

Works without JavaScript as nested ``<select>``s submitted step by step: the form's "เลือก" button
re-opens the same page with ``formmethod=get`` carrying ``area_1`` … ``area_4`` (and ``area_q``, a
name to search), and the page shows the next level. With JavaScript (``/static/area_picker.js``)
the next level is filled from ``GET /areas/children?parent=CODE`` at once and ``GET
/areas/search?q=ชื่อ`` suggests areas by name. Whatever the browser sends, the server reads the
choice with ``chosen_area`` (the deepest level that is consistent with the ones above it) and the
service it feeds checks permissions again; the picker only lists areas within ``roots`` (the areas
where the viewer may do the action), so nobody is offered what they may not pick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from network_hub.areas import village_label
from network_hub.db.models import Area
from network_hub.errors import InvalidInput
from network_hub.permissions import ROLES_FOR, ROOT_AREA, Action, covers
from network_hub.states import AreaLevel
from network_hub.web.deps import VIEWER, Viewer, transaction

router = APIRouter()

LEVEL_FIELDS = ("area_1", "area_2", "area_3", "area_4")  # province, district, tambon, village
LEVEL_TH = ("จังหวัด", "อำเภอ", "ตำบล", "หมู่บ้าน/ชุมชน")
LEVEL_EN = ("Province", "District", "Tambon", "Village")
PREFIX_TH = {AreaLevel.PROVINCE: "จ.", AreaLevel.DISTRICT: "อ.", AreaLevel.SUBDISTRICT: "ต."}
SEARCH_LIMIT = 20
_CODE_LENGTHS = (2, 4, 6, 8)
OUTSIDE_NOTE = (
    "พบพื้นที่ชื่อนี้ แต่อยู่นอกพื้นที่ที่ท่านรับผิดชอบ จึงเลือกไม่ได้ หากจำเป็นกรุณาติดต่อผู้ดูแลระบบ",
    "An area of that name exists, but outside your own area, so it cannot be chosen; ask an admin if needed",
)


def area_name(area: Area) -> str:
    """How a person reads the area: ``จ.ลำปาง``, ``อ.เมืองลำปาง``, ``ต.เวียงเหนือ``, ``หมู่ที่ 1 บ้าน…``."""
    if area.code == ROOT_AREA:
        return "ทั้งประเทศ"
    if area.level == AreaLevel.VILLAGE:
        return village_label(area)
    return f"{PREFIX_TH.get(AreaLevel(area.level), '')}{area.name_th}"


def area_path_label(session: Session, code: str) -> str:
    """The full Thai path of an area, smallest first: ``หมู่ที่ 1 บ้านเวียงเหนือ ต.… อ.… จ.…``."""
    if code == ROOT_AREA:
        return "ทั้งประเทศ"
    codes = [code[:n] for n in _CODE_LENGTHS if n <= len(code)]
    areas = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(codes)))}
    return " ".join(area_name(areas[c]) for c in reversed(codes) if c in areas) or code


def area_labels(session: Session, codes: set[str]) -> dict[str, str]:
    return {code: area_path_label(session, code) for code in codes}


def _within(code: str, roots: list[str]) -> bool:
    """The area is inside one of ``roots`` or on the way down to one (so the path can be walked)."""
    return any(covers(root, code) or root.startswith(code) for root in roots)


def _selectable(code: str, roots: list[str]) -> bool:
    return any(covers(root, code) for root in roots)


def children(session: Session, parent: str, roots: list[str]) -> list[Area]:
    """The areas directly below ``parent`` that lie within ``roots``, by code."""
    if parent == ROOT_AREA:
        query = select(Area).where(Area.level == AreaLevel.PROVINCE)
    else:
        query = select(Area).where(Area.parent_code == parent)
    return [a for a in session.scalars(query.order_by(Area.code)) if _within(a.code, roots)]


def search(session: Session, text: str, roots: list[str], limit: int = SEARCH_LIMIT) -> list[Area]:
    """Areas whose Thai (or English) name contains ``text``, within ``roots``, smallest level last."""
    text = " ".join((text or "").split())[:100]
    if not text:
        return []
    needle = text.removeprefix("จ.").removeprefix("อ.").removeprefix("ต.").removeprefix("บ้าน") or text
    query = (select(Area).where(Area.code != ROOT_AREA,
                                or_(Area.name_th.contains(needle, autoescape=True),
                                    Area.name_en.ilike(f"%{needle}%", escape="\\")))
             .order_by(Area.code).limit(400))
    found = [a for a in session.scalars(query) if _selectable(a.code, roots)]
    return found[:limit]


@dataclass
class PickerLevel:
    field: str
    label: str
    options: list[tuple[str, str]]  # (code, Thai name)
    selected: str


@dataclass
class Picker:
    """What ``_area_picker.html`` draws: one select per level reached so far, and search results."""

    prefix: str
    levels: list[PickerLevel] = field(default_factory=list)
    chosen: str = ""
    chosen_label: str = ""
    query: str = ""
    hits: list[tuple[str, str]] = field(default_factory=list)
    allow_country: bool = False
    outside_note: str = ""  # the name exists, but only outside ``roots``: say so instead of "not found"


def chosen_area(form: Mapping[str, Any], prefix: str = "") -> str:
    """The deepest level chosen consistently (a district of the chosen province, and so on).

    ``{prefix}area_hit`` (a search result) wins over the selects; ``{prefix}area`` (a hidden field
    from an earlier step) is used when no select was sent. Returns "" when nothing is chosen.
    """
    hit = str(form.get(f"{prefix}area_hit") or "").strip()
    if hit:
        return hit
    chosen = ""
    for name in LEVEL_FIELDS:
        value = str(form.get(f"{prefix}{name}") or "").strip()
        if not value:
            break
        if value == ROOT_AREA and name == "area_1":
            return ROOT_AREA
        if chosen and not value.startswith(chosen):
            break  # a district left over from another province: stop at the province
        chosen = value
    return chosen or str(form.get(f"{prefix}area") or "").strip()


def require_chosen(form: Mapping[str, Any], prefix: str = "") -> str:
    code = chosen_area(form, prefix)
    if not code:
        raise InvalidInput("no area was chosen", "กรุณาเลือกพื้นที่จากรายการ (จังหวัด อำเภอ ตำบล หมู่บ้าน)")
    return code


def build_picker(session: Session, form: Mapping[str, Any], roots: list[str], *, prefix: str = "",
                 deepest: int = 4, language: str = "th") -> Picker:
    """The picker for the current step: levels down to the chosen area's children."""
    picker = Picker(prefix=prefix, allow_country=ROOT_AREA in roots)
    chosen = chosen_area(form, prefix)
    if chosen and not (_within(chosen, roots) and session.get(Area, chosen) is not None):
        chosen = ""  # a forged or stale code: start again from the top
    if not chosen and len(roots) == 1 and roots[0] != ROOT_AREA:
        chosen = roots[0]  # one area of work (a tambon moderator): open the picker there
    picker.chosen = chosen
    picker.chosen_label = area_path_label(session, chosen) if chosen else ""
    labels = LEVEL_EN if language == "en" else LEVEL_TH
    parent = ROOT_AREA
    for depth in range(deepest):
        options = [(a.code, area_name(a)) for a in children(session, parent, roots)]
        if not options:
            break
        selected = chosen[: _CODE_LENGTHS[depth]] if chosen != ROOT_AREA and len(chosen) >= _CODE_LENGTHS[depth] else ""
        picker.levels.append(PickerLevel(f"{prefix}{LEVEL_FIELDS[depth]}", labels[depth], options, selected))
        if not selected:
            break
        parent = selected
    picker.query = " ".join(str(form.get(f"{prefix}area_q") or "").split())[:100]
    if picker.query:
        picker.hits = [(a.code, area_path_label(session, a.code)) for a in search(session, picker.query, roots)]
        if not picker.hits and ROOT_AREA not in roots and search(session, picker.query, [ROOT_AREA], limit=1):
            picker.outside_note = OUTSIDE_NOTE[1] if language == "en" else OUTSIDE_NOTE[0]
    return picker


def viewer_roots(viewer: Viewer, action: Action, **kwargs: Any) -> list[str]:
    """The outermost areas where the viewer may do ``action`` (what the picker may offer)."""
    areas = viewer.actor.areas_with(ROLES_FOR[action])
    if ROOT_AREA in areas:
        return [ROOT_AREA]
    return [a for a in areas if not any(a != b and a.startswith(b) for b in areas)]


# -- the JSON endpoints for the progressive enhancement ------------------------------------------
def _roots_for(viewer: Viewer, action: str = "") -> list[str]:
    """The picker's roots for ``action`` (the form's own action), or every area the viewer works in."""
    if action in {a.value for a in Action}:
        return viewer_roots(viewer, Action(action))
    roots = set(viewer_roots(viewer, Action.MANAGE_ROSTER)) | set(viewer_roots(viewer, Action.INVITE)) | set(
        viewer_roots(viewer, Action.ASSIGN_ROLE)) | set(
        viewer_roots(viewer, Action.VIEW_STATS)) | set(viewer_roots(viewer, Action.SUBMIT))
    return [ROOT_AREA] if ROOT_AREA in roots else sorted(roots)


@router.get("/areas/children")
def area_children(request: Request, parent: str = ROOT_AREA, action: str = "",
                  viewer: Viewer = VIEWER) -> Response:
    parent = (parent or ROOT_AREA).strip()[:8]
    with transaction(request) as session:
        rows = [{"code": a.code, "name": area_name(a), "level": a.level}
                for a in children(session, parent, _roots_for(viewer, action))]
    return JSONResponse(rows, headers={"Cache-Control": "private, max-age=300"})


@router.get("/areas/search")
def area_search(request: Request, q: str = "", action: str = "", viewer: Viewer = VIEWER) -> Response:
    headers = {"Cache-Control": "private, no-store"}
    with transaction(request) as session:
        roots = _roots_for(viewer, action)
        rows = [{"code": a.code, "name": area_path_label(session, a.code), "level": a.level}
                for a in search(session, q, roots)]
        if not rows and ROOT_AREA not in roots and search(session, q, [ROOT_AREA], limit=1):
            headers["X-Area-Outside"] = "1"  # the name exists only outside: the script says so
    return JSONResponse(rows, headers=headers)
