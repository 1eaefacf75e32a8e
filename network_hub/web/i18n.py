"""Dashboard wording: Thai first, English when the member (or the cookie) asks for it.

Domain labels (statuses, categories, PDPA flags) come from ``newsroom.labels`` for Thai and are
spelled out here for English; everything else the pages say is in ``MESSAGES``.
"""

from __future__ import annotations

from collections.abc import Callable

from network_hub.newsroom.labels import CATEGORY_TH, PDPA_FLAG_TH, STATUS_TH

LANGUAGES = ("th", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "app_name": ("ศูนย์ข่าวเครือข่ายประชาสัมพันธ์ตำบล", "Tambon PR Hub"),
    "app_short": ("ศูนย์ข่าวตำบล", "PR Hub"),
    "menu": ("เมนู", "Menu"),
    "nav_queue": ("คิวรอพิจารณา", "Queue"),
    "nav_items": ("ข่าวทั้งหมด", "News"),
    "nav_calendar": ("ปฏิทินเผยแพร่", "Calendar"),
    "nav_deliveries": ("รายการส่งที่ต้องตรวจ", "Deliveries"),
    "nav_roster": ("สมาชิก", "Roster"),
    "nav_outlets": ("ช่องทางเผยแพร่", "Outlets"),
    "nav_stats": ("สถิติ", "Statistics"),
    "nav_sandbox": ("ช่องทดลอง", "Sandbox"),
    "nav_status": ("สถานะระบบ", "Status"),
    "sign_in": ("เข้าสู่ระบบ", "Sign in"),
    "sign_out": ("ออกจากระบบ", "Sign out"),
    "account": ("เบอร์โทรศัพท์หรือหมายเลขสมาชิก", "Phone number or member number"),
    "password": ("รหัสผ่าน", "Password"),
    "bad_credentials": ("เบอร์โทรศัพท์/หมายเลขสมาชิก หรือรหัสผ่านไม่ถูกต้อง",
                        "The phone/member number or the password is wrong"),
    "locked_out": ("ลองเข้าสู่ระบบผิดหลายครั้งเกินไป กรุณารอจนถึง {until} แล้วลองใหม่",
                   "Too many failed sign-ins; try again after {until}"),
    "login_link_title": ("เข้าสู่ระบบด้วยลิงก์", "Sign in with a link"),
    "login_link_confirm": ("เข้าสู่ระบบในชื่อ {name}", "Sign in as {name}"),
    "no_password_hint": ("ยังไม่มีรหัสผ่าน? ขอลิงก์เข้าสู่ระบบจากบอท Telegram ของเครือข่าย",
                         "No password yet? Ask the network's Telegram bot for a sign-in link"),
    "language": ("ภาษา", "Language"),
    "switch_language": ("English", "ภาษาไทย"),
    "queue_empty": ("ไม่มีข่าวรอพิจารณาในพื้นที่ของท่าน", "No news is waiting in your areas"),
    "approve_now": ("อนุมัติ เผยแพร่ทันที", "Approve now"),
    "schedule_at": ("หรือตั้งเวลาเผยแพร่", "or schedule for"),
    "approve_schedule": ("อนุมัติและตั้งเวลา", "Approve and schedule"),
    "confirm_pdpa": ("ข้าพเจ้าตรวจสอบข้อมูลส่วนบุคคลแล้ว และยืนยันให้เผยแพร่",
                     "I checked the personal data and confirm it may be published"),
    "pdpa_warning": ("คำเตือน PDPA: อาจมีข้อมูลส่วนบุคคล", "PDPA warning: may contain personal data"),
    "reason": ("เหตุผล (ส่งถึงผู้ส่งข่าว)", "Reason (sent to the author)"),
    "return": ("ส่งกลับให้แก้ไข", "Return for changes"),
    "reject": ("ไม่อนุมัติ", "Reject"),
    "reschedule": ("เลื่อนเวลา", "Reschedule"),
    "unschedule": ("ยกเลิกการตั้งเวลา", "Cancel schedule"),
    "withdraw": ("ถอนข่าว", "Withdraw"),
    "correct": ("แก้ไขข่าวที่เผยแพร่แล้ว", "Correct the published text"),
    "edit": ("แก้ไขก่อนอนุมัติ", "Edit before approving"),
    "save": ("บันทึก", "Save"),
    "title": ("หัวข้อ", "Title"),
    "body": ("เนื้อหา", "Text"),
    "village": ("หมู่บ้าน", "Village"),
    "category": ("หมวด", "Category"),
    "author": ("ผู้ส่ง", "Author"),
    "status": ("สถานะ", "Status"),
    "submitted_at": ("ส่งเมื่อ", "Submitted"),
    "scheduled_at": ("กำหนดเผยแพร่", "Scheduled for"),
    "published_at": ("เผยแพร่เมื่อ", "Published"),
    "receipt": ("เลขรับ", "Receipt"),
    "history": ("ประวัติ", "History"),
    "deliveries": ("การส่งไปยังช่องทาง", "Deliveries"),
    "outlet": ("ช่องทาง", "Outlet"),
    "state": ("สถานะ", "State"),
    "attempts": ("จำนวนครั้งที่ส่ง", "Attempts"),
    "link": ("ลิงก์", "Link"),
    "last_error": ("ข้อผิดพลาดล่าสุด", "Last error"),
    "open_post": ("ดูโพสต์", "Open post"),
    "photos": ("ภาพ", "Photos"),
    "filter": ("กรอง", "Filter"),
    "all": ("ทั้งหมด", "All"),
    "area": ("พื้นที่ (รหัส)", "Area (code)"),
    "week": ("สัปดาห์", "Week"),
    "month": ("เดือน", "Month"),
    "previous": ("ก่อนหน้า", "Previous"),
    "next": ("ถัดไป", "Next"),
    "today": ("วันนี้", "Today"),
    "nothing_scheduled": ("ไม่มีข่าวที่ตั้งเวลาไว้ในช่วงนี้", "Nothing scheduled in this period"),
    "needs_person": ("รายการส่งที่ต้องให้คนตรวจสอบ", "Deliveries that need a person"),
    "unknown_help": ("ไม่แน่ใจว่าโพสต์แล้วหรือไม่ กรุณาเปิดดูที่ช่องทางแล้วตอบ",
                     "The platform may or may not have posted it: look at the outlet, then answer"),
    "it_is_posted": ("โพสต์แล้ว", "It is posted"),
    "send_it": ("ยังไม่ได้โพสต์ ส่งใหม่", "Not posted: send it"),
    "retry": ("ส่งใหม่", "Retry"),
    "none_needing_person": ("ไม่มีรายการที่ต้องตรวจสอบ", "Nothing needs a person"),
    "members": ("สมาชิก", "Members"),
    "grants": ("บทบาท", "Roles"),
    "invites": ("ลิงก์เชิญ", "Invites"),
    "create_invite": ("สร้างลิงก์เชิญ", "Create an invite"),
    "role": ("บทบาท", "Role"),
    "max_uses": ("ใช้ได้กี่ครั้ง", "Max uses"),
    "expires_days": ("หมดอายุใน (วัน)", "Expires in (days)"),
    "revoke": ("ยกเลิก", "Revoke"),
    "copy": ("คัดลอก", "Copy"),
    "export_csv": ("ส่งออก CSV", "Export CSV"),
    "phone": ("โทรศัพท์", "Phone"),
    "unreachable": ("ติดต่อทางบอทไม่ได้", "Unreachable by the bot"),
    "pause": ("หยุดชั่วคราว", "Pause"),
    "resume": ("เปิดใช้งาน", "Resume"),
    "check": ("ตรวจสอบการเชื่อมต่อ", "Check"),
    "platform": ("แพลตฟอร์ม", "Platform"),
    "health": ("สุขภาพ", "Health"),
    "last_check": ("ตรวจล่าสุด", "Last check"),
    "blocked_until": ("ถูกจำกัดถึง", "Blocked until"),
    "period_from": ("ตั้งแต่วันที่", "From"),
    "period_to": ("ถึงวันที่", "To"),
    "show": ("แสดง", "Show"),
    "submitted": ("ส่งข่าว", "Submitted"),
    "approved": ("อนุมัติ", "Approved"),
    "published": ("เผยแพร่", "Published"),
    "median_approve": ("เวลาอนุมัติ (มัธยฐาน ชม.)", "Median time to approve (h)"),
    "days_since": ("วันที่ไม่มีข่าว", "Days since last news"),
    "never": ("ยังไม่เคยส่ง", "never"),
    "totals": ("รวม", "Total"),
    "sandbox_intro": ("โพสต์ในช่องทดลอง แสดงแบบที่ผู้ติดตามจะเห็น", "Sandbox posts, as residents would see them"),
    "sandbox_empty": ("ยังไม่มีโพสต์ในช่องทดลอง", "No sandbox posts yet"),
    "processes": ("โปรเซสที่ทำงาน", "Processes"),
    "last_tick": ("ทำงานล่าสุด", "Last tick"),
    "alive": ("ทำงานอยู่", "alive"),
    "stale": ("ไม่ตอบสนอง", "stale"),
    "oldest_due": ("รายการที่ค้างนานที่สุด (วินาที)", "Oldest due delivery (s)"),
    "blocked_outlets": ("ช่องทางที่หยุดหรือถูกจำกัด", "Paused or blocked outlets"),
    "waiting_approval": ("ข่าวรอพิจารณา", "Items waiting for approval"),
    "by_state": ("รายการส่งตามสถานะ", "Deliveries by state"),
    "error_title": ("ไม่สามารถทำรายการได้", "That did not work"),
    "back": ("ย้อนกลับ", "Back"),
    "done_ok": ("บันทึกเรียบร้อย", "Done"),
    "csrf_refused": ("แบบฟอร์มหมดอายุหรือไม่ถูกต้อง กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง",
                     "The form expired or is not genuine; reload the page and try again"),
    "view": ("ดู", "View"),
    "pdpa_flags": ("ข้อมูลส่วนบุคคล", "PDPA flags"),
    "consent": ("คำตอบเรื่องภาพ", "Photo consent"),
    "feeds": ("ฟีดข่าวสาธารณะ", "Public feeds"),
    "chart": ("แผนภูมิ", "Chart"),
    "no_items": ("ไม่มีข่าว", "No news"),
    "version": ("ฉบับที่", "Version"),
    "via": ("ผ่าน", "via"),
    "who": ("ผู้ทำ", "By"),
    "when": ("เมื่อ", "When"),
    "action": ("การกระทำ", "Action"),
}

