"""R4: a corpus of bad input across the CLI, the bot and the web dashboard. Every case gets a clear
error (English on the CLI, Thai for end users) and changes nothing: a snapshot of every table
(row count and a checksum of its rows) is the same before and after.

CLI: ``network_hub.cli.app.main([...])`` in-process. Web: the FastAPI app under TestClient, signed
in. Bot: the steps the handlers run in-process — the callback parser, the presser lookup, the
decision (``moderate._decide``/``_checked_view``), ``redeem_invite`` for ``/start``, and the
submission service with the bot's own Thai message — without a Telegram round trip (the bot's
end-to-end tests in tests/bot cover the wire).
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update

from network_hub.bot import callbacks
from network_hub.bot.common import who_in_session
from network_hub.bot.moderate import _checked_view, _decide
from network_hub.bot.texts import raw
from network_hub.cli.app import main
from network_hub.db.models import Base, Delivery, Invite
from network_hub.errors import HubError
from network_hub.hub import Hub
from network_hub.newsroom.moderation import approve_item
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.outlets import add_outlet
from network_hub.permissions import load_actor, system_actor
from network_hub.roster.invites import create_invite, redeem_invite, revoke_invite
from network_hub.web.app import create_app
from tests.factories import People, seed_network
from tests.web.conftest import CSRF_RE, PASSWORD

THAI = "\u0e00-\u0e7f"
CLI_MODULES = ("areas", "deliveries", "invites", "members", "news", "outlets", "reminders", "service", "common")


def has_thai(text: str) -> bool:
    return any("\u0e00" <= ch <= "\u0e7f" for ch in text)


def snapshot(hub: Hub) -> dict[str, tuple[int, str]]:
    """Every table: (row count, sha256 of its rows in primary-key order)."""
    out: dict[str, tuple[int, str]] = {}
    with hub.transaction() as s:
        for table in Base.metadata.sorted_tables:
            rows = s.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = (len(rows), hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()[:16])
    return out


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buf = BytesIO()
    Image.new("RGB", (width, height), (30, 140, 90)).save(buf, "JPEG")
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` (a decompression bomb's shape)."""
    buf = BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


