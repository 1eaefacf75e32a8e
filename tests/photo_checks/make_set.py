"""A generated test set for PDPA in photos: Thai ID cards, signboards, attendance sheets, plain scenes.

Every photo is rendered with Pillow and Debian's Thai fonts (fonts-thai-tlwg) onto a paper- or
table-like background at phone-camera sizes (12, 8 and 2 megapixels), and some are rotated,
blurred, dim or noisy, as photos from a village hall are. Each case carries its ground truth: the
13-digit ID numbers (valid check digit) and phone numbers a reader must find; ID-like numbers
with a wrong check digit and dates/amounts are decoys that must NOT be reported.

    .venv/bin/python -m tests.photo_checks.make_set OUT_DIR [--seed 16] [--count 64]

writes OUT_DIR/<name>.jpg and OUT_DIR/truth.json. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import io
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")
# Print-like faces; Purisa (hand-writing) is used for names on sheets only, not for the numbers.
NUMBER_FONTS = ("Garuda.ttf", "Loma.ttf", "Norasi.ttf", "Kinnari.ttf", "Sawasdee.ttf", "Waree.ttf",
                "Garuda-Bold.ttf", "Loma-Bold.ttf", "TlwgTypo.ttf", "Umpush.ttf")
SIZES = ((4000, 3000), (3000, 4000), (4032, 3024), (3264, 2448), (1600, 1200), (1280, 960))
MOBILE_PREFIXES = ("081", "082", "083", "084", "085", "086", "087", "088", "089", "061", "062", "063",
                   "064", "065", "091", "092", "093", "094", "095", "096", "097", "098", "099")
LANDLINE_PREFIXES = ("02", "053", "054", "055", "043", "044", "045", "038", "076")
FIRST = ("สมชาย", "สมศรี", "บุญมี", "ประยูร", "มาลี", "สุนทร", "วันเพ็ญ", "จันทร์เพ็ญ", "ทองดี", "คำปุ่น")
LAST = ("ใจดี", "ศรีสุข", "บุญเรือง", "แก้วมณี", "ทองคำ", "พรหมมา", "อินทร์แก้ว", "สายบุญ", "คำแสน", "มีสุข")


def fonts_available() -> bool:
    return all((FONT_DIR / name).exists() for name in NUMBER_FONTS)


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def thai_id(rng: random.Random, *, valid: bool = True) -> str:
    body = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    check = (11 - sum(int(d) * (13 - i) for i, d in enumerate(body)) % 11) % 10
    if not valid:
        check = (check + rng.randint(1, 9)) % 10
    return body + str(check)


def format_id(digits: str, rng: random.Random) -> str:
    groups = (digits[0], digits[1:5], digits[5:10], digits[10:12], digits[12])
    return rng.choice((" ".join(groups), "-".join(groups), digits))


def phone(rng: random.Random) -> tuple[str, str]:
    """(digits, as written)."""
    if rng.random() < 0.75:
        digits = rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(7))
        shown = rng.choice((f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", f"{digits[:3]} {digits[3:6]} {digits[6:]}",
                            digits, f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"))
    else:
        prefix = rng.choice(LANDLINE_PREFIXES)
        digits = prefix + str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8 - len(prefix)))
        shown = rng.choice((f"{digits[:len(prefix)]}-{digits[len(prefix):]}",
                            f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", digits))
    return digits, shown


def name(rng: random.Random) -> str:
    return f"{rng.choice(('นาย', 'นาง', 'นางสาว'))}{rng.choice(FIRST)} {rng.choice(LAST)}"


@dataclass
class Case:
    name: str
    kind: str
    size: tuple[int, int]
    ids: list[str] = field(default_factory=list)  # valid IDs that must be found
    phones: list[str] = field(default_factory=list)  # phone digits that must be found
    decoys: list[str] = field(default_factory=list)  # numbers that must not be reported
    effects: list[str] = field(default_factory=list)


def _background(size: tuple[int, int], rng: random.Random, *, tone: tuple[int, int, int]) -> Image.Image:
    """A table/wall-like surface: a colour, low-frequency shading and grain."""
    w, h = size
    base = Image.new("RGB", (w, h), tone)
    shade = Image.effect_noise((max(8, w // 200), max(8, h // 200)), 40).resize((w, h), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((w // 2, h // 2), 18).resize((w, h))
    shaded = Image.composite(base, ImageEnhance.Brightness(base).enhance(0.8), shade)
    return Image.blend(shaded, Image.merge("RGB", (grain, grain, grain)), 0.08 + 0.06 * rng.random())


def _paper(size: tuple[int, int], rng: random.Random) -> Image.Image:
    tone = rng.choice(((250, 248, 240), (245, 245, 245), (252, 250, 235), (240, 236, 225)))
    paper = Image.new("RGB", size, tone)
    grain = Image.effect_noise((max(1, size[0] // 2), max(1, size[1] // 2)), 10).resize(size)
    return Image.blend(paper, Image.merge("RGB", (grain, grain, grain)), 0.05)


def _place(scene: Image.Image, obj: Image.Image, rng: random.Random, angle: float) -> None:
    obj = obj.convert("RGBA").rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    x = rng.randint(0, max(0, scene.width - obj.width))
    y = rng.randint(0, max(0, scene.height - obj.height))
    scene.paste(obj, (x, y), obj)


def _id_card(case: Case, rng: random.Random, digits: str) -> Image.Image:
    w = int(case.size[0] * rng.uniform(0.45, 0.7)) if case.size[0] > case.size[1] else int(case.size[0] * 0.8)
    h = int(w * 54 / 85.6)
    card = Image.new("RGB", (w, h), (226, 236, 246))
    d = ImageDraw.Draw(card)
    for y in range(0, h, 4):  # the card's pastel pattern
        d.line([(0, y), (w, y)], fill=(226 - y * 20 // h, 232, 246 - y * 30 // h))
    unit = w / 100
    face = rng.choice(NUMBER_FONTS)
    d.text((unit * 4, unit * 3), "บัตรประจำตัวประชาชน  Thai National ID Card", font=font(face, int(unit * 3.6)),
           fill=(20, 40, 110))
    d.text((unit * 4, unit * 10), "เลขประจำตัวประชาชน", font=font(face, int(unit * 2.6)), fill=(30, 30, 30))
    d.text((unit * 4, unit * 13.5), "Identification Number", font=font(face, int(unit * 2.2)), fill=(30, 30, 30))
    d.text((unit * 33, unit * 10), format_id(digits, rng), font=font(face, int(unit * 5)), fill=(10, 10, 10))
    d.text((unit * 4, unit * 21), f"ชื่อตัวและชื่อสกุล  {name(rng)}", font=font(face, int(unit * 3.4)),
           fill=(20, 20, 20))
    d.text((unit * 4, unit * 27), "Name  Mr. Somchai  Last name Jaidee", font=font(face, int(unit * 2.8)),
           fill=(20, 20, 20))
    d.text((unit * 4, unit * 33), f"เกิดวันที่  {rng.randint(1, 28)} ม.ค. {rng.randint(2490, 2550)}",
           font=font(face, int(unit * 3)), fill=(20, 20, 20))
    d.text((unit * 4, unit * 40), "ที่อยู่  99 หมู่ที่ 5 ต.หนองบัว อ.เมือง จ.ลำปาง", font=font(face, int(unit * 2.8)),
           fill=(20, 20, 20))
    d.rectangle([unit * 72, unit * 22, unit * 95, unit * 52], fill=(170, 175, 185))  # the face photo
    return card


def _sign(case: Case, rng: random.Random, shown_phones: list[str]) -> Image.Image:
    w = int(case.size[0] * rng.uniform(0.6, 0.9))
    h = int(w * rng.uniform(0.35, 0.5))
    bg, fg = rng.choice((((250, 220, 40), (20, 20, 20)), ((20, 70, 160), (255, 255, 255)),
                         ((255, 255, 255), (180, 20, 20)), ((30, 120, 60), (255, 255, 240))))
    sign = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(sign)
    face = rng.choice(NUMBER_FONTS)
    unit = w / 100
    title = rng.choice(("ร้านค้าชุมชนบ้านหนองบัว", "รับซ่อมรถจักรยานยนต์", "ขายผ้าทอมือ OTOP", "รับจ้างไถนา",
                        "กลุ่มแม่บ้านทำขนม", "โฮมสเตย์บ้านดอนแก้ว"))
    d.text((unit * 5, unit * 4), title, font=font(face, int(unit * 7)), fill=fg)
    d.text((unit * 5, unit * 15), rng.choice(("สินค้าคุณภาพ ราคาเป็นกันเอง", "บริการทุกวัน 08.00 - 18.00 น.",
                                              "ยินดีต้อนรับทุกท่าน")), font=font(face, int(unit * 4.5)), fill=fg)
    y = unit * 24
    for shown in shown_phones:
        label = rng.choice(("โทร ", "โทร. ", "ติดต่อ ", "Tel. ", "สอบถาม "))
        d.text((unit * 5, y), label + shown, font=font(face, int(unit * 6)), fill=fg)
        y += unit * 8
    return sign


def _sheet(case: Case, rng: random.Random, rows: list[tuple[str, str, str]]) -> Image.Image:
    """An attendance sheet: ลำดับ | ชื่อ-สกุล | เลขประจำตัวประชาชน | โทรศัพท์ | ลายมือชื่อ."""
    w = int(min(case.size) * rng.uniform(0.85, 0.95))
    h = int(w * 1.2)
    sheet = _paper((w, h), rng)
    d = ImageDraw.Draw(sheet)
    face = rng.choice(NUMBER_FONTS)
    unit = w / 100
    d.text((unit * 6, unit * 4), "ใบลงทะเบียนผู้เข้าร่วมประชุมประชาคมหมู่บ้าน", font=font(face, int(unit * 3.6)),
           fill=(0, 0, 0))
    d.text((unit * 6, unit * 9), f"วันที่ {rng.randint(1, 28)} ธันวาคม 2569  ณ ศาลาอเนกประสงค์ หมู่ที่ {rng.randint(1, 15)}",
           font=font(face, int(unit * 2.4)), fill=(0, 0, 0))
    cols = (4, 10, 36, 68, 86, 96)
    top, row_h = unit * 15, unit * 6
    small = font(face, int(unit * 2.1))
    for i, header in enumerate(("ที่", "ชื่อ-สกุล", "เลขประจำตัวประชาชน", "โทรศัพท์", "ลงชื่อ")):
        d.text((unit * cols[i] + unit, top + unit * 1.5), header, font=small, fill=(0, 0, 0))
    for r in range(len(rows) + 2):
        y = top + r * row_h
        d.line([(unit * cols[0], y), (unit * cols[-1], y)], fill=(60, 60, 60), width=max(1, int(unit * 0.15)))
    for x in cols:
        d.line([(unit * x, top), (unit * x, top + (len(rows) + 1) * row_h)], fill=(60, 60, 60),
               width=max(1, int(unit * 0.15)))
    for r, (person, id_shown, phone_shown) in enumerate(rows, start=1):
        y = top + r * row_h + unit * 1.5
        d.text((unit * cols[0] + unit, y), str(r), font=small, fill=(0, 0, 0))
        d.text((unit * cols[1] + unit, y), person, font=font("Purisa.ttf", int(unit * 2.1)), fill=(20, 20, 120))
        d.text((unit * cols[2] + unit, y), id_shown, font=small, fill=(0, 0, 0))
        d.text((unit * cols[3] + unit, y), phone_shown, font=small, fill=(0, 0, 0))
        d.line([(unit * cols[4] + unit, y + unit * 3), (unit * cols[5] - unit, y + unit * 1.5)], fill=(20, 20, 120),
               width=max(1, int(unit * 0.3)))  # a signature stroke
    return sheet


def _poster(case: Case, rng: random.Random) -> Image.Image:
    """Text without personal data: dates, times, village numbers, amounts."""
    w = int(min(case.size) * 0.8)
    poster = _paper((w, int(w * 0.7)), rng)
    d = ImageDraw.Draw(poster)
    face = rng.choice(NUMBER_FONTS)
    unit = w / 100
    lines = ("ขอเชิญร่วมงานบุญประจำปี 2569", f"วันที่ {rng.randint(1, 28)} ธันวาคม 2569 เวลา 09.00 น.",
             f"ณ วัดบ้านหนองบัว หมู่ที่ {rng.randint(1, 15)} ตำบลหนองบัว",
             f"ค่าลงทะเบียน {rng.randint(1, 9) * 100} บาท  รหัสไปรษณีย์ 52000")
    for i, text in enumerate(lines):
        d.text((unit * 5, unit * (6 + i * 14)), text, font=font(face, int(unit * 5)), fill=(10, 10, 60))
    return poster


def _plain(case: Case, rng: random.Random) -> Image.Image:
    """A scene with no text: sky, field, round shapes (people, trees)."""
    w, h = case.size
    scene = Image.new("RGB", case.size, (120, 170, 230))
    d = ImageDraw.Draw(scene)
    d.rectangle([0, h * 0.55, w, h], fill=(70, 140, 60))
    for _ in range(12):
        x, y, r = rng.randint(0, w), rng.randint(int(h * 0.4), h), rng.randint(w // 40, w // 12)
        d.ellipse([x - r, y - r, x + r, y + r], fill=(rng.randint(20, 200), rng.randint(60, 160), rng.randint(20, 90)))
    grain = Image.effect_noise((w // 2, h // 2), 20).resize((w, h))
    return Image.blend(scene, Image.merge("RGB", (grain, grain, grain)), 0.06)


def _degrade(image: Image.Image, case: Case, rng: random.Random) -> Image.Image:
    roll = rng.random()
    if roll < 0.2:
        image = image.filter(ImageFilter.GaussianBlur(radius=max(1.0, image.width / 2500)))
        case.effects.append("blurred")
    elif roll < 0.35:
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.35, 0.5))
        grain = Image.effect_noise((image.width // 2, image.height // 2), 30).resize(image.size)
        image = Image.blend(image, Image.merge("RGB", (grain, grain, grain)), 0.07)
        case.effects.append("low light")
    turn = rng.random()
    if turn < 0.12:
        image = image.rotate(90, expand=True)
        case.effects.append("rotated 90")
    elif turn < 0.2:
        image = image.rotate(180)
        case.effects.append("rotated 180")
    elif turn < 0.25:
        image = image.rotate(270, expand=True)
        case.effects.append("rotated 270")
    return image


KINDS = ("id_card", "id_card_invalid", "sign", "sheet", "poster", "plain")
# Per 64 photos: what a moderator actually sees, weighted towards the cases with personal data.
MIX = {"id_card": 16, "id_card_invalid": 8, "sign": 14, "sheet": 10, "poster": 8, "plain": 8}


def generate(seed: int = 16, count: int = 64) -> Iterator[tuple[Case, Image.Image]]:
    """(case, image) pairs, deterministic for ``seed``; the mix of kinds is scaled to ``count``."""
    rng = random.Random(seed)
    total = sum(MIX.values())
    kinds = [k for k, n in MIX.items() for _ in range(max(1, round(n * count / total)))][:count]
    while len(kinds) < count:
        kinds.append(KINDS[len(kinds) % len(KINDS)])
    for index, kind in enumerate(kinds):
        case = Case(name=f"{index:03d}_{kind}", kind=kind, size=rng.choice(SIZES))
        tone = rng.choice(((150, 110, 70), (190, 180, 165), (120, 90, 60), (210, 205, 195)))
        scene = _background(case.size, rng, tone=tone) if kind != "plain" else _plain(case, rng)
        angle = rng.uniform(-6, 6)
        if kind in ("id_card", "id_card_invalid"):
            digits = thai_id(rng, valid=kind == "id_card")
            (case.ids if kind == "id_card" else case.decoys).append(digits)
            _place(scene, _id_card(case, rng, digits), rng, angle)
        elif kind == "sign":
            numbers = [phone(rng) for _ in range(rng.choice((1, 1, 2)))]
            case.phones += [digits for digits, _shown in numbers]
            _place(scene, _sign(case, rng, [shown for _d, shown in numbers]), rng, angle)
        elif kind == "sheet":
            rows = []
            for _ in range(rng.randint(3, 6)):
                valid = rng.random() > 0.15
                id_digits = thai_id(rng, valid=valid)
                (case.ids if valid else case.decoys).append(id_digits)
                phone_digits, shown = phone(rng) if rng.random() < 0.7 else ("", "")
                if phone_digits:
                    case.phones.append(phone_digits)
                rows.append((name(rng), format_id(id_digits, rng), shown))
            _place(scene, _sheet(case, rng, rows), rng, angle / 2)
        elif kind == "poster":
            _place(scene, _poster(case, rng), rng, angle)
        yield case, _degrade(scene, case, rng)


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def write_set(out: Path, seed: int = 16, count: int = 64) -> list[Case]:
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for case, image in generate(seed, count):
        (out / f"{case.name}.jpg").write_bytes(jpeg_bytes(image))
        cases.append(case)
    (out / "truth.json").write_text(json.dumps([asdict(c) for c in cases], ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--count", type=int, default=64)
    args = parser.parse_args()
    cases = write_set(args.out, args.seed, args.count)
    print(f"{len(cases)} photos in {args.out}: {sum(len(c.ids) for c in cases)} ID numbers, "
          f"{sum(len(c.phones) for c in cases)} phone numbers, {sum(len(c.decoys) for c in cases)} decoys")


if __name__ == "__main__":
    main()
