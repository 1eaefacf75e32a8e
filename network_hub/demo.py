"""``network-hub demo``: a living sandbox network in a fresh SQLite file, then the running hub.

It loads the real districts and tambon of Lampang from GeoThai, adds villages in two tambon of
Mueang Lampang, one member per role (with a printed demo password), sandbox outlets (posts are
recorded, never sent anywhere), and a dozen Thai news items in every state a moderator meets:
waiting (two with PDPA warnings), returned, rejected, scheduled, published over the past weeks
(through the real dispatcher and sandbox publisher) and one withdrawn. Nothing here touches the
operator's own database: the demo always uses its own directory and SQLite file.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import typer
from PIL import Image, ImageDraw

from config.settings import Settings
from network_hub.areas import add_village, load_official_areas
from network_hub.clock import FrozenClock
from network_hub.db.migrate import upgrade
from network_hub.hub import Hub
from network_hub.keyfile import ensure_private_dir
from network_hub.newsroom import moderation
from network_hub.newsroom.pdpa import Consent
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.outlets import add_outlet
from network_hub.permissions import load_actor, system_actor
from network_hub.roster.members import add_grant, add_member, set_password
from network_hub.states import Role

DEMO_PASSWORD = "demo-lampang-2569"
VILLAGES = {
    "52010101": "บ้านเวียงเหนือ", "52010102": "บ้านป่าขาม", "52010103": "บ้านศรีหมวดเกล้า",
    "52010201": "บ้านหัวเวียง", "52010202": "บ้านท่าคราวน้อย",
}
# (key, name, role, area, phone)
PEOPLE = (
    ("admin", "ผู้ดูแลระบบ (ทดลอง)", Role.ADMIN, "TH", "0810000001"),
    ("coordinator", "วิไล ประสานงาน", Role.COORDINATOR, "5201", "0810000002"),
    ("moderator", "ประเสริฐ ตรวจข่าว", Role.MODERATOR, "520101", "0810000003"),
    ("moderator2", "สุดา ดูแลตำบล", Role.MODERATOR, "520102", "0810000004"),
    ("reporter", "สมศรี ใจดี", Role.REPORTER, "52010101", "0810000005"),
    ("reporter2", "บุญมี ขยันข่าว", Role.REPORTER, "52010102", "0810000006"),
    ("reporter3", "จันทร์เพ็ญ หัวเวียง", Role.REPORTER, "52010201", "0810000007"),
)


@dataclass
class DemoNetwork:
    settings: Settings
    people: dict[str, tuple[int, str, str, str]] = field(default_factory=dict)  # key → id, name, role, phone
    items: int = 0
    outlets: int = 0


def demo_settings(directory: Path, *, port: int | None = None) -> Settings:
    """Settings of the demo: its own SQLite file and media, whatever the environment says."""
    directory = directory.resolve()
    overrides: dict[str, object] = {
        "data_dir": directory, "database_url": f"sqlite:///{directory / 'hub.sqlite3'}",
        "media_dir": directory / "media", "telegram_bot_token": "",
    }
    if port is not None:
        overrides["web_port"] = port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.public_base_url = f"http://{settings.web_host}:{settings.web_port}"
    return settings


def _photo(colour: tuple[int, int, int], label: str) -> PhotoInput:
    """A small picture drawn here (no files to ship): a sky, fields and a sun."""
    image = Image.new("RGB", (960, 640), (186, 222, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 380, 960, 640), fill=colour)
    draw.ellipse((720, 60, 860, 200), fill=(255, 204, 64))
    for x in range(60, 900, 140):
        draw.polygon([(x, 380), (x + 60, 260), (x + 120, 380)], fill=(60, 120, 70))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return PhotoInput(buffer.getvalue(), f"{label}.jpg")


# (author key, village, category, title, body, photos, consent, fate, days ago)
NEWS = (
    ("reporter", "52010101", "development_result", "ถนนคอนกรีตสายใหม่เสร็จแล้ว",
     "ชาวบ้านเวียงเหนือร่วมกันลงแรงเทถนนคอนกรีตระยะทาง 300 เมตร ด้วยงบประมาณกองทุนหมู่บ้าน "
     "ช่วยให้รถเก็บผลผลิตเข้าออกได้สะดวกในหน้าฝน", 2, None, "published", 20),
    ("reporter2", "52010102", "local_product", "ผ้าทอลายน้ำไหลบ้านป่าขาม",
     "กลุ่มแม่บ้านป่าขามทอผ้าลายน้ำไหลด้วยฝ้ายย้อมสีธรรมชาติ จำหน่ายที่ศาลากลางบ้านทุกวันเสาร์ "
     "ผืนละ 450 บาท รายได้เข้ากลุ่มอาชีพ", 1, None, "published", 12),
    ("reporter3", "52010201", "community_charm", "ประเพณีตานก๋วยสลากวัดหัวเวียง",
     "ชุมชนหัวเวียงร่วมสืบสานประเพณีตานก๋วยสลาก ถวายภัตตาหารและเครื่องใช้แด่พระสงฆ์ "
     "อุทิศส่วนกุศลให้บรรพบุรุษ มีผู้ร่วมงานกว่า 200 คน", 1, None, "published", 6),
    ("reporter", "52010101", "announcement", "ขอเชิญร่วมประชุมประชาคมหมู่บ้าน",
     "ขอเชิญชาวบ้านเวียงเหนือทุกครัวเรือนร่วมประชุมประชาคมเพื่อจัดทำแผนพัฒนาหมู่บ้านปีหน้า "
     "ณ ศาลาอเนกประสงค์ เวลา 19.00 น.", 0, None, "published", 3),
    ("reporter2", "52010102", "event", "วิ่งการกุศลรอบหนองน้ำป่าขาม",
     "ชมรมผู้สูงอายุจัดกิจกรรมเดิน-วิ่งการกุศลรอบหนองน้ำ รายได้ซื้ออุปกรณ์การแพทย์ให้ รพ.สต.", 1, None,
     "withdrawn", 9),
    ("reporter", "52010101", "local_product", "น้ำพริกตาแดงสูตรแม่บ้านเวียงเหนือ",
     "กลุ่มแม่บ้านเวียงเหนือผลิตน้ำพริกตาแดงบรรจุกระปุก ได้รับมาตรฐาน อย. แล้ว "
     "สั่งซื้อได้ที่ร้านค้าชุมชน", 1, None, "scheduled", 0),
    ("reporter3", "52010201", "event", "ตลาดนัดชุมชนริมแม่น้ำวัง",
     "เทศบาลร่วมกับชุมชนหัวเวียงจัดตลาดนัดริมแม่น้ำวังทุกเย็นวันศุกร์ มีอาหารพื้นเมืองและดนตรีสด", 0, None,
     "scheduled", 0),
    ("reporter", "52010101", "community_charm", "เด็กเยาวชนเรียนฟ้อนเล็บกับปราชญ์ชาวบ้าน",
     "ด.ญ. มะลิ และเพื่อน ๆ เยาวชนบ้านเวียงเหนือฝึกฟ้อนเล็บกับแม่ครูบัวทุกเย็นวันพุธ "
     "เพื่อเตรียมแสดงในงานประจำปีของตำบล", 1, Consent(photos_show_children=True, identifiable_people=True,
                                                       consent_given=True), "submitted", 0),
    ("reporter2", "52010102", "announcement", "รับสมัครอาสาสมัครดูแลผู้สูงอายุ",
     "ต้องการอาสาสมัครดูแลผู้สูงอายุติดบ้าน 5 คน ผู้สนใจติดต่อคุณบุญมี โทร 081-234-5678", 0, None,
     "submitted", 0),
    ("reporter3", "52010201", "development_result", "ธนาคารขยะชุมชนหัวเวียงครบหนึ่งปี",
     "ธนาคารขยะชุมชนหัวเวียงมีสมาชิก 120 ครัวเรือน ขยะลดลงกว่าครึ่ง เงินปันผลนำไปใช้เป็นสวัสดิการชุมชน",
     1, None, "submitted", 0),
    ("reporter", "52010101", "event", "แข่งขันกีฬาหมู่บ้าน",
     "แข่งกีฬา", 0, None, "returned", 1),
    ("reporter2", "52010102", "announcement", "ขายที่ดินด่วน",
     "ขายที่ดิน 2 ไร่ ติดถนน ราคาถูก", 0, None, "rejected", 2),
)


def build_demo(settings: Settings, *, now: datetime) -> DemoNetwork:
    """Create the demo network in ``settings``' (fresh) database; ``now`` is the real current time."""
    from jobs.dispatch import Dispatcher
    from publishers.registry import Publishers

    clock = FrozenClock(now - timedelta(days=30))
    hub = Hub.from_settings(settings, clock=clock)
    network = DemoNetwork(settings=settings)
    try:
        ensure_private_dir(settings.data_dir)
        settings.ensure_secret_key()
        upgrade(hub.engine)
        with hub.transaction() as session:
            load_official_areas(session, clock.now(), province="52")
            for code, name in VILLAGES.items():
                add_village(session, code, name, clock.now())
            for key, name, role, area, phone in PEOPLE:
                member = add_member(session, name=name, phone=phone, now=clock.now(), actor=system_actor())
                add_grant(session, member.id, role.value, area, now=clock.now(), actor=system_actor())
                set_password(session, member.id, DEMO_PASSWORD, now=clock.now())
                network.people[key] = (member.id, name, role.value, phone)
            for area, address, label in (("5201", "mueang-lampang", "เพจข่าวอำเภอเมืองลำปาง (ทดลอง)"),
                                         ("520101", "wiang-nuea", "ช่องข่าวตำบลเวียงเหนือ (ทดลอง)")):
                add_outlet(session, platform="sandbox", area_code=area, address=address, name=label,
                           now=clock.now(), actor=system_actor())
                network.outlets += 1

        publishers = Publishers(settings)
        dispatcher = Dispatcher(hub, publishers, owner="demo-builder")

        def moderator_of(village: str) -> int:
            return network.people["moderator" if village.startswith("520101") else "moderator2"][0]

        for author, village, category, title, body, photos, consent, fate, days_ago in NEWS:
            clock.set(now - timedelta(days=days_ago, hours=5))
            colour = (150, 190, 90) if category != "local_product" else (200, 150, 90)
            with hub.transaction() as session:
                author_id = network.people[author][0]
                item = submit_item(session, actor=load_actor(session, author_id), author_id=author_id,
                                   village_code=village, category=category, title=title, body=body,
                                   photos=[_photo(colour, f"demo-{i}") for i in range(photos)], consent=consent,
                                   now=clock.now(), media_dir=settings.resolved_media_dir, via="demo")
                item_id = item.id
            network.items += 1
            clock.advance(hours=2)
            with hub.transaction() as session:
                moderator = load_actor(session, moderator_of(village))
                if fate in ("published", "withdrawn"):
                    moderation.approve_item(session, item_id, actor=moderator, confirm_pdpa=True, now=clock.now(),
                                            via="demo")
                elif fate == "scheduled":
                    at = (now + timedelta(days=1 + network.items % 5)).replace(hour=2, minute=0, second=0,
                                                                               microsecond=0)
                    moderation.approve_item(session, item_id, actor=moderator, at=at, now=clock.now(), via="demo")
                elif fate == "returned":
                    moderation.return_item(session, item_id, actor=moderator, now=clock.now(), via="demo",
                                           reason="ขอรายละเอียดเพิ่ม: วันที่ เวลา สถานที่ และภาพประกอบ")
                elif fate == "rejected":
                    moderation.reject_item(session, item_id, actor=moderator, now=clock.now(), via="demo",
                                           reason="เป็นประกาศซื้อขายส่วนบุคคล ไม่ใช่ข่าวของหมู่บ้าน")
            if fate in ("published", "withdrawn"):
                asyncio.run(dispatcher.run_once())
            if fate == "withdrawn":
                clock.advance(hours=20)
                with hub.transaction() as session:
                    moderation.withdraw_item(session, item_id, actor=load_actor(session, moderator_of(village)),
                                             reason="เลื่อนการจัดงาน จะแจ้งกำหนดการใหม่", now=clock.now(),
                                             via="demo")
                asyncio.run(dispatcher.run_once())
        asyncio.run(publishers.aclose())
    finally:
        hub.close()
    return network