@dataclass
class World:
    hub: Hub
    people: People
    tmp: Path
    items: dict[str, int] = field(default_factory=dict)
    invites: dict[str, str] = field(default_factory=dict)
    delivery_id: int = 0
    outcome: dict[str, str] = field(default_factory=dict)
    capsys: Any = None

    # -- the check every case ends with ----------------------------------------------------------
    def bad(self, act: Callable[[], str]) -> str:
        """Run a bad action; its error text is returned; nothing may have changed."""
        before = snapshot(self.hub)
        error = act()
        after = snapshot(self.hub)
        changed = sorted(name for name in before if before[name] != after[name])
        self.outcome = {"error": error, "unchanged": "yes" if not changed else f"CHANGED: {changed}"}
        assert not changed, f"bad input changed {changed}"
        return error

    # -- surfaces -------------------------------------------------------------------------------
    def cli(self, *args: str) -> str:
        def act() -> str:
            self.capsys.readouterr()
            code = main(list(args))
            out, err = self.capsys.readouterr()
            assert code != 0, f"accepted: {args} → {out[-300:]}"
            # "error: …" is the English line (it may quote Thai input); "ข้อผิดพลาด: …" follows it.
            english = [line.strip() for line in err.splitlines()
                       if line.strip() and (line.lower().startswith(("error", "usage")) or not has_thai(line))]
            assert english, f"no English error line: {err!r}"
            return next((line for line in english if line.lower().startswith("error")), english[-1])

        return self.bad(act)

    def file(self, name: str, data: bytes | str) -> str:
        path = self.tmp / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return str(path)

    def web(self, who: str | None) -> tuple[TestClient, str]:
        client = TestClient(create_app(self.hub), follow_redirects=False)
        client.__enter__()
        page = client.get("/login")
        token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        if who is not None:
            response = client.post("/login", data={"account": getattr(self.people, who).phone,
                                                   "password": PASSWORD, "csrf_token": token, "next": "/"})
            assert response.status_code == 303, response.text
            token = CSRF_RE.search(client.get("/queue" if who != "reporter" else "/items").text).group(1)  # type: ignore[union-attr]
        return client, token

    def web_bad(self, who: str | None, method: str, path: str, data: dict[str, str] | None = None,
                with_token: bool | str = True) -> str:
        client, token = self.web(who)
        try:
            form = dict(data or {})
            if with_token is True:
                form["csrf_token"] = token
            elif isinstance(with_token, str):
                form["csrf_token"] = with_token

            def act() -> str:
                response = client.request(method, path, data=form if method == "POST" else None)
                if who is None and response.status_code == 303:  # not signed in: sent to the sign-in page
                    assert response.headers["location"].startswith("/login"), response.headers["location"]
                    return f"HTTP 303 → {response.headers['location']} (เข้าสู่ระบบก่อน)"
                assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
                assert has_thai(response.text), response.text[:300]
                return f"HTTP {response.status_code}: {_first_thai_line(response.text)}"

            return self.bad(act)
        finally:
            client.__exit__(None, None, None)

    def bot_press(self, telegram_user_id: int, data: str) -> str:
        """What ``on_card_press``/``on_delivery_press`` answer (the toast), in-process."""
        def act() -> str:
            if data.startswith("d:"):
                parsed = callbacks.parse_delivery(data)
                if parsed is None:
                    return raw("button_expired")
                from network_hub.outbox.resolution import resolve_unknown

                with self.hub.transaction() as s:
                    who = who_in_session(s, telegram_user_id)
                    if who is None:
                        return raw("not_member_press")
                try:
                    with self.hub.transaction() as s:
                        resolve_unknown(s, parsed[1], posted=parsed[0], actor=who.actor, now=self.hub.clock.now())
                except HubError as exc:
                    return exc.message("th")
                raise AssertionError("accepted")
            press = callbacks.parse_mod(data)
            if press is None:
                return raw("button_expired")
            with self.hub.transaction() as s:
                who = who_in_session(s, telegram_user_id)
            if who is None:
                return raw("not_member_press")
            try:
                with self.hub.transaction() as s:
                    if press.verb in ("s", "b", "r", "x", "tt", "bt", "rt"):
                        _checked_view(s, who, press.item_id, press.version)
                    else:
                        _decide(s, self.hub.clock.now(), who, press, self.hub)
            except HubError as exc:
                return exc.message(who.language)
            raise AssertionError(f"press accepted: {data}")

        error = self.bad(act)
        assert has_thai(error), error
        return error

    def bot_start(self, telegram_user_id: int, code: str) -> str:
        def act() -> str:
            try:
                with self.hub.transaction() as s:
                    redeem_invite(s, code, telegram_user_id=telegram_user_id, name="ผู้ทดสอบ", now=self.hub.clock.now())
            except HubError as exc:
                return exc.message("th")
            raise AssertionError(f"invite {code!r} accepted")

        error = self.bad(act)
        assert has_thai(error), error
        return error

    def bot_submit(self, *, body: str = "ข่าวจากหมู่บ้าน", photos: list[bytes] | None = None,
                   village: str = "52010101", author: str = "reporter") -> str:
        member = getattr(self.people, author)

        def act() -> str:
            try:
                with self.hub.transaction() as s:
                    submit_item(s, actor=load_actor(s, member.id), author_id=member.id, village_code=village,
                                category="event", body=body, photos=[PhotoInput(p, f"p{n}.jpg", f"file{n}")
                                                                     for n, p in enumerate(photos or [])],
                                now=self.hub.clock.now(), media_dir=self.hub.settings.resolved_media_dir, via="bot")
            except HubError as exc:
                return exc.message("th")
            raise AssertionError("submission accepted")

        error = self.bad(act)
        assert has_thai(error), error
        return error


def _first_thai_line(html: str) -> str:
    import re

    text = re.sub(r"<[^>]+>", "\n", html)
    for line in (x.strip() for x in text.splitlines()):
        if has_thai(line) and len(line) > 8:
            return line[:120]
    return ""


