"""``roster import --invites``, ``invite create --member`` and ``member merge`` end to end (in-process)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from network_hub.cli.common import get_hub
from network_hub.db.models import Invite, Member, RoleGrant
from network_hub.roster.invites import redeem_invite
from tests.cli.test_roster_cli import Cli, cli, cli_template_fixture  # noqa: F401 - fixtures


def test_roster_import_with_invites_prints_one_personal_link_per_member(cli: Cli, tmp_path: Path,  # noqa: F811
                                                                       monkeypatch) -> None:
    monkeypatch.setenv("HUB_TELEGRAM_BOT_USERNAME", "koka_pr_bot")
    get_hub.cache_clear()
    sheet = tmp_path / "village.csv"
    sheet.write_text("name,role,area_code,phone\nมาลี ดีใจ,reporter,52010101,0811111111\n"
                     "ชูใจ ใฝ่ดี,reporter,52010101,0822222222\n"
                     "สมศรี ใจดี,reporter,52010101,0812345601\n",  # already on Telegram (seeded)
                     encoding="utf-8-sig")
    result = cli("roster", "import", str(sheet), "--invites")
    assert result.code == 0, result.err
    links = [line for line in result.out.splitlines() if "https://t.me/koka_pr_bot?start=" in line]
    assert len(links) == 2 and any("มาลี ดีใจ" in line for line in links)
    assert any("สมศรี ใจดี" in line and "linked" in line for line in result.out.splitlines())
    with get_hub().sessions() as s:
        personal = list(s.scalars(select(Invite).where(Invite.member_id.is_not(None))))
        assert len(personal) == 2 and all(i.max_uses == 1 for i in personal)
    # Importing again reuses the same links (a reprinted sheet stays valid).
    again = cli("roster", "import", str(sheet), "--invites")
    assert sorted(line for line in again.out.splitlines() if "start=" in line) == sorted(links)
    with get_hub().transaction() as s:
        code = personal[0].code
        member, _ = redeem_invite(s, code, telegram_user_id=650001, name="x", now=get_hub().clock.now())
        assert member.id == personal[0].member_id


def test_a_bad_import_makes_no_invites(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    bad = tmp_path / "bad.csv"
    bad.write_text("name,role,area_code\nดี,reporter,52010101\nไม่ดี,reporter,99999999\n", encoding="utf-8")
    before = cli.counts()
    result = cli("roster", "import", str(bad), "--invites")
    assert result.code == 2 and "line 3" in result.err
    assert cli.counts() == before


def test_invite_create_for_a_member(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    assert cli("member", "add", "--name", "วันดี", "--role", "reporter", "--area", "52010102",
               "--phone", "0833333333").code == 0
    result = cli("invite", "create", "--member", "0833333333", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["role"] == "reporter" and data["area_code"] == "52010102" and data["member_id"]
    # On Telegram only: a personal link is still made — it links the member's LINE account.
    on_telegram = cli("invite", "create", "--member", "tg:1001", "--json")
    assert on_telegram.code == 0, on_telegram.err
    assert on_telegram.json()["member_id"]
    # Linked on both platforms: no personal link (Thai and English message), nothing changed.
    with get_hub().transaction() as s:
        member = s.scalar(select(Member).where(Member.telegram_user_id == 1001))
        member.line_user_id = "U" + "2" * 32
    before = cli.counts()
    refused = cli("invite", "create", "--member", "tg:1001")
    assert refused.code == 5 and "already linked" in refused.err
    no_role = cli("invite", "create")
    assert no_role.code == 2 and "--member" in no_role.err
    assert cli.counts() == before


def test_member_merge(cli: Cli) -> None:  # noqa: F811
    assert cli("member", "add", "--name", "มานี", "--role", "reporter", "--area", "52010101",
               "--phone", "0844444444").code == 0
    assert cli("member", "add", "--name", "Manee TG", "--role", "reporter", "--area", "52010102",
               "--telegram-id", "650002").code == 0
    with get_hub().sessions() as s:
        keep = s.scalar(select(Member.id).where(Member.phone == "+66844444444"))
        other = s.scalar(select(Member.id).where(Member.telegram_user_id == 650002))
    result = cli("member", "merge", str(keep), "tg:650002", "--reason", "one person")
    assert result.code == 0, result.err
    with get_hub().sessions() as s:
        assert s.get(Member, other) is None
        kept = s.get(Member, keep)
        assert kept.telegram_user_id == 650002
        assert s.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.member_id == keep)) == 2
    before = cli.counts()
    assert cli("member", "merge", str(keep), str(keep)).code == 2
    assert cli("member", "merge", "tg:1001", "tg:1002").code == 5  # two phones, two accounts
    assert cli("member", "merge", str(keep), "tg:1002", "--by", "tg:2001").code == 4  # a moderator
    assert cli.counts() == before


def test_roster_import_makes_no_invites_without_a_bot_username(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    sheet = tmp_path / "village.csv"
    sheet.write_text("name,role,area_code,phone\nมาลี ดีใจ,reporter,52010101,0811111111\n", encoding="utf-8")
    result = cli("roster", "import", str(sheet), "--invites")
    assert result.code == 0 and "HUB_TELEGRAM_BOT_USERNAME" in result.err and "start=" not in result.out
    with get_hub().sessions() as s:
        assert s.scalar(select(func.count()).select_from(Invite)) == 0
        assert s.scalar(select(func.count()).select_from(Member).where(Member.phone == "+66811111111")) == 1
