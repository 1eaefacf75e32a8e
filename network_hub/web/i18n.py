"""Dashboard wording: Thai first, English when the member (or the cookie) asks for it.

Domain labels (statuses, categories, PDPA flags) come from ``newsroom.labels`` for Thai and are
spelled out here for English; everything else the pages say is in ``MESSAGES``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from network_hub.newsroom.labels import CATEGORY_TH, PDPA_FLAG_TH, STATUS_TH

LANGUAGES = ("th", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "app_name": ("ศูนย์ข่าวเครือข่ายประชาสัมพันธ์ตำบล", "Tambon PR Hub"),
    "app_short": ("ศูนย์ข่าวตำบล", "PR Hub"),
    "menu": ("เมนู", "Menu"),
    "new_time": ("เวลาเผยแพร่ใหม่", "New time"),
    "decision_reason": ("เหตุผลของผู้ตรวจข่าว", "Moderator's reason"),
    "pause_reason": ("เหตุผลที่หยุด (ผู้ดูแลเห็นเท่านั้น)", "Why it is paused (seen by the office only)"),
    "paused_because": ("หยุดเพราะ", "Paused because"),
    "technical_detail": ("รายละเอียดทางเทคนิค", "Technical detail"),
    "seconds_ago": ("ผ่านมา (วินาที)", "Seconds ago"),
    "process_id": ("รหัสโปรเซส", "Process"),
    "queue_empty_new_hub": ("ยังไม่มีข่าวเข้ามา เริ่มจากเชิญผู้ส่งข่าวในหน้า “สมาชิก” แล้วให้ส่งข่าวผ่านบอท Telegram ข่าวจะมารอที่นี่",
                            "No news yet. Invite reporters on the Roster page; "
                            "the news they send through the Telegram bot waits here."),
    "queue_empty_next": ("ข่าวที่ส่งมาใหม่จะแสดงที่นี่ ดูข่าวที่ตั้งเวลาไว้ได้ใน “ปฏิทินเผยแพร่”",
                         "New news will appear here; scheduled news is on the Calendar."),
    "go_roster": ("ไปหน้าสมาชิก", "Open the roster"),
    "go_calendar": ("ไปหน้าปฏิทิน", "Open the calendar"),
    "expires_on": ("หมดอายุ {date}", "expires {date}"),
    "uses_of": ("ใช้แล้ว {uses}/{max} ครั้ง", "used {uses} of {max}"),
    "post_link": ("ดูในช่องทดลอง", "View in the sandbox"),
    "calendar_heading_month": ("{month} พ.ศ. {year}", "{month} {year}"),
    "calendar_heading_week": ("สัปดาห์ {start} – {end}", "Week {start} – {end}"),
    "go_to": ("ไปที่", "Go to"),
    "all_areas": ("ทุกพื้นที่ของท่าน", "All your areas"),
    "invite_needs_bot": ("ลิงก์และ QR จะแสดงเมื่อตั้งค่าบอท Telegram แล้ว",
                         "The link and QR code appear once the Telegram bot is set up"),
    "no_bot_title": ("ยังไม่ได้ตั้งค่าบอท Telegram จึงยังพิมพ์ลิงก์เชิญหรือ QR ไม่ได้",
                     "No Telegram bot is set up yet, so there are no invite links or QR codes to print"),
    "no_bot_howto": ("วิธีตั้งค่า: สร้างบอทกับ @BotFather ใน Telegram แล้วให้ผู้ดูแลเซิร์ฟเวอร์ใส่ HUB_TELEGRAM_BOT_TOKEN และ "
                     "HUB_TELEGRAM_BOT_USERNAME ในไฟล์ตั้งค่า แล้วเริ่ม network-hub run ใหม่",
                     "How: create a bot with @BotFather in Telegram, then set HUB_TELEGRAM_BOT_TOKEN and "
                     "HUB_TELEGRAM_BOT_USERNAME in the hub's settings and restart network-hub run"),
    "picker_day": ("วันที่", "Day"),
    "picker_month": ("เดือน", "Month"),
    "picker_year": ("ปี พ.ศ.", "Year"),
    "picker_hour": ("ชั่วโมง", "Hour"),
    "picker_minute": ("นาที", "Minute"),
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
    "area": ("พื้นที่", "Area"),
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
    "via": ("ผ่าน", "via "),
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
ROLE_EN = {"reporter": "Reporter", "moderator": "Moderator", "coordinator": "Coordinator", "admin": "Administrator"}

# Every code a page may show, as (Thai, English). The keys are the stored values of the enums in
# network_hub/states.py (and a few string states kept elsewhere); tests/web/test_no_raw_codes.py
# renders every page and fails when one of those values reaches the screen untranslated.
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "member_status": {
        "active": ("ใช้งานอยู่", "Active"), "suspended": ("ระงับการใช้งาน", "Suspended"),
        "forgotten": ("ลบข้อมูลส่วนบุคคลแล้ว", "Forgotten (PDPA)"),
    },
    "outlet_status": {"active": ("เปิดใช้งาน", "Active"), "paused": ("หยุดชั่วคราว", "Paused")},
    "platform": {
        "telegram": ("เทเลแกรม", "Telegram"), "facebook": ("เฟซบุ๊ก", "Facebook"),
        "sandbox": ("ช่องทดลอง", "Sandbox"), "line": ("ไลน์", "LINE"),
    },
    "delivery_state": {
        "pending": ("รอส่ง", "Waiting"), "claimed": ("กำลังเตรียมส่ง", "Being prepared"),
        "sending": ("กำลังส่ง", "Sending"), "sent": ("ส่งแล้ว", "Sent"),
        "retry_wait": ("รอส่งใหม่อัตโนมัติ", "Waiting to retry"), "failed": ("ส่งไม่สำเร็จ", "Failed"),
        "cancelled": ("ยกเลิกแล้ว", "Cancelled"), "unknown": ("ไม่แน่ใจว่าโพสต์แล้วหรือไม่", "Unknown: check the outlet"),
    },
    "followup_action": {"edit": ("แก้ไขโพสต์", "Edit the post"), "delete": ("ลบโพสต์", "Delete the post")},
    "followup_state": {
        "pending": ("รอดำเนินการ", "waiting"), "done": ("เสร็จแล้ว", "done"), "failed": ("ไม่สำเร็จ", "failed"),
        "unsupported": ("ช่องทางนี้ทำไม่ได้ ต้องทำเองที่ช่องทาง", "not supported: do it on the outlet"),
    },
    "notification_state": {
        "pending": ("รอส่ง", "waiting"), "sent": ("ส่งแล้ว", "sent"), "failed": ("ส่งไม่สำเร็จ", "failed"),
        "unreachable": ("ติดต่อไม่ได้", "unreachable"),
    },
    "occurrence_state": {
        "planned": ("ตามกำหนด", "planned"), "sent": ("ส่งแล้ว", "sent"), "skipped": ("ข้าม", "skipped"),
        "coalesced": ("รวมกับครั้งก่อน", "merged"),
    },
    "area_level": {
        "country": ("ประเทศ", "Country"), "province": ("จังหวัด", "Province"), "district": ("อำเภอ", "District"),
        "subdistrict": ("ตำบล", "Tambon"), "village": ("หมู่บ้าน", "Village"),
    },
    "invite_state": {
        "active": ("ใช้ได้", "Active"), "revoked": ("ยกเลิกแล้ว", "Revoked"), "expired": ("หมดอายุแล้ว", "Expired"),
        "used_up": ("ใช้ครบแล้ว", "Used up"),
    },
    "error_class": {
        "retryable": ("ขัดข้องชั่วคราว จะลองใหม่", "temporary, will retry"),
        "rate_limited": ("ถูกจำกัดความถี่ จะลองใหม่", "rate limited, will retry"),
        "ambiguous": ("ไม่แน่ใจว่าโพสต์แล้วหรือไม่", "unknown whether it was posted"),
        "needs_human": ("ต้องให้ผู้ดูแลแก้ไข", "needs a person"),
        "permanent": ("ส่งไม่ได้", "cannot be sent"),
    },
    "via": {
        "web": ("เว็บ", "web"), "bot": ("บอท", "bot"), "cli": ("คำสั่งผู้ดูแลระบบ", "command line"),
        "system": ("ระบบ", "system"), "demo": ("ข้อมูลตัวอย่าง", "demo"), "invite": ("ลิงก์เชิญ", "invite"),
        "scheduler": ("ระบบตั้งเวลา", "scheduler"), "line": ("ไลน์", "LINE"),
    },
    "check_verdict": {
        "ok": ("ใช้งานได้", "OK"), "token_invalid": ("โทเคนใช้ไม่ได้ ต้องเชื่อมต่อใหม่", "token invalid: reconnect"),
        "token_expiring": ("โทเคนใกล้หมดอายุ", "token expiring soon"),
        "not_admin": ("บอทไม่ได้เป็นผู้ดูแลของช่อง", "the bot is not an admin"),
        "not_member": ("บอทไม่ได้อยู่ในกลุ่ม", "the bot is not a member"),
        "chat_not_found": ("ไม่พบกลุ่มหรือช่อง", "chat not found"), "chat_migrated": ("กลุ่มย้ายที่อยู่", "chat moved"),
        "bad_address": ("ที่อยู่ช่องทางไม่ถูกต้อง", "bad address"), "no_token": ("ยังไม่ได้ตั้งโทเคน", "no token set"),
        "not_configured": ("ยังไม่ได้ตั้งค่า", "not configured"), "rate_limited": ("ถูกจำกัดความถี่ชั่วคราว", "rate limited"),
        "unreachable": ("ติดต่อแพลตฟอร์มไม่ได้", "unreachable"), "error": ("ผิดพลาด", "error"),
        "missing_permission": ("สิทธิ์ของเพจถูกถอน ต้องเชื่อมต่อใหม่", "permission removed: reconnect"),
        "version_unsupported": ("รุ่น API เลิกใช้แล้ว", "API version unsupported"),
        "not_writable": ("เขียนไฟล์ไม่ได้", "not writable"), "channel": ("ช่องทาง", "channel"),
        # Facebook Page tokens, named by debug_token (network_hub/facebook_pages.py)
        "token_expired": ("การเชื่อมต่อหมดอายุ ต้องเชื่อมต่อใหม่", "token expired: reconnect"),
        "password_changed": ("ผู้เชื่อมเปลี่ยนรหัสผ่าน Facebook ต้องเชื่อมต่อใหม่", "password changed: reconnect"),
        "app_removed": ("ผู้เชื่อมลบแอปออกจาก Facebook ต้องเชื่อมต่อใหม่", "app removed: reconnect"),
        "role_removed": ("ผู้เชื่อมไม่ได้ดูแลเพจแล้ว ต้องเชื่อมต่อใหม่", "page role lost: reconnect"),
        "wrong_page": ("โทเคนเป็นของเพจอื่น", "token of another page"),
        "not_page_token": ("ไม่ใช่โทเคนของเพจ", "not a page token"),
    },
    "process_role": {
        "scheduler": ("ตัวตั้งเวลาและส่งข่าว", "scheduler"), "dispatcher": ("ตัวส่งข่าว", "dispatcher"),
        "bot": ("บอท", "bot"), "web": ("เว็บ", "web"), "worker": ("ตัวทำงาน", "worker"),
    },
}

# History events (audit actions). ``news.*`` are lifecycle verbs, ``item.*`` status changes made
# by the engine; anything not listed falls back to "<object> changed", never the raw action name.
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "news.submit": ("ส่งข่าว", "Submitted"), "news.resubmit": ("ส่งข่าวที่แก้ไขแล้ว", "Resubmitted"),
    "news.edit": ("แก้ไขข่าว", "Edited"), "news.approve": ("อนุมัติข่าว", "Approved"),
    "news.reschedule": ("เลื่อนเวลาเผยแพร่", "Rescheduled"), "news.unschedule": ("ยกเลิกการตั้งเวลา", "Schedule cancelled"),
    "news.reject": ("ไม่อนุมัติข่าว", "Rejected"), "news.return": ("ส่งกลับให้แก้ไข", "Returned for changes"),
    "news.correct": ("แก้ไขข่าวที่เผยแพร่แล้ว", "Corrected"), "news.withdraw": ("ถอนข่าว", "Withdrawn"),
    "item.schedule_reached": ("ถึงเวลาเผยแพร่", "Scheduled time reached"),
    "delivery.retry": ("สั่งส่งใหม่", "Sent again"), "delivery.resolved_posted": ("ยืนยันว่าโพสต์แล้ว", "Confirmed posted"),
    "delivery.resolved_not_posted": ("ยืนยันว่ายังไม่ได้โพสต์", "Confirmed not posted"),
    "delivery.reconciled_found": ("ระบบพบโพสต์ที่ช่องทาง", "Found on the outlet"),
    "delivery.reconciled_absent": ("ระบบไม่พบโพสต์ที่ช่องทาง", "Not found on the outlet"),
    "outlet.added": ("เพิ่มช่องทาง", "Outlet added"), "outlet.paused": ("หยุดช่องทางชั่วคราว", "Outlet paused"),
    "outlet.resumed": ("เปิดใช้ช่องทาง", "Outlet resumed"), "outlet.chat_migrated": ("กลุ่มแชตย้ายที่อยู่", "Chat moved"),
    "member.add": ("เพิ่มสมาชิก", "Member added"), "member.update": ("แก้ไขข้อมูลสมาชิก", "Member updated"),
    "member.forget": ("ลบข้อมูลส่วนบุคคล", "Member forgotten"), "member.set_password": ("ตั้งรหัสผ่าน", "Password set"),
    "member.language": ("เปลี่ยนภาษา", "Language changed"), "member.unreachable": ("ติดต่อทางบอทไม่ได้", "Unreachable"),
    "member.reachable": ("ติดต่อทางบอทได้อีกครั้ง", "Reachable again"),
    "invite.create": ("สร้างลิงก์เชิญ", "Invite created"), "invite.redeem": ("ใช้ลิงก์เชิญ", "Invite used"),
    "invite.revoke": ("ยกเลิกลิงก์เชิญ", "Invite revoked"), "invite.link_shown": ("เปิดดูลิงก์เชิญ", "Invite link shown"),
    "grant.add": ("ให้บทบาท", "Role granted"), "grant.remove": ("ถอนบทบาท", "Role removed"),
    "village.add": ("เพิ่มหมู่บ้าน", "Village added"), "areas.load": ("โหลดข้อมูลพื้นที่", "Areas loaded"),
    "roster.import": ("นำเข้ารายชื่อ", "Roster imported"),
    "area.set_moderation_chat": ("ตั้งกลุ่มผู้ตรวจข่าว", "Moderators' chat set"),
    "area.moderation_chat_migrated": ("กลุ่มผู้ตรวจข่าวย้ายที่อยู่", "Moderators' chat moved"),
}
OBJECT_LABELS: dict[str, tuple[str, str]] = {
    "news": ("ข่าว", "News"), "item": ("ข่าว", "News"), "delivery": ("การส่ง", "Delivery"),
    "outlet": ("ช่องทาง", "Outlet"), "member": ("สมาชิก", "Member"), "invite": ("ลิงก์เชิญ", "Invite"),
    "grant": ("บทบาท", "Role"), "area": ("พื้นที่", "Area"), "village": ("หมู่บ้าน", "Village"),
}


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
    return ROLE_EN.get(role, role) if language == "en" else ROLE_TH.get(role, role)


# Prefixes the engine and the CLI store in ``outlets.paused_reason`` (English, matched by the
# follow-up planner); the reader sees them in Thai, with the detail after them as it was written.
_PAUSE_PREFIXES_TH = (("needs a person: ", "ต้องให้ผู้ดูแลแก้ไข: "),)
_PAUSE_WHOLE_TH = {"paused by an admin": "ผู้ดูแลหยุดไว้"}


def paused_reason_label(reason: str | None, language: str) -> str:
    """An outlet's pause reason for the reader: the stored English prefixes in Thai."""
    text = (reason or "").strip()
    if language == "en" or not text:
        return text
    if text in _PAUSE_WHOLE_TH:
        return _PAUSE_WHOLE_TH[text]
    for prefix, thai in _PAUSE_PREFIXES_TH:
        if text.startswith(prefix):
            return thai + text[len(prefix):]
    return text