@pytest.fixture
def w(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> World:
    from argon2 import PasswordHasher

    import network_hub.cli as cli_pkg

    hub.settings.media_dir = tmp_path / "media"
    for name in CLI_MODULES:
        module = __import__(f"{cli_pkg.__name__}.{name}", fromlist=["get_hub"])
        if hasattr(module, "get_hub"):
            monkeypatch.setattr(module, "get_hub", lambda: hub)
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    now = hub.clock.now()
    world = World(hub, People(*[None] * 6), tmp_path, capsys=capsys)  # type: ignore[arg-type]
    with hub.transaction() as s:
        people = seed_network(s, now)
        for member in (people.reporter, people.reporter2, people.moderator, people.coordinator, people.admin,
                       people.outsider):
            s.merge(member).password_hash = password_hash
        add_outlet(s, platform="sandbox", area_code="5201", address="lampang", name="ข่าวลำปาง (ทดลอง)", now=now,
                   actor=system_actor())
    world.people = people
    with hub.transaction() as s:
        reporter = load_actor(s, people.reporter.id)
        media = hub.settings.resolved_media_dir
        world.items["submitted"] = submit_item(s, actor=reporter, author_id=people.reporter.id,
                                               village_code="52010101", category="event", body="งานบุญประจำปีของหมู่บ้าน",
                                               now=now, media_dir=media).id
        world.items["flagged"] = submit_item(s, actor=reporter, author_id=people.reporter.id, village_code="52010101",
                                             category="event", body="ติดต่อผู้ใหญ่บ้านได้ที่ 081-234-5678",
                                             now=now, media_dir=media).id
        approved = submit_item(s, actor=reporter, author_id=people.reporter.id, village_code="52010101",
                               category="announcement", body="ประกาศประชุมประจำเดือน", now=now, media_dir=media)
        approve_item(s, approved.id, actor=load_actor(s, people.moderator.id), now=now)
        world.items["approved"] = approved.id
        world.delivery_id = s.scalar(select(Delivery.id).where(Delivery.item_id == approved.id)) or 0
        for name in ("used", "revoked", "expired"):
            world.invites[name] = create_invite(s, role="reporter", area_code="52010101", now=now,
                                                actor=system_actor()).code
    with hub.transaction() as s:
        redeem_invite(s, world.invites["used"], telegram_user_id=8801, name="ผู้ใช้คนแรก",
                      now=now)
        revoke_invite(s, world.invites["revoked"], now=now, actor=system_actor())
        s.execute(update(Invite).where(Invite.code == world.invites["expired"])
                  .values(expires_at=now - timedelta(days=1)))
    return world


# -- the corpus --------------------------------------------------------------------------------------
Case = tuple[str, str, Callable[[World], str]]
BIG_TEXT = "ข่าว" * 5001  # 20,004 UTF-16 units: over the 20,000 limit


def _submit(w: World, *extra: str, text: str | None = "งานบุญ", village: str = "52010101",
            author: str | None = None) -> str:
    args = ["news", "submit", "--village", village, "--author", author or str(w.people.reporter.id),
            "--category", "event"]
    if text is not None:
        args += ["--text", text]
    return w.cli(*args, *extra)


def _roster(w: World, csv: str | bytes) -> str:
    return w.cli("roster", "import", w.file("roster.csv", csv))


HEADER = "name,role,area_code,phone,telegram_user_id,language\n"

CASES: list[Case] = [
    # CLI ------------------------------------------------------------------------------------------
    ("cli", "news submit: text over 20,000 UTF-16 units", lambda w: _submit(w, text=BIG_TEXT)),
    ("cli", "news submit: empty text", lambda w: _submit(w, text="   \n  ")),
    ("cli", "news submit: text file that is not UTF-8",
     lambda w: _submit(w, "--text-file", w.file("body.txt", b"\xff\xfe\x00bad\x80"), text=None)),
    ("cli", "news submit: 11 photos",
     lambda w: _submit(w, *[a for n in range(11) for a in ("--photo", w.file(f"p{n}.jpg", jpeg()))])),
    ("cli", "news submit: a photo that is a text file",
     lambda w: _submit(w, "--photo", w.file("notes.jpg", "ไม่ใช่รูปภาพ"))),
    ("cli", "news submit: a photo claiming 50,000 × 50,000 pixels",
     lambda w: _submit(w, "--photo", w.file("bomb.png", png_claiming(50_000, 50_000)))),
    ("cli", "news submit: a 21 MB photo",
     lambda w: _submit(w, "--photo", w.file("huge.jpg", jpeg() + b"\0" * 21_000_000))),
    ("cli", "news submit: a photo file that does not exist",
     lambda w: _submit(w, "--photo", str(w.tmp / "missing.jpg"))),
    ("cli", "news submit: unknown village code", lambda w: _submit(w, village="52019999")),
    ("cli", "news submit: village code with markup", lambda w: _submit(w, village="52010101<script>")),
    ("cli", "news submit: district code instead of a village", lambda w: _submit(w, village="5201")),
    ("cli", "news submit: unknown category",
     lambda w: w.cli("news", "submit", "--village", "52010101", "--author", str(w.people.reporter.id),
                     "--category", "gossip", "--text", "ข่าว")),
    ("cli", "news submit: unknown author id", lambda w: _submit(w, author="999999")),
    ("cli", "news submit: author with SQL in it", lambda w: _submit(w, author="1; DROP TABLE members")),
    ("cli", "news submit: reporter of another village", lambda w: _submit(w, author=str(w.people.reporter2.id))),
    ("cli", "news approve: by a reporter (wrong role)",
     lambda w: w.cli("news", "approve", str(w.items["submitted"]), "--by", str(w.people.reporter.id))),
    ("cli", "news approve: by a moderator of another province",
     lambda w: w.cli("news", "approve", str(w.items["submitted"]), "--by", str(w.people.outsider.id))),
    ("cli", "news approve: time in the past",
     lambda w: w.cli("news", "approve", str(w.items["submitted"]), "--by", str(w.people.moderator.id),
                     "--at", "2020-01-01 09:00")),
    ("cli", "news approve: time that is not a time",
     lambda w: w.cli("news", "approve", str(w.items["submitted"]), "--by", str(w.people.moderator.id),
                     "--at", "พรุ่งนี้เช้า")),
    ("cli", "news approve: PDPA-flagged without --confirm-pdpa",
     lambda w: w.cli("news", "approve", str(w.items["flagged"]), "--by", str(w.people.moderator.id))),
    ("cli", "news approve: item that does not exist",
     lambda w: w.cli("news", "approve", "999999", "--by", str(w.people.moderator.id))),
    ("cli", "news approve: an already approved item",
     lambda w: w.cli("news", "approve", str(w.items["approved"]), "--by", str(w.people.moderator.id))),
    ("cli", "news reject: empty reason",
     lambda w: w.cli("news", "reject", str(w.items["submitted"]), "--by", str(w.people.moderator.id),
                     "--reason", "  ")),
    ("cli", "news edit: text over the limit",
     lambda w: w.cli("news", "edit", str(w.items["submitted"]), "--by", str(w.people.moderator.id),
                     "--text", BIG_TEXT)),
    ("cli", "news list: unknown status", lambda w: w.cli("news", "list", "--status", "lost")),
    ("cli", "roster import: row without an area (missing columns)", lambda w: _roster(w, HEADER + "สมชาย,reporter\n")),
    ("cli", "roster import: bad phone number",
     lambda w: _roster(w, HEADER + "สมชาย,reporter,52010101,12345,,th\n")),
    ("cli", "roster import: unknown area code",
     lambda w: _roster(w, HEADER + "สมชาย,reporter,99999999,0812340000,,th\n")),
    ("cli", "roster import: unknown role", lambda w: _roster(w, HEADER + "สมชาย,king,52010101,0812340000,,th\n")),
    ("cli", "roster import: wrong header", lambda w: _roster(w, "ชื่อ,บทบาท\nสมชาย,reporter\n")),
    ("cli", "roster import: not text at all", lambda w: _roster(w, bytes(range(256)) * 4)),
    ("cli", "roster import: one good row and one bad (all or nothing)",
     lambda w: _roster(w, HEADER + "สมชาย ดี,reporter,52010101,0812340000,,th\nสมหญิง,reporter,52010101,0812,,th\n")),
    ("cli", "roster import: Telegram id that is not a number",
     lambda w: _roster(w, HEADER + "สมชาย,reporter,52010101,0812340000,abc,th\n")),
    ("cli", "roster import: unknown language",
     lambda w: _roster(w, HEADER + "สมชาย,reporter,52010101,0812340000,,fr\n")),
    ("cli", "invite create: unknown role", lambda w: w.cli("invite", "create", "--role", "king", "--area", "52010101")),
    ("cli", "invite create: unknown area", lambda w: w.cli("invite", "create", "--role", "reporter", "--area", "99")),
    ("cli", "invite create: expiry that is not a duration",
     lambda w: w.cli("invite", "create", "--role", "reporter", "--area", "52010101", "--expires", "soon")),
    ("cli", "invite create: zero uses",
     lambda w: w.cli("invite", "create", "--role", "reporter", "--area", "52010101", "--max-uses", "0")),
    ("cli", "invite revoke: unknown code", lambda w: w.cli("invite", "revoke", "NoSuchCode99")),
    ("cli", "member add: bad phone",
     lambda w: w.cli("member", "add", "--name", "สมชาย", "--role", "reporter", "--area", "52010101", "--phone", "12")),
    ("cli", "member add: unknown area",
     lambda w: w.cli("member", "add", "--name", "สมชาย", "--role", "reporter", "--area", "52019999")),
    ("cli", "member add: empty name",
     lambda w: w.cli("member", "add", "--name", "  ", "--role", "reporter", "--area", "52010101")),
    ("cli", "grant add: unknown member",
     lambda w: w.cli("grant", "add", "999999", "--role", "moderator", "--area", "520101")),
    ("cli", "outlet add: Telegram chat id that is not a number",
     lambda w: w.cli("outlet", "add", "--platform", "telegram", "--chat", "@@abc", "--area", "520101")),
    ("cli", "outlet add: unknown platform",
     lambda w: w.cli("outlet", "add", "--platform", "line", "--area", "520101")),
    ("cli", "deliveries resolve: delivery that is not unknown",
     lambda w: w.cli("deliveries", "resolve", str(w.delivery_id), "--posted")),
    ("cli", "deliveries resolve: delivery that does not exist",
     lambda w: w.cli("deliveries", "resolve", "999999", "--posted")),
    ("cli", "deliveries list: unknown state", lambda w: w.cli("deliveries", "list", "--state", "lost")),
    ("cli", "village add: 7-digit code", lambda w: w.cli("village", "add", "5201011", "--name", "บ้านใหม่")),
    ("cli", "village add: under a tambon that does not exist",
     lambda w: w.cli("village", "add", "99999901", "--name", "บ้านใหม่")),
    # bot --------------------------------------------------------------------------------------------
    ("bot", "/start with an unknown invite code", lambda w: w.bot_start(9001, "NoSuchCode123")),
    ("bot", "/start with markup as the code", lambda w: w.bot_start(9001, "<b>x</b><script>")),
    ("bot", "/start with an invite another person used", lambda w: w.bot_start(9002, w.invites["used"])),
    ("bot", "/start with a revoked invite", lambda w: w.bot_start(9003, w.invites["revoked"])),
    ("bot", "/start with an expired invite", lambda w: w.bot_start(9004, w.invites["expired"])),
    ("bot", "forged callback data (SQL tail)", lambda w: w.bot_press(2001, "m:a:1:1;DROP")),
    ("bot", "forged callback data (unknown verb)", lambda w: w.bot_press(2001, f"m:zz:{w.items['submitted']}:1")),
    ("bot", "callback for an item outside the presser's area",
     lambda w: w.bot_press(5001, callbacks.mod("a", w.items["submitted"], 1))),
    ("bot", "callback pressed by someone who is not a member",
     lambda w: w.bot_press(777777, callbacks.mod("a", w.items["submitted"], 1))),
    ("bot", "approve pressed by a reporter (wrong role)",
     lambda w: w.bot_press(1001, callbacks.mod("a", w.items["submitted"], 1))),
    ("bot", "approve pressed on a stale card (old version)",
     lambda w: w.bot_press(2001, callbacks.mod("a", w.items["submitted"], 7))),
    ("bot", "canned reason index out of range",
     lambda w: w.bot_press(2001, callbacks.mod("bc", w.items["submitted"], 1, 99))),
    ("bot", "schedule button with a time in the past",
     lambda w: w.bot_press(2001, callbacks.mod("t", w.items["submitted"], 1, 1))),
    ("bot", "callback for an item that does not exist", lambda w: w.bot_press(2001, callbacks.mod("a", 999999, 1))),
    ("bot", "'it is posted' on a delivery that is not unknown",
     lambda w: w.bot_press(2001, callbacks.delivery("p", w.delivery_id))),
    ("bot", "forged delivery callback", lambda w: w.bot_press(2001, "d:p:abc")),
    ("bot", "news with 11 photos", lambda w: w.bot_submit(photos=[jpeg()] * 11)),
    ("bot", "news text over the limit", lambda w: w.bot_submit(body=BIG_TEXT)),
    ("bot", "news with empty text", lambda w: w.bot_submit(body=" ")),
    ("bot", "news photo that is a PDF", lambda w: w.bot_submit(photos=[b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"])),
    ("bot", "news photo claiming 50,000 × 50,000 pixels",
     lambda w: w.bot_submit(photos=[png_claiming(50_000, 50_000)])),
    ("bot", "news photo of 0 bytes", lambda w: w.bot_submit(photos=[b""])),
    ("bot", "news for a village the reporter does not cover", lambda w: w.bot_submit(village="52010201")),
    # web --------------------------------------------------------------------------------------------
    ("web", "approve without a CSRF token",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/approve", {"version": "1"},
                         with_token=False)),
    ("web", "approve with a forged CSRF token",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/approve", {"version": "1"},
                         with_token="forged.token.value")),
    ("web", "approve by a reporter (wrong role)",
     lambda w: w.web_bad("reporter", "POST", f"/items/{w.items['submitted']}/approve", {"version": "1"})),
    ("web", "approve by a moderator of another province",
     lambda w: w.web_bad("outsider", "POST", f"/items/{w.items['submitted']}/approve", {"version": "1"})),
    ("web", "approve a stale version",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/approve", {"version": "9"})),
    ("web", "approve a PDPA-flagged item without confirming",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['flagged']}/approve", {"version": "1"})),
    ("web", "return with an empty reason",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/return",
                         {"version": "1", "reason": "   "})),
    ("web", "schedule at a time in the past",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/approve",
                         {"version": "1", "at": "2020-01-01T09:00"})),
    ("web", "schedule at a time that is not a time",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/approve",
                         {"version": "1", "at": "<script>alert(1)</script>"})),
    ("web", "edit with text over the limit",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/edit",
                         {"version": "1", "body": BIG_TEXT, "title": ""})),
    ("web", "edit with empty text",
     lambda w: w.web_bad("moderator", "POST", f"/items/{w.items['submitted']}/edit",
                         {"version": "1", "body": "  ", "title": ""})),
    ("web", "resolve a delivery that is not unknown",
     lambda w: w.web_bad("moderator", "POST", f"/deliveries/{w.delivery_id}/resolve", {"posted": "1"})),
    ("web", "retry a delivery that does not exist",
     lambda w: w.web_bad("moderator", "POST", "/deliveries/999999/retry", {})),
    ("web", "invite created by a reporter (wrong role)",
     lambda w: w.web_bad("reporter", "POST", "/roster/invites", {"role": "admin", "area": "TH"})),
    ("web", "invite for an unknown area",
     lambda w: w.web_bad("admin", "POST", "/roster/invites", {"role": "reporter", "area": "99999999"})),
    ("web", "feed of an unknown area", lambda w: w.web_bad(None, "GET", "/feeds/99999999.atom")),
    ("web", "item page of another province's item for its outsider",
     lambda w: w.web_bad("outsider", "GET", f"/items/{w.items['submitted']}")),
    ("web", "unsigned visitor posts an approval",
     lambda w: w.web_bad(None, "POST", f"/items/{w.items['submitted']}/approve", {"version": "1"})),
]


@pytest.mark.parametrize(("surface", "name", "case"), CASES, ids=[f"{s}: {n}" for s, n, _ in CASES])
def test_bad_input_gets_a_clear_error_and_changes_nothing(w: World, surface: str, name: str,
                                                          case: Callable[[World], str],
                                                          record_property: Callable[[str, object], None]) -> None:
    record_property("surface", surface)
    record_property("case", name)
    error = case(w)
    record_property("error", error[:200])
    record_property("unchanged", w.outcome.get("unchanged", ""))
    assert error.strip()
    assert w.outcome.get("unchanged") == "yes"


def test_the_corpus_is_large_and_covers_every_surface() -> None:
    surfaces = {s for s, _, _ in CASES}
    assert len(CASES) >= 60 and surfaces == {"cli", "bot", "web"}
