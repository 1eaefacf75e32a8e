"""Adding a Telegram outlet on the web: saved only when the bot may post there (checked on the
loopback Telegram fake), with the check recorded; a sandbox outlet; refusals change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from network_hub.db.models import Outlet
from platform_fakes.telegram import FakeTelegram
from tests.web.conftest import csrf_of


def _outlets(world) -> int:
    with world.hub.transaction() as s:
        return s.scalar(select(func.count()).select_from(Outlet))


def test_a_telegram_outlet_is_saved_only_after_the_bot_may_post(world, signed_in) -> None:
    with FakeTelegram() as telegram:
        settings = world.hub.settings
        settings.telegram_bot_token = telegram.token
        settings.telegram_api_base_url = telegram.base_url
        settings.telegram_file_base_url = telegram.file_base_url
        telegram.add_channel(-1001234567890, title="ข่าวตำบลเวียงเหนือ", bot_status="member")
        client = signed_in("admin")
        token = csrf_of(client, "/outlets/new")
        form = {"csrf_token": token, "platform": "telegram", "address": "-1001234567890",
                "name": "ข่าวตำบลเวียงเหนือ", "area_hit": "520101"}
        before = _outlets(world)
        refused = client.post("/outlets/new", data=form)
        assert refused.status_code == 400 and "ผู้ดูแล (แอดมิน)" in refused.text
        assert 'value="ข่าวตำบลเวียงเหนือ"' in refused.text  # the form comes back filled in
        unknown = client.post("/outlets/new", data={**form, "address": "-1009999999999"})
        assert unknown.status_code == 400 and "ไม่พบช่อง" in unknown.text
        assert _outlets(world) == before
        telegram.add_channel(-1001234567890, title="ข่าวตำบลเวียงเหนือ")  # now an administrator
        saved = client.post("/outlets/new", data=form)
        assert saved.status_code == 303, saved.text
        with world.hub.transaction() as s:
            outlet = s.scalar(select(Outlet).where(Outlet.address == "-1001234567890"))
            assert outlet.area_code == "520101" and outlet.last_check_ok is True
        again = client.post("/outlets/new", data=form)
        assert again.status_code == 409 and "มีอยู่แล้ว" in again.text


def test_sandbox_outlet_and_refusals(world, signed_in) -> None:
    client = signed_in("admin")
    token = csrf_of(client, "/outlets/new")
    page = client.get("/outlets/new")
    assert page.status_code == 200 and "จ.ลำปาง" in page.text
    before = _outlets(world)
    no_area = client.post("/outlets/new", data={"csrf_token": token, "platform": "sandbox", "address": "wiang"})
    assert no_area.status_code == 400 and "กรุณาเลือกพื้นที่" in no_area.text
    facebook = client.post("/outlets/new", data={"csrf_token": token, "platform": "facebook", "address": "1",
                                                 "area_hit": "520101"})
    assert facebook.status_code == 400
    assert _outlets(world) == before
    ok = client.post("/outlets/new", data={"csrf_token": token, "platform": "sandbox", "address": "wiang-nuea",
                                           "area_hit": "520101", "name": "ทดลองเวียงเหนือ"})
    assert ok.status_code == 303
    assert _outlets(world) == before + 1
    client.cookies.clear()
    moderator = signed_in("moderator")
    token = csrf_of(moderator, "/roster")
    assert moderator.get("/outlets/new").status_code == 403
    assert moderator.post("/outlets/new", data={"csrf_token": token, "platform": "sandbox", "address": "x",
                                                "area_hit": "520101"}).status_code == 403
    assert _outlets(world) == before + 1
