"""Areas: the official hierarchy from GeoThai, plus villages and communities added per tambon.

Codes are strings: province 2 digits, district 4, tambon 6, village 8 (tambon + หมู่ที่).
The root ``TH`` holds national admins. Data credit: GeoThai (CC BY 4.0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import geothai
from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.db.models import Area
from network_hub.errors import InvalidInput, NotFound
from network_hub.permissions import ROOT_AREA
from network_hub.states import AreaLevel
from network_hub.textclean import strip_controls

GEOTHAI_CREDIT = "ข้อมูลพื้นที่: GeoThai (CC BY 4.0)"
LEVEL_BY_LENGTH = {2: AreaLevel.PROVINCE, 4: AreaLevel.DISTRICT, 6: AreaLevel.SUBDISTRICT, 8: AreaLevel.VILLAGE}
_CODE = re.compile(r"^(TH|\d{2}|\d{4}|\d{6}|\d{8})$")


def validate_code(code: str) -> str:
    code = (code or "").strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            f"{code!r} is not an area code: use TH, or 2 (province), 4 (district), 6 (tambon) "
            "or 8 (village) digits",
            f"'{code}' ไม่ใช่รหัสพื้นที่ ใช้ TH หรือตัวเลข 2 หลัก (จังหวัด) 4 หลัก (อำเภอ) "
            "6 หลัก (ตำบล) หรือ 8 หลัก (หมู่บ้าน)",
        )
    return code


def parent_code(code: str) -> str | None:
    if code == ROOT_AREA:
        return None
    return ROOT_AREA if len(code) == 2 else code[:-2]


def ancestors(code: str) -> list[str]:
    """The code itself and every area above it, nearest first, ending with ``TH``."""
    chain = [code]
    while (parent := parent_code(chain[-1])) is not None:
        chain.append(parent)
    return chain


def ensure_root_area(session: Session, now: datetime) -> Area:
    root = session.get(Area, ROOT_AREA)
    if root is None:
        root = Area(code=ROOT_AREA, level=AreaLevel.COUNTRY, name_th="ประเทศไทย", name_en="Thailand",
                    parent_code=None, created_at=now)
        session.add(root)
        session.flush()
    return root


def get_area(session: Session, code: str) -> Area:
    code = validate_code(code)
    area = session.get(Area, code)
    if area is None:
        hint = " (load official areas with: network-hub areas load)" if len(code) < 8 else (
            " (add it with: network-hub village add CODE8 --name NAME)")
        raise NotFound(f"area {code} is not known{hint}", f"ไม่พบพื้นที่รหัส {code} ในระบบ")
    return area


@dataclass(frozen=True)
class LoadReport:
    provinces: int
    districts: int
    subdistricts: int
    added: int


def load_official_areas(session: Session, now: datetime, province: str | None = None) -> LoadReport:
    """Load provinces, districts and tambon from GeoThai; existing rows are updated, not duplicated."""
    ensure_root_area(session, now)
    if province is not None:
        province = validate_code(province)
        if len(province) != 2 or geothai.province(province) is None:
            raise InvalidInput(
                f"{province!r} is not a province code (two digits, e.g. 52 for Lampang)",
                f"'{province}' ไม่ใช่รหัสจังหวัด (ตัวเลข 2 หลัก เช่น 52 คือ ลำปาง)",
            )
        provinces = [geothai.province(province)]
    else:
        provinces = list(geothai.provinces())
    rows: list[tuple[str, str, str, str, str]] = []  # code, level, th, en, parent
    n_d = n_s = 0
    for p in provinces:
        rows.append((p.code, AreaLevel.PROVINCE, p.name_th, p.name_en, ROOT_AREA))
        for d in geothai.districts(p.code):
            n_d += 1
            rows.append((d.code, AreaLevel.DISTRICT, d.name_th, d.name_en, p.code))
            for s in geothai.subdistricts(d.code):
                n_s += 1
                rows.append((s.code, AreaLevel.SUBDISTRICT, s.name_th, s.name_en, d.code))
    official = (AreaLevel.PROVINCE, AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT)
    existing = {a.code: a for a in session.scalars(select(Area).where(Area.level.in_(official)))}
    new = []
    for code, level, th, en, parent in rows:
        area = existing.get(code)
        if area is None:
            new.append({"code": code, "level": level.value, "name_th": th, "name_en": en,
                        "parent_code": parent, "is_community": False, "created_at": now})
        elif (area.name_th, area.name_en) != (th, en):
            area.name_th, area.name_en = th, en
    if new:
        session.execute(Area.__table__.insert(), new)
    return LoadReport(len(provinces), n_d, n_s, len(new))


def add_village(session: Session, code: str, name: str, now: datetime, *, community: bool = False) -> Area:
    """Add a village (หมู่ที่) or municipal community (ชุมชน) under an existing tambon."""
    code = (code or "").strip()
    if not re.fullmatch(r"\d{8}", code):
        raise InvalidInput(
            f"{code!r} is not a village code: 8 digits, the tambon code (6) plus หมู่ที่ (2), e.g. 52010103",
            f"'{code}' ไม่ใช่รหัสหมู่บ้าน ต้องเป็นตัวเลข 8 หลัก (รหัสตำบล 6 หลัก + หมู่ที่ 2 หลัก) เช่น 52010103",
        )
    if code.endswith("00"):
        raise InvalidInput(f"{code}: หมู่ที่ 00 does not exist; the last two digits are 01-99",
                           f"{code}: ไม่มีหมู่ที่ 00 สองหลักสุดท้ายต้องเป็น 01-99")
    name = " ".join(strip_controls(name or "").split())  # one line, no control characters (feeds)
    if not name or len(name) > 200:
        raise InvalidInput("a village needs a name (1-200 characters)", "กรุณาระบุชื่อหมู่บ้าน (1-200 ตัวอักษร)")
    tambon = session.get(Area, code[:6])
    if tambon is None or tambon.level != AreaLevel.SUBDISTRICT:
        raise NotFound(
            f"tambon {code[:6]} is not known; load it first (network-hub areas load --province {code[:2]})",
            f"ไม่พบตำบลรหัส {code[:6]} กรุณาโหลดข้อมูลพื้นที่ก่อน",
        )
    if session.get(Area, code) is not None:
        raise InvalidInput(f"village {code} already exists", f"หมู่บ้านรหัส {code} มีอยู่แล้ว")
    area = Area(code=code, level=AreaLevel.VILLAGE, name_th=name, name_en="", parent_code=tambon.code,
                is_community=community, created_at=now)
    session.add(area)
    session.flush()
    return area


def village_label(area: Area) -> str:
    """``หมู่ที่ 3 บ้านปงยางคก`` or ``ชุมชนบ้านป่าขาม`` for display."""
    if area.level != AreaLevel.VILLAGE:
        return area.name_th
    if area.is_community:
        return area.name_th if area.name_th.startswith("ชุมชน") else f"ชุมชน{area.name_th}"
    return f"หมู่ที่ {int(area.code[-2:])} {area.name_th}"


def attribution(session: Session, village_code: str) -> dict[str, str]:
    """Village, tambon, district and province names for a rendered post's footer."""
    return attributions(session, {village_code})[village_code]


def attributions(session: Session, village_codes: set[str]) -> dict[str, dict[str, str]]:
    """``attribution`` for several villages in one query."""
    wanted = {code for v in village_codes for code in ancestors(v)}
    chain = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(wanted)))}

    def name(code: str) -> str:
        return chain[code].name_th if code in chain else ""

    return {
        v: {
            "village": village_label(chain[v]) if v in chain else v,
            "tambon": name(v[:6]),
            "district": name(v[:4]),
            "province": name(v[:2]),
        }
        for v in village_codes
    }
