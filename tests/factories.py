"""Small realistic test data: a slice of Lampang (and one Chiang Mai tambon) with one member per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import geothai
from sqlalchemy.orm import Session

from network_hub.areas import add_village, ensure_root_area
from network_hub.db.models import Area, Member, RoleGrant
from network_hub.states import AreaLevel

TAMBON_CODES = ("520101", "520102", "500101")
VILLAGES = {
    "52010101": "บ้านเวียงเหนือ",
    "52010102": "บ้านป่าขาม",
    "52010201": "บ้านหัวเวียง",
    "50010101": "บ้านศรีภูมิ",
}


@dataclass
class People:
    reporter: Member  # reporter of village 52010101
    reporter2: Member  # reporter of village 52010102
    moderator: Member  # moderator of tambon 520101
    coordinator: Member  # coordinator of district 5201
    admin: Member  # national admin (TH)
    outsider: Member  # moderator in Chiang Mai (500101)


def seed_areas(session: Session, now: datetime) -> None:
    ensure_root_area(session, now)
    for code in TAMBON_CODES:
        s = geothai.subdistrict(code)
        d = geothai.district(s.district_code)
        p = geothai.province(s.province_code)
        for level, obj, parent in (
            (AreaLevel.PROVINCE, p, "TH"),
            (AreaLevel.DISTRICT, d, p.code),
            (AreaLevel.SUBDISTRICT, s, d.code),
        ):
            if session.get(Area, obj.code) is None:
                session.add(Area(code=obj.code, level=level, name_th=obj.name_th, name_en=obj.name_en,
                                 parent_code=parent, created_at=now))
                session.flush()
    for code, name in VILLAGES.items():
        add_village(session, code, name, now)


def add_member(session: Session, now: datetime, name: str, role: str, area: str, *,
               phone: str | None = None, telegram_user_id: int | None = None) -> Member:
    member = Member(name=name, phone=phone, telegram_user_id=telegram_user_id, language="th",
                    status="active", created_at=now, updated_at=now)
    session.add(member)
    session.flush()
    session.add(RoleGrant(member_id=member.id, role=role, area_code=area, created_at=now))
    session.flush()
    return member


def seed_network(session: Session, now: datetime) -> People:
    seed_areas(session, now)
    return People(
        reporter=add_member(session, now, "สมศรี ใจดี", "reporter", "52010101",
                            phone="+66812345601", telegram_user_id=1001),
        reporter2=add_member(session, now, "บุญมี ขยัน", "reporter", "52010102",
                             phone="+66812345602", telegram_user_id=1002),
        moderator=add_member(session, now, "ประเสริฐ ตรวจดี", "moderator", "520101",
                             phone="+66812345603", telegram_user_id=2001),
        coordinator=add_member(session, now, "วิไล ประสาน", "coordinator", "5201",
                               phone="+66812345604", telegram_user_id=3001),
        admin=add_member(session, now, "ผู้ดูแลระบบ", "admin", "TH", phone="+66812345605", telegram_user_id=4001),
        outsider=add_member(session, now, "คนนอก เชียงใหม่", "moderator", "500101",
                            phone="+66812345606", telegram_user_id=5001),
    )