def print_welcome(network: DemoNetwork) -> None:
    s = network.settings
    url = f"http://{s.web_host}:{s.web_port}/"
    typer.echo("")
    typer.echo(f"Tambon PR Hub demo: {network.items} news items, {network.outlets} sandbox outlets, "
               f"Lampang areas from GeoThai")
    typer.echo(f"  data:      {s.data_dir}")
    typer.echo(f"  dashboard: {url}")
    typer.echo(f"  feeds:     {url}feeds/5201.atom  {url}feeds/5201.json")
    typer.echo(f"  password for everyone below: {DEMO_PASSWORD}")
    for _key, (member_id, name, role, phone) in network.people.items():
        number = f"member {member_id}, " if member_id else ""
        typer.echo(f"    sign in as {phone}  ({number}{role:<11}) {name}")
    typer.echo("Stop with Ctrl+C. Posts go to the sandbox only (see Sandbox in the dashboard).")


def demo(
    directory: Path = typer.Option(Path("hub-demo"), "--dir", help="Where the demo's SQLite file and media live"),
    port: int | None = typer.Option(None, "--port", help="Web port (default HUB_WEB_PORT, 8080)"),
    reset: bool = typer.Option(False, "--reset", help="Delete an earlier demo in --dir and build it again"),
    no_run: bool = typer.Option(False, "--no-run", help="Only build the demo network, do not start the hub"),
) -> None:
    """A sandbox network with sample news in a fresh SQLite file, then run the hub."""
    from network_hub.clock import SystemClock
    from network_hub.service import run_service

    settings = demo_settings(directory, port=port)
    database = settings.data_dir / "hub.sqlite3"
    if database.exists() and reset:
        shutil.rmtree(settings.data_dir)
    if database.exists():
        typer.echo(f"using the demo already in {settings.data_dir} (pass --reset to build it again)")
        network = DemoNetwork(settings=settings, people={k: (0, n, r.value, p) for k, n, r, _a, p in PEOPLE})
    else:
        network = build_demo(settings, now=SystemClock().now())
    print_welcome(network)
    if no_run:
        return
    run_service(Hub.from_settings(settings), with_bot=False, with_web=True)
