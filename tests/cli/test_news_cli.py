"""``network-hub news …`` end to end through ``main()`` on the test databases (both, via the hub fixture)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from network_hub.cli import news as news_cli
from network_hub.cli.app import main
from network_hub.db.models import Delivery, NewsItem, Notification
from network_hub.hub import Hub
from tests.factories import People, seed_network
from tests.newsroom.conftest import add_outlet

CliRun = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CliRun:
    """Run the CLI against the test hub; returns (exit code, stdout, stderr)."""
    hub.settings.media_dir = tmp_path / "media"
    monkeypatch.setattr(news_cli, "get_hub", lambda: hub)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def people(hub: Hub) -> People:
    with hub.transaction() as session:
        people = seed_network(session, hub.clock.now())
        add_outlet(session, hub.clock.now(), "520101")
    return people


def _json(out: str) -> Any:
    return json.loads(out)


def _submit(cli: CliRun, people: People, *extra: str) -> dict[str, Any]:
    code, out, err = cli("news", "submit", "--village", "52010101", "--author", str(people.reporter.id),
                         "--category", "event", "--text", "งานบุญประจำปี\nเชิญชาวบ้านร่วมงาน", "--json", *extra)
    assert code == 0, err
    return _json(out)


def test_submit_approve_show_list(cli: CliRun, people: People, hub: Hub) -> None:
    item = _submit(cli, people)
    assert item["status"] == "submitted" and item["receipt_no"].startswith("NH-2569-")
    assert item["title"] == "งานบุญประจำปี" and item["author"] == people.reporter.id

    code, out, err = cli("news", "approve", str(item["id"]), "--by", "+66812345603", "--json")
    assert code == 0, err
    approved = _json(out)
    assert approved["status"] == "approved" and len(approved["deliveries"]) == 1

    code, out, _ = cli("news", "show", item["receipt_no"], "--json")
    shown = _json(out)
    assert [h["action"] for h in shown["history"]] == ["news.submit", "news.approve"]
    assert shown["deliveries"][0]["state"] == "pending" and shown["allowed_actions"] == ["withdraw"]

    code, out, _ = cli("news", "list", "--status", "approved", "--json")
    assert [i["id"] for i in _json(out)] == [item["id"]]
    code, out, _ = cli("news", "list", "--area", "50", "--json")
    assert _json(out) == []
    code, out, _ = cli("news", "show", str(item["id"]))
    assert code == 0 and "news.approve" in out and "เชิญชาวบ้านร่วมงาน" in out


def test_submit_with_photo_file_and_children_answer(cli: CliRun, people: People, tmp_path: Path) -> None:
    photo = tmp_path / "งานบุญ.png"
    Image.new("RGB", (20, 10), "red").save(photo)
    text_file = tmp_path / "news.txt"
    text_file.write_text("\ufeffเด็ก ๆ ร่วมแห่เทียน", encoding="utf-8")
    item = _submit(cli, people, "--photo", str(photo), "--photos-show-children")
    assert item["pdpa_flags"] == ["minor"] and len(item["photos"]) == 1
    assert (tmp_path / "media" / item["photos"][0]["path"]).is_file()
    code, out, err = cli("news", "submit", "--village", "52010101", "--author", "tg:1001", "--category",
                         "event", "--text-file", str(text_file))
    assert code == 0, err
    assert "เด็ก ๆ ร่วมแห่เทียน" in out


def test_pdpa_needs_confirm_flag(cli: CliRun, people: People) -> None:
    code, out, err = cli("news", "submit", "--village", "52010101", "--author", str(people.reporter.id), "--category",
                         "announcement", "--text", "ติดต่อ 081-234-5678", "--json")
    item = _json(out)
    code, out, err = cli("news", "approve", str(item["id"]), "--by", str(people.moderator.id))
    assert code == 6 and "--confirm-pdpa" in err and "ข้อมูลส่วนบุคคล" in err
    code, out, err = cli("news", "approve", str(item["id"]), "--by", str(people.moderator.id), "--confirm-pdpa")
    assert code == 0, err


def test_schedule_reschedule_unschedule_in_bangkok_time(cli: CliRun, people: People, hub: Hub) -> None:
    item = _submit(cli, people)
    by = ("--by", str(people.moderator.id))
    code, out, err = cli("news", "approve", str(item["id"]), *by, "--at", "2026-11-24 09:00")
    assert code == 2 and "past" in err  # T0 is 10:00 Bangkok
    code, out, err = cli("news", "approve", str(item["id"]), *by, "--at", "2026-11-25 08:30", "--json")
    assert code == 0, err
    assert _json(out)["scheduled_at"] == "2026-11-25T01:30:00+00:00"
    code, out, err = cli("news", "reschedule", str(item["id"]), *by, "--at", "2026-11-26 18:00", "--json")
    assert code == 0 and _json(out)["scheduled_at"] == "2026-11-26T11:00:00+00:00"
    code, out, err = cli("news", "unschedule", str(item["id"]), *by, "--json")
    assert code == 0 and _json(out)["status"] == "submitted"
    with hub.transaction() as s:
        assert set(s.scalars(select(Delivery.state))) == {"cancelled"}


def test_return_resubmit_reject_and_errors(cli: CliRun, people: People, hub: Hub) -> None:
    item = _submit(cli, people)
    ident, mod = str(item["id"]), str(people.moderator.id)
    code, _, err = cli("news", "return", ident, "--by", mod, "--reason", "ขอรูปประกอบ")
    assert code == 0, err
    code, _, err = cli("news", "return", ident, "--by", mod, "--reason", "ขอรูปประกอบ")
    assert code == 5 and "changes_requested" in err  # a repeated action: conflict, nothing changed
    code, _, err = cli("news", "resubmit", ident, "--by", mod, "--text", "ใหม่")
    assert code == 4 and "only the author" in err
    code, out, err = cli("news", "resubmit", ident, "--by", str(people.reporter.id), "--text", "แก้แล้ว", "--json")
    assert code == 0 and _json(out)["status"] == "submitted"
    code, _, err = cli("news", "reject", ident, "--by", mod, "--reason", "")
    assert code == 2 and "reason is required" in err
    code, out, err = cli("news", "reject", ident, "--by", mod, "--reason", "ซ้ำกับข่าวเดิม", "--json")
    assert code == 0 and _json(out)["decision_reason"] == "ซ้ำกับข่าวเดิม"
    with hub.transaction() as s:
        kinds = list(s.scalars(select(Notification.kind).order_by(Notification.id)))
    assert kinds == ["item_received", "item_returned", "item_rejected"]


def test_own_item_refused_and_bad_input_exits_non_zero(cli: CliRun, people: People, hub: Hub) -> None:
    code, out, err = cli("news", "submit", "--village", "52010101", "--author", str(people.moderator.id),
                         "--category", "event", "--text", "ข่าวของผู้ดูแล", "--json")
    assert code == 0, err
    own = _json(out)
    code, _, err = cli("news", "approve", str(own["id"]), "--by", str(people.moderator.id))
    assert code == 4 and "own item" in err
    author = ("--author", str(people.reporter.id), "--category", "event")
    code, _, err = cli("news", "submit", "--village", "52010101", *author)
    assert code == 2 and "--text" in err
    code, _, err = cli("news", "submit", "--village", "5201", *author, "--text", "x")
    assert code == 2 and "village code" in err
    code, _, err = cli("news", "submit", "--village", "52010101", *author, "--text", "x", "--photo", "/nonexistent.jpg")
    assert code == 2 and "does not exist" in err
    code, _, err = cli("news", "show", "424242")
    assert code == 3
    with hub.transaction() as s:
        assert len(s.scalars(select(NewsItem)).all()) == 1


def test_correct_and_withdraw_a_published_item(cli: CliRun, people: People, hub: Hub) -> None:
    item = _submit(cli, people)
    mod = str(people.moderator.id)
    assert cli("news", "approve", str(item["id"]), "--by", mod)[0] == 0
    with hub.transaction() as s:  # the dispatcher's part, done by hand
        s.get(NewsItem, item["id"]).status = "published"
        for d in s.scalars(select(Delivery)):
            d.state, d.external_ids = "sent", ["123"]
    code, out, err = cli("news", "correct", str(item["id"]), "--by", mod, "--text", "แก้ไขวันที่จัดงาน", "--json")
    assert code == 0 and _json(out)["body"] == "แก้ไขวันที่จัดงาน", err
    code, out, err = cli("news", "withdraw", str(item["id"]), "--by", mod, "--reason", "งานเลื่อน", "--json")
    assert code == 0 and _json(out)["status"] == "withdrawn"
    with hub.transaction() as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.followup_action, d.followup_state) == ("delete", "pending")


def test_moderation_commands_run_as_the_hub_without_by(cli: CliRun, people: People, hub: Hub) -> None:
    """README: every command runs as the hub itself unless --by names the member acting."""
    item = _submit(cli, people)
    code, out, err = cli("news", "approve", str(item["id"]), "--json")
    assert code == 0, err
    assert _json(out)["status"] == "approved"
    code, out, err = cli("news", "show", str(item["id"]))
    assert code == 0, err
    assert "+07" in out and "+00:00" not in out  # history times in the hub's timezone
