"""Wording of the office pages (roster administration, invite sheet, area picker, CSV import,
villages, outlets to add): Thai first, English second. Kept next to ``i18n.MESSAGES`` (which the
UI work owns) so both can change at once without colliding; ``translator`` falls back to it.
"""

from __future__ import annotations

from collections.abc import Callable

from network_hub.web import i18n

OFFICE: dict[str, tuple[str, str]] = {
    # area picker
    "area_pick": ("พื้นที่", "Area"),
    "area_chosen": ("เลือกแล้ว", "Chosen"),
    "choose": ("เลือก", "choose"),
    "whole_country": ("ทั้งประเทศ", "The whole country"),
    "area_search": ("ค้นหาชื่อพื้นที่", "Search an area by name"),
    "area_search_hint": ("เช่น เวียงเหนือ", "e.g. Wiang Nuea"),
    "area_hits": ("ผลการค้นหา", "Found"),
    "area_no_hits": ("ไม่พบพื้นที่ชื่อนี้", "Nothing found"),
    "area_step": ("เลือก / ค้นหา", "Choose / search"),
    # roster actions
    "add_member": ("เพิ่มสมาชิก", "Add a member"),
    "import_csv": ("นำเข้ารายชื่อ (CSV)", "Import a roster (CSV)"),
    "print_sheet": ("พิมพ์ใบเชิญ", "Print invite sheet"),
    "add_village": ("เพิ่มหมู่บ้าน", "Add a village"),
    "change_my_password": ("เปลี่ยนรหัสผ่านของฉัน", "Change my password"),
    "member_page": ("ข้อมูลสมาชิก", "Member"),
    "name": ("ชื่อ-นามสกุล", "Full name"),
    "phone": ("เบอร์โทรศัพท์", "Phone"),
    "language": ("ภาษา", "Language"),
    "role": ("บทบาท", "Role"),
    "save": ("บันทึก", "Save"),
    "telegram": ("Telegram", "Telegram"),
    "tg_linked": ("เชื่อมแล้ว", "linked"),
    "tg_not_linked": ("ยังไม่เชื่อม", "not linked yet"),
    "status_active": ("ใช้งาน", "active"),
    "status_suspended": ("ระงับ", "suspended"),
    "status_forgotten": ("ลบข้อมูลแล้ว", "erased"),
    "suspend": ("ระงับการใช้งาน", "Suspend"),
    "resume": ("เปิดใช้งานอีกครั้ง", "Resume"),
    "forget": ("ลบข้อมูลส่วนบุคคล (PDPA)", "Erase personal data (PDPA)"),
    "forget_warning": ("ลบชื่อ เบอร์โทรศัพท์ บัญชี Telegram และรหัสผ่านถาวร ย้อนกลับไม่ได้ ข่าวที่เคยส่งยังคงอยู่",
                       "Erases name, phone, Telegram account and password for good; their news stays"),
    "forget_confirm": ("ยืนยันว่าต้องการลบข้อมูล", "I confirm the erasure"),
    "reason": ("เหตุผล", "Reason"),
    "grants": ("บทบาทและพื้นที่", "Roles and areas"),
    "add_grant": ("เพิ่มบทบาท", "Add a role"),
    "remove": ("ลบ", "Remove"),
    "no_grants": ("ยังไม่มีบทบาท", "No role yet"),
    "set_password": ("ตั้ง/รีเซ็ตรหัสผ่านเข้าเว็บ", "Set or reset the web password"),
    "new_password": ("รหัสผ่านใหม่ (อย่างน้อย 10 ตัวอักษร)", "New password (at least 10 characters)"),
    "new_password_again": ("พิมพ์รหัสผ่านใหม่อีกครั้ง", "New password again"),
    "current_password": ("รหัสผ่านปัจจุบัน", "Current password"),
    "passwords_differ": ("รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน", "The two new passwords differ"),
    "wrong_password": ("รหัสผ่านปัจจุบันไม่ถูกต้อง", "The current password is wrong"),
    "personal_invite": ("ลิงก์เชิญเฉพาะบุคคล", "Personal invite link"),
    "make_personal_invite": ("สร้างลิงก์เชิญเฉพาะบุคคล", "Make a personal invite link"),
    "line_invite": ("รหัสเชื่อมบัญชี LINE", "Code to link a LINE account"),
    "make_line_invite": ("สร้างรหัสเชื่อมบัญชี LINE", "Make a code to link LINE"),
    "line_invite_hint": ("บุคคลนี้เชื่อม Telegram แล้ว ให้เขาพิมพ์รหัสนี้ส่งในแชท LINE ของเครือข่าย (LINE Official Account) "
                         "บัญชี LINE จะผูกกับรายชื่อเดิมนี้ (ใช้ได้ครั้งเดียว)",
                         "This person is linked on Telegram: they send this code in the network's LINE chat "
                         "(LINE Official Account) and their LINE account joins this same record (one use)"),
    "line_app": ("LINE", "LINE"),
    "personal_invite_hint": ("ให้ลิงก์หรือ QR นี้กับบุคคลนี้เท่านั้น เมื่อเปิดในโทรศัพท์ บัญชี Telegram จะผูกกับรายชื่อนี้ (ใช้ได้ครั้งเดียว)",
                             "Give this link or QR code to this person only: opening it links their Telegram "
                             "account to this record (one use)"),
    "merge": ("รวมรายชื่อซ้ำ", "Merge a duplicate"),
    "merge_hint": ("หากบุคคลนี้มีรายชื่อซ้ำอีกรายการ เลือกรายการซ้ำเพื่อย้ายบทบาท ข่าว และประวัติทั้งหมดมาไว้ที่รายชื่อนี้ แล้วลบรายการซ้ำ",
                   "If this person has a second record, pick it: its roles, news and history move here "
                   "and it is removed"),
    "merge_other": ("รายการซ้ำที่จะรวมเข้ามา", "The duplicate to fold in"),
    "merge_confirm": ("ยืนยันว่าเป็นบุคคลเดียวกัน", "I confirm they are one person"),
    "need_confirm": ("กรุณาทำเครื่องหมายยืนยันก่อน", "Please tick the confirmation first"),
    "back_to_roster": ("กลับไปหน้าสมาชิก", "Back to the roster"),
    "done": ("บันทึกเรียบร้อยแล้ว", "Saved"),
    "member_added": ("เพิ่มสมาชิกแล้ว ต่อไป: สร้างลิงก์เชิญเฉพาะบุคคล หรือพิมพ์ใบเชิญของหมู่บ้าน",
                     "Member added. Next: make their personal invite or print the village's invite sheet"),
    # invite sheet
    "sheet_title": ("ใบเชิญเข้าร่วมเครือข่ายประชาสัมพันธ์", "Invitations to the PR network"),
    "sheet_pick": ("เลือกหมู่บ้านหรือตำบลที่จะพิมพ์ใบเชิญ", "Choose the village or tambon to print"),
    "sheet_show": ("แสดงใบเชิญ", "Show the sheet"),
    "sheet_print": ("พิมพ์", "Print"),
    "sheet_how": ("สแกน QR ด้วยกล้องโทรศัพท์ หรือเปิดลิงก์ แล้วกด «เริ่ม» (Start) ในแอป Telegram",
                  "Scan the QR code with the phone camera or open the link, then press Start in Telegram"),
    "sheet_expires": ("ลิงก์ใช้ได้ถึง", "Valid until"),
    "sheet_linked": ("เชื่อม Telegram แล้ว ไม่ต้องใช้ใบเชิญ", "Already on Telegram; no invite needed"),
    "sheet_skipped": ("ข้าม: {why}", "Skipped: {why}"),
    "sheet_empty": ("ยังไม่มีสมาชิกในพื้นที่นี้ เพิ่มสมาชิกหรือนำเข้ารายชื่อก่อน",
                    "Nobody in this area yet: add members or import the roster first"),
    "sheet_no_bot": ("ยังไม่ได้ตั้งชื่อบอท Telegram (HUB_TELEGRAM_BOT_USERNAME) ลิงก์เชิญจึงยังใช้ไม่ได้ "
                     "กรุณาให้ผู้ดูแลระบบตั้งค่าก่อนพิมพ์",
                     "The Telegram bot's username (HUB_TELEGRAM_BOT_USERNAME) is not set, so invite links "
                     "cannot work yet; ask the hub's admin to set it before printing"),
    "why_suspended": ("ถูกระงับการใช้งาน", "suspended"),
    "why_not_allowed": ("ท่านไม่มีสิทธิ์เชิญบทบาทนี้", "you may not invite this role"),
    # CSV import
    "import_title": ("นำเข้ารายชื่อจากไฟล์ CSV", "Import the roster from a CSV file"),
    "import_help": ("ไฟล์ CSV (UTF-8) หัวตาราง: name,role,area_code,phone,telegram_user_id,language "
                    "ใน Excel เลือก «บันทึกเป็น» > «CSV UTF-8» ระบบจะตรวจทุกแถวก่อน ยังไม่มีการบันทึกจนกว่าจะกดยืนยัน",
                    "A UTF-8 CSV with the header name,role,area_code,phone,telegram_user_id,language. "
                    "Every row is checked first; nothing is saved until you confirm."),
    "import_file": ("ไฟล์", "File"),
    "import_check": ("ตรวจไฟล์", "Check the file"),
    "import_preview": ("ผลการตรวจ", "Check result"),
    "import_bad": ("พบ {count} แถวที่ต้องแก้ไข ยังไม่มีการบันทึกใด ๆ แก้ไฟล์แล้วตรวจใหม่",
                   "{count} row(s) need fixing; nothing was saved. Fix the file and check again."),
    "import_ok": ("ทุกแถวถูกต้อง: สมาชิกใหม่ {new} คน ปรับปรุง {updated} คน บทบาทใหม่ {grants} รายการ มีอยู่แล้ว {same} รายการ",
                  "Every row is fine: {new} new members, {updated} updated, {grants} new roles, {same} already held"),
    "import_confirm": ("ยืนยันนำเข้าทั้งหมด", "Import all of it"),
    "import_with_invites": ("สร้างลิงก์เชิญเฉพาะบุคคลให้ทุกคนที่ยังไม่เชื่อม Telegram",
                            "Make a personal invite for everyone not on Telegram yet"),
    "import_done": ("นำเข้าเรียบร้อย: สมาชิกใหม่ {new} คน บทบาทใหม่ {grants} รายการ",
                    "Imported: {new} new members, {grants} new roles"),
    "line": ("บรรทัด", "Line"),
    "problem": ("สิ่งที่ต้องแก้", "What to fix"),
    "row": ("แถว", "Row"),
    "result": ("ผล", "Result"),
    "row_ok": ("ถูกต้อง", "OK"),
    # villages and areas
    "village_title": ("หมู่บ้านและชุมชน", "Villages and communities"),
    "village_number": ("หมู่ที่ (1-99)", "Village number (1-99)"),
    "village_name": ("ชื่อหมู่บ้าน เช่น บ้านป่าขาม", "Village name, e.g. บ้านป่าขาม"),
    "is_community": ("เป็นชุมชนในเขตเทศบาล", "A municipal community"),
    "tambon_for_village": ("ตำบลที่หมู่บ้านนี้อยู่", "The tambon of this village"),
    "mod_chat": ("กลุ่ม Telegram ของผู้ตรวจข่าว", "Moderators' Telegram group"),
    "mod_chat_hint": ("รหัสกลุ่ม (ตัวเลขติดลบ เช่น -1001234567890) ให้เพิ่มบอทเข้ากลุ่มก่อน เว้นว่างเพื่อยกเลิก",
                      "The group's id (negative, e.g. -1001234567890); add the bot to the group first. Empty: none"),
    "villages_here": ("หมู่บ้านในตำบลนี้", "Villages of this tambon"),
    # outlets
    "add_outlet": ("เพิ่มช่องทางเผยแพร่", "Add an outlet"),
    "outlet_platform": ("แพลตฟอร์ม", "Platform"),
    "outlet_name": ("ชื่อช่องทาง (ที่ผู้อ่านเห็น)", "Outlet name (as readers see it)"),
    "outlet_address": ("ที่อยู่ช่องทาง", "Address"),
    "outlet_address_hint": ("Telegram: @ชื่อช่อง หรือรหัสแชท เช่น -1001234567890 · ช่องทดลอง: ชื่อภาษาอังกฤษสั้น ๆ",
                            "Telegram: @channel or chat id such as -1001234567890 · sandbox: a short name"),
    "outlet_check": ("ตรวจการเชื่อมต่อ", "Check the connection"),
    "platform_telegram": ("Telegram (ช่อง/กลุ่ม)", "Telegram (channel/group)"),
    "platform_sandbox": ("ช่องทดลอง (ไม่เผยแพร่จริง)", "Sandbox (not public)"),
    "outlet_added": ("เพิ่มช่องทางแล้ว และตรวจสิทธิ์ของบอทเรียบร้อย", "Outlet added; the bot's rights were checked"),
}


def translator(language: str) -> Callable[..., str]:
    """``o(key, **values)``: the office wording, else the dashboard's (``i18n``)."""
    fallback = i18n.translator(language)

    def o(key: str, **values: object) -> str:
        pair = OFFICE.get(key)
        if pair is None:
            return fallback(key, **values)
        text = pair[1] if language == "en" else pair[0]
        return text.format(**values) if values else text

    return o
