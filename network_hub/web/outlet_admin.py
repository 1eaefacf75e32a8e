"""Adding an outlet on the web (Telegram channel or group, or a sandbox), for MANAGE_OUTLETS.

A Telegram outlet is saved only after the publisher's own ``check()`` says the bot may post there
(member of the group, or administrator with "Post messages" in a channel): the outlet is first
built in a transaction that is rolled back (the same validation as ``outlet add``), the check runs
against it, and only a passing check saves it — with the check's result recorded, so the outlets
page shows it healthy at once. A failing check re-renders the form with what to fix, in Thai.
Facebook Pages are connected by signing in with Facebook (the UI work, issue 13 part 3); LINE
groups are picked on the LINE page.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from network_hub.errors import HubError, InvalidInput
from network_hub.outlets import add_outlet
from network_hub.permissions import Action, require
from network_hub.web.area_picker import build_picker, require_chosen, viewer_roots
from network_hub.web.deps import CSRF, VIEWER, Viewer, get_hub, transaction
from network_hub.web.members_admin import page, status_of
from publishers.base import CheckResult, PublishError
from publishers.registry import Publishers, target_for

router = APIRouter()
PLATFORMS = ("telegram", "sandbox")
VERDICT_TH = {
    "not_configured": "ยังไม่ได้ตั้งค่าโทเคนบอท Telegram (HUB_TELEGRAM_BOT_TOKEN) กรุณาให้ผู้ดูแลระบบตั้งค่าก่อน",
    "token_invalid": "Telegram ไม่รับโทเคนของบอท กรุณาตรวจสอบ HUB_TELEGRAM_BOT_TOKEN",
    "unreachable": "ติดต่อ Telegram ไม่ได้ในขณะนี้ กรุณาลองใหม่อีกครั้ง",
    "bad_address": "ที่อยู่ช่องทางไม่ถูกต้อง ใช้ @ชื่อช่อง หรือรหัสแชทที่ขึ้นต้นด้วย -100",
    "chat_not_found": "ไม่พบช่อง/กลุ่มนี้ หรือบอทยังไม่ได้อยู่ในนั้น กรุณาเพิ่มบอทเข้าช่องแล้วตรวจรหัสอีกครั้ง",
    "chat_migrated": "กลุ่มนี้ถูกเปลี่ยนเป็นซูเปอร์กรุ๊ปแล้ว กรุณาใช้รหัสแชทใหม่",
    "not_member": "บอทยังไม่ได้เป็นสมาชิกของช่อง/กลุ่มนี้ กรุณาเพิ่มบอทก่อน",
    "not_admin": "บอทยังไม่ได้เป็นผู้ดูแล (แอดมิน) ของช่องนี้ กรุณาตั้งบอทเป็นผู้ดูแลที่ «โพสต์ข้อความ» ได้",
    "cannot_post": "บอทยังไม่มีสิทธิ์โพสต์ข้อความในช่อง/กลุ่มนี้ กรุณาเปิดสิทธิ์ «โพสต์ข้อความ» ให้บอท",
    "rate_limited": "Telegram ขอให้รอสักครู่ กรุณาลองใหม่อีกครั้ง",
}


def _view(request: Request, viewer: Viewer, form: FormData | dict[str, Any], *, error: str | None = None,
          detail: str = "", status_code: int = 200) -> Response:
    with transaction(request) as session:
        picker = build_picker(session, form, viewer_roots(viewer, Action.MANAGE_OUTLETS), language=viewer.language)
    return page(request, "outlet_new.html", status_code=status_code, picker=picker, form=form, error=error,
                detail=detail, platforms=PLATFORMS)


@router.get("/outlets/new")
def new_outlet_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    return _view(request, viewer, request.query_params)


@router.post("/outlets/new", dependencies=[CSRF])
async def add_outlet_route(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    form = await request.form()
    if form.get("step"):
        return _view(request, viewer, form)
    hub = get_hub(request)
    fields = {"platform": str(form.get("platform", "")), "address": str(form.get("address", "")).strip() or None,
              "name": str(form.get("name", "")).strip() or None}
    try:
        if fields["platform"] not in PLATFORMS:
            raise InvalidInput(f"{fields['platform']!r} cannot be added here",
                               "เลือกแพลตฟอร์ม Telegram หรือช่องทดลอง (Facebook และ LINE เชื่อมจากหน้าของแต่ละแพลตฟอร์ม)")
        area = require_chosen(form)

        def rehearse() -> Any:
            """Build the outlet as ``outlet add`` would, take its target, and keep nothing."""
            session = hub.sessions()
            try:
                outlet = add_outlet(session, area_code=area, now=hub.clock.now(), actor=viewer.actor, **fields)
                require(viewer.actor, Action.MANAGE_OUTLETS, outlet.area_code)
                return target_for(outlet)
            finally:
                session.rollback()
                session.close()

        target = await asyncio.to_thread(rehearse)
    except HubError as exc:
        return _view(request, viewer, form, error=exc.message(viewer.language), status_code=status_of(exc))
    except PublishError as exc:
        return _view(request, viewer, form, error=VERDICT_TH.get(str(exc.code), exc.message), detail=exc.message,
                     status_code=400)
    publishers = Publishers(hub.settings)
    try:
        result: CheckResult = await publishers.get(fields["platform"]).check(target)
    except PublishError as exc:
        result = CheckResult(False, str(exc.code or exc.error_class.value), exc.message)
    finally:
        await publishers.aclose()
    if not result.ok:
        message = VERDICT_TH.get(result.verdict, "ตรวจสอบช่องทางไม่ผ่าน กรุณาตรวจสิทธิ์ของบอทแล้วลองใหม่")
        return _view(request, viewer, form, error=message, detail=result.detail, status_code=400)

    def save() -> int:
        with hub.transaction() as session:
            outlet = add_outlet(session, area_code=area, now=hub.clock.now(), actor=viewer.actor, **fields)
            outlet.last_check_at, outlet.last_check_ok = hub.clock.now(), True
            outlet.last_check_verdict, outlet.last_check_detail = result.verdict, result.detail
            return outlet.id

    try:
        await asyncio.to_thread(save)
    except HubError as exc:  # e.g. someone added the same chat meanwhile
        return _view(request, viewer, form, error=exc.message(viewer.language), status_code=status_of(exc))
    return RedirectResponse("/outlets?done=added", status_code=303)