def label(kind: str, value: object, language: str) -> str:
    """The reader's word for a stored code of ``kind`` (see LABELS); unknown codes are shown as ``–``
    in Thai rather than leaking an English code, and as themselves in English."""
    if value is None or value == "":
        return "–"
    text = str(value)
    pair = LABELS.get(kind, {}).get(text)
    if pair is None:
        return text if language == "en" else "–"
    return pair[1] if language == "en" else pair[0]


def action_label(action: str, language: str) -> str:
    """``news.approve`` → "อนุมัติข่าว"; an engine status change ``item.published`` → "สถานะ: เผยแพร่แล้ว"."""
    index = 1 if language == "en" else 0
    pair = ACTION_LABELS.get(action)
    if pair:
        return pair[index]
    prefix, _, rest = action.partition(".")
    if prefix == "item" and rest:
        word = ("สถานะ", "Status")[index]
        return f"{word}: {status_label(rest, language)}"
    if prefix == "delivery" and rest.startswith(("edit_", "delete_")):
        verb, _, state = rest.partition("_")
        return f"{label('followup_action', verb, language)}: {label('followup_state', state, language)}"
    thing = OBJECT_LABELS.get(prefix, ("รายการ", "Record"))[index]
    return f"{thing}: " + ("มีการเปลี่ยนแปลง" if index == 0 else "changed")


def via_label(via: str | None, language: str) -> str:
    """Where an action came from: "web" → "เว็บ"; "system" (or nothing) → "ระบบ"."""
    return label("via", via or "system", language)


def helpers(language: str, tz: ZoneInfo, today: date) -> dict[str, Any]:
    """Label functions and date-picker values every template gets (see deps.render)."""
    from network_hub.web import datepicker

    return {
        "label": lambda kind, value: label(kind, value, language),
        "action_label": lambda action: action_label(action, language),
        "via_label": lambda via: via_label(via, language),
        **datepicker.helpers(language, tz, today),
    }