STATUS_EN = {
    "submitted": "Waiting for approval", "changes_requested": "Returned for changes", "rejected": "Rejected",
    "approved": "Approved", "scheduled": "Scheduled", "publishing": "Publishing", "published": "Published",
    "partially_published": "Partly published", "failed": "Failed", "withdrawn": "Withdrawn",
}
CATEGORY_EN = {
    "development_result": "Development result", "local_product": "Local product",
    "community_charm": "Community charm", "announcement": "Announcement", "event": "Event",
}
PDPA_EN = {
    "thai_national_id": "Thai ID number", "phone_number": "Phone number", "minor": "Child (minor)",
    "health_or_disability": "Health or disability", "bank_account": "Bank account",
}
ROLE_TH = {"reporter": "ผู้ส่งข่าว", "moderator": "ผู้ตรวจข่าว", "coordinator": "ผู้ประสานงาน", "admin": "ผู้ดูแลระบบ"}


def translator(language: str) -> Callable[..., str]:
    index = 1 if language == "en" else 0

    def t(key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t


def status_label(status: str, language: str) -> str:
    return STATUS_EN.get(status, status) if language == "en" else STATUS_TH.get(status, status)


def category_label(category: str, language: str) -> str:
    return CATEGORY_EN.get(category, category) if language == "en" else CATEGORY_TH.get(category, category)


def pdpa_label(flag: str, language: str) -> str:
    return PDPA_EN.get(flag, flag) if language == "en" else PDPA_FLAG_TH.get(flag, flag)


def role_label(role: str, language: str) -> str:
    return role if language == "en" else ROLE_TH.get(role, role)
