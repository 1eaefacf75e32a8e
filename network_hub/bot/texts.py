"""Every string the bot shows people: Thai first, English second (per member setting).

Messages are short and end with what to do next. Placeholders use ``str.format`` names; values
inserted into HTML messages are escaped by the caller (``t`` escapes every keyword argument,
because every message is sent in HTML parse mode).
"""

from __future__ import annotations

import html
from typing import Any

TEXTS: dict[str, tuple[str, str]] = {
    # -- join -------------------------------------------------------------------------------------
    "welcome": (
        "🙏 ยินดีต้อนรับคุณ{name} เข้าสู่เครือข่ายประชาสัมพันธ์\n"
        "บทบาท: {role} พื้นที่: {area}\n\n"
        "🔒 ข้อมูลที่เราเก็บ: ชื่อ รหัสผู้ใช้ Telegram บทบาท และข่าวที่ท่านส่ง "
        "เพื่อใช้ส่งข่าว แจ้งสถานะ และติดตามงานของเครือข่ายเท่านั้น "
        "ท่านขอให้ลบข้อมูลได้ทุกเมื่อ โดยแจ้งผู้ดูแลของท่าน\n\n{next}",
        "🙏 Welcome, {name}, to the PR network.\nRole: {role}, area: {area}\n\n"
        "🔒 What we keep: your name, Telegram user id, role and the news you send, only to post news, "
        "tell you its status and follow up the network's work. Ask your admin any time to erase it.\n\n{next}",
    ),
    "next_reporter": ("ส่งข่าวแรกได้เลย: พิมพ์ /news", "Send your first news now: type /news"),
    "next_moderator": (
        "ข่าวที่รอพิจารณาจะขึ้นในกลุ่มผู้ดูแล ดูรายการได้ที่ /pending",
        "News waiting for approval appears in the moderators' group; see the list with /pending",
    ),
    "next_coordinator": (
        "ท่านจะได้รับสรุปรายสัปดาห์และการแจ้งเตือนทางแชทนี้",
        "You will get the weekly digest and reminders in this chat",
    ),
    "already_member": (
        "สวัสดีคุณ{name} ท่านเป็นสมาชิกอยู่แล้ว\nส่งข่าว: /news  ข่าวของฉัน: /mine  ช่วยเหลือ: /help",
        "Hello {name}, you are already a member.\nSend news: /news  My news: /mine  Help: /help",
    ),
    "not_member": (
        "สวัสดีครับ บอทนี้ใช้สำหรับเครือข่ายนักประชาสัมพันธ์หมู่บ้านและตำบล\n"
        "หากต้องการเข้าร่วม กรุณาขอลิงก์เชิญจากผู้ดูแลตำบลหรือเจ้าหน้าที่พัฒนาชุมชนอำเภอ "
        "แล้วกดลิงก์นั้นเพื่อเริ่มใช้งาน",
        "Hello! This bot serves the village and tambon PR volunteer network.\n"
        "To join, ask your tambon admin or district CDD officer for an invite link and open it.",
    ),
    "invite_failed": ("😔 {reason}", "😔 {reason}"),
    # -- linking by phone (the contact button; only one's own number) -----------------------------
    "btn_share_phone": ("📱 แชร์เบอร์โทรศัพท์", "📱 Share my phone number"),
    "share_phone_offer": (
        "หากสำนักงานได้ใส่ชื่อและเบอร์โทรศัพท์ของท่านไว้ในรายชื่อเครือข่ายแล้ว "
        "กดปุ่ม «แชร์เบอร์โทรศัพท์» ด้านล่าง ระบบจะเชื่อมบัญชี Telegram นี้กับรายชื่อของท่านให้",
        "If the office has put your name and phone number on the network's roster, press "
        "«Share my phone number» below and this Telegram account will be linked to it.",
    ),
    "share_phone_offer_joined": (
        "หากท่านมีชื่ออยู่ในรายชื่อของสำนักงานแล้ว กดปุ่ม «แชร์เบอร์โทรศัพท์» ด้านล่าง "
        "เพื่อรวมข้อมูลให้เป็นคนเดียวกัน (ไม่บังคับ)",
        "If the office already has you on its roster, press «Share my phone number» below so both records "
        "become one (optional).",
    ),
    "phone_linked": ("✅ เชื่อมบัญชี Telegram กับรายชื่อของท่านเรียบร้อยแล้ว", "✅ Your Telegram account is now linked"),
    "phone_merged": ("✅ พบชื่อของท่านในรายชื่อของสำนักงาน รวมข้อมูลเป็นคนเดียวกันเรียบร้อยแล้ว",
                     "✅ We found you on the office's roster and joined both records into one"),
    "phone_already": ("ท่านเชื่อมบัญชีกับรายชื่อของเครือข่ายไว้แล้ว คุณ{name}\nส่งข่าว: /news  ช่วยเหลือ: /help",
                      "Your account is already linked, {name}.\nSend news: /news  Help: /help"),
    "phone_saved": ("✅ บันทึกเบอร์โทรศัพท์ของท่านแล้ว คุณ{name}", "✅ Your phone number is saved, {name}"),
    # -- common -----------------------------------------------------------------------------------
    "cancelled": ("ยกเลิกแล้ว ไม่มีการบันทึกใด ๆ\nเริ่มใหม่ได้ที่ /news", "Cancelled; nothing was saved.\n"
                  "Start again with /news"),
    "nothing_to_cancel": ("ไม่มีรายการที่กำลังทำอยู่", "There is nothing to cancel"),
    "error": ("😔 {reason}", "😔 {reason}"),
    "try_later": ("ระบบขัดข้องชั่วคราว กรุณาลองใหม่อีกครั้งในอีกสักครู่ ข้อมูลที่ส่งมายังอยู่ครบ",
                  "A temporary problem; please try again in a moment. Nothing you sent was lost."),
    "button_expired": ("ปุ่มนี้ใช้ไม่ได้แล้ว", "This button no longer works"),
    "suspended": ("บัญชีของท่านถูกระงับการใช้งาน กรุณาติดต่อผู้ดูแลของท่าน",
                  "Your account is suspended; contact your admin"),
    "yes": ("ใช่", "Yes"),
    "no": ("ไม่ใช่", "No"),
    # -- help -------------------------------------------------------------------------------------
    "help_reporter": (
        "📖 วิธีใช้\n/news ส่งข่าวใหม่ (เลือกหมวด พิมพ์ข่าว แนบภาพได้ถึง 10 ภาพ)\n"
        "/mine ดูข่าวของฉันและสถานะ\n/cancel ยกเลิกสิ่งที่กำลังทำ\n/lang เปลี่ยนภาษา\n"
        "/login ขอลิงก์เข้าเว็บไซต์",
        "📖 How to use\n/news send news (category, text, up to 10 photos)\n/mine my news and its status\n"
        "/cancel stop what you are doing\n/lang change language\n/login a sign-in link for the website",
    ),
    "help_moderator": (
        "\n\n👮 สำหรับผู้ดูแล\n/pending ข่าวที่รอพิจารณาในพื้นที่ของท่าน\n"
        "ในกลุ่มผู้ดูแล กดปุ่มใต้การ์ดข่าวเพื่ออนุมัติ ตั้งเวลา ส่งกลับแก้ไข หรือไม่อนุมัติ",
        "\n\n👮 For moderators\n/pending news waiting in your area\n"
        "In the moderators' group, use the buttons under each card to approve, schedule, return or reject",
    ),
    "commands": (
        "start:เริ่มใช้งาน/เข้าร่วมด้วยลิงก์เชิญ|news:ส่งข่าวใหม่|mine:ข่าวของฉัน|pending:ข่าวรอพิจารณา"
        "|lang:เปลี่ยนภาษา|help:วิธีใช้|cancel:ยกเลิก|login:ลิงก์เข้าเว็บไซต์",
        "start:Start / join with an invite|news:Send news|mine:My news|pending:Waiting for approval"
        "|lang:Language|help:Help|cancel:Cancel|login:Website sign-in link",
    ),
    # -- language / login -------------------------------------------------------------------------
    "lang_choose": ("เลือกภาษา / Choose a language", "เลือกภาษา / Choose a language"),
    "lang_set": ("ตั้งค่าภาษาไทยแล้ว", "Language set to English"),
    "login_link": (
        "🔑 ลิงก์เข้าสู่เว็บไซต์ (ใช้ได้ครั้งเดียว ภายใน 15 นาที):\n{link}\nอย่าส่งต่อลิงก์นี้ให้ผู้อื่น",
        "🔑 Your sign-in link (works once, for 15 minutes):\n{link}\nDo not share it.",
    ),
    "login_unavailable": ("ยังไม่เปิดใช้การเข้าสู่ระบบทางเว็บไซต์", "Web sign-in is not available yet"),
    # -- submit -----------------------------------------------------------------------------------
    "no_villages": ("ท่านยังไม่มีสิทธิ์ส่งข่าวของหมู่บ้านใด กรุณาติดต่อผู้ดูแลตำบล",
                    "You may not send news for any village yet; contact your tambon admin"),
    "ask_village": ("📍 ข่าวนี้เป็นของหมู่บ้านไหน? กดเลือกด้านล่าง", "📍 Which village is this news from?"),
    "ask_category": ("📂 ข่าว{village} เลือกหมวดข่าว:", "📂 News of {village}: choose a category:"),
    "ask_text": (
        "✍️ หมวด: {category}\nพิมพ์ข่าวเป็นข้อความ บรรทัดแรกจะเป็นหัวข้อข่าว\nยกเลิกได้ที่ /cancel",
        "✍️ Category: {category}\nType the news; the first line becomes the title.\nCancel with /cancel",
    ),
    "need_text": ("กรุณาพิมพ์ข่าวเป็นข้อความ (ภาพส่งได้ในขั้นถัดไป)",
                  "Please type the news as text (photos come next)"),
    "ask_photos": (
        "📷 ส่งภาพได้สูงสุด 10 ภาพ (ทีละภาพหรือเป็นอัลบั้ม) แล้วกด «เสร็จแล้ว»\n"
        "ถ้าไม่มีภาพ กด «ไม่มีภาพ»",
        "📷 Send up to 10 photos (one by one or as an album), then press «Done».\n"
        "No photos? Press «No photos».",
    ),
    "photos_received": ("ได้รับภาพแล้ว {count} ภาพ ส่งเพิ่มได้ หรือกด «เสร็จแล้ว»",
                        "{count} photo(s) received. Send more or press «Done»."),
    "too_many_photos": ("ข่าวหนึ่งเรื่องมีภาพได้ไม่เกิน 10 ภาพ ภาพที่เกินไม่ได้ถูกเก็บไว้ กด «เสร็จแล้ว»",
                        "A news item can have at most 10 photos; the extra ones were not kept. Press «Done»."),
    "need_photo": ("กรุณาส่งเป็นภาพถ่าย หรือกด «เสร็จแล้ว»", "Please send photos, or press «Done»"),
    "btn_done": ("✅ เสร็จแล้ว", "✅ Done"),
    "btn_no_photos": ("ไม่มีภาพ", "No photos"),
    "ask_children": ("👶 ในภาพมีเด็กหรือไม่?", "👶 Do the photos show children?"),
    "ask_people": ("🧑 ในภาพเห็นหน้าบุคคลที่ระบุตัวได้หรือไม่?", "🧑 Do the photos show people who can be recognised?"),
    "ask_consent": ("✍️ บุคคลในภาพ (หรือผู้ปกครองของเด็ก) ยินยอมให้เผยแพร่แล้วหรือไม่?",
                    "✍️ Did the people in the photos (or the children's parents) agree to publication?"),
    "consent_missing": ("⚠️ ควรขอความยินยอมก่อนเผยแพร่ ผู้ดูแลจะตรวจสอบก่อนอนุมัติ",
                        "⚠️ Please ask for consent before publication; a moderator will check before approving."),
    "preview_intro": ("👀 ตัวอย่างข่าวตามที่ประชาชนจะเห็น:", "👀 Preview, as residents will see it:"),
    "ask_confirm": ("ส่งข่าวนี้ให้ผู้ดูแลพิจารณาหรือไม่?", "Send this news to the moderators?"),
    "btn_send": ("📤 ส่งข่าว", "📤 Send"),
    "btn_cancel": ("❌ ยกเลิก", "❌ Cancel"),
    "submitted": (
        "✅ ได้รับข่าวแล้ว เลขที่รับ {receipt}\nผู้ดูแลจะพิจารณา และบอทจะแจ้งผลให้ทราบที่นี่\n"
        "ดูสถานะได้ที่ /mine",
        "✅ News received, receipt {receipt}.\nA moderator will review it and the bot will tell you the result here.\n"
        "Check its status with /mine",
    ),
    "preview_receipt": ("(ออกเลขเมื่อส่ง)", "(given on sending)"),
    # -- resubmit ---------------------------------------------------------------------------------
    "resubmit_ask_text": (
        "✏️ แก้ไขข่าว {receipt}\nเหตุผลที่ส่งกลับ: {reason}\n\nพิมพ์ข้อความข่าวใหม่ทั้งหมด (ภาพเดิมยังอยู่)\n"
        "ยกเลิกได้ที่ /cancel",
        "✏️ Edit news {receipt}\nReturned because: {reason}\n\nType the whole new text (the photos stay).\n"
        "Cancel with /cancel",
    ),
    "resubmit_confirm": ("ส่งข่าวที่แก้ไขแล้วให้ผู้ดูแลพิจารณาอีกครั้งหรือไม่?",
                         "Send the edited news to the moderators again?"),
    "resubmitted": ("✅ ส่งข่าว {receipt} ที่แก้ไขแล้ว ผู้ดูแลจะพิจารณาอีกครั้ง",
                    "✅ Edited news {receipt} sent; a moderator will review it again."),
    # -- mine / pending ---------------------------------------------------------------------------
    "mine_empty": ("ท่านยังไม่มีข่าว ส่งข่าวแรกได้ที่ /news", "You have no news yet; send some with /news"),
    "mine_header": ("📋 ข่าวของฉัน (ล่าสุด {count} เรื่อง)", "📋 My news (latest {count})"),
    "pending_none": ("ไม่มีข่าวรอพิจารณาในพื้นที่ของท่าน 👍", "Nothing is waiting in your area 👍"),
    "pending_header": ("⏳ ข่าวรอพิจารณา {count} เรื่อง", "⏳ {count} item(s) waiting"),
    "pending_not_moderator": ("คำสั่งนี้สำหรับผู้ดูแลเท่านั้น", "This command is for moderators"),
    "unknown_header": ("❓ ไม่แน่ใจว่าโพสต์แล้วหรือยัง {count} รายการ ตรวจดูที่ช่องทางแล้วกดตอบ:",
                       "❓ {count} post(s) may or may not have gone out; check the outlet, then answer:"),
    # -- moderation card ---------------------------------------------------------------------------
    "card_title": ("📰 ข่าวรอพิจารณา {receipt}", "📰 News for review {receipt}"),
    "card_meta": ("📍 {village}\n📂 {category}\n👤 {author}\n📷 ภาพ {photos} ภาพ",
                  "📍 {village}\n📂 {category}\n👤 {author}\n📷 {photos} photo(s)"),
    "card_pdpa": ("⚠️ อาจมีข้อมูลส่วนบุคคล: {flags}\nกรุณาตรวจสอบก่อนอนุมัติ",
                  "⚠️ May contain personal data: {flags}\nCheck before approving"),
    "card_consent": ("คำตอบผู้ส่ง: มีเด็กในภาพ {children} · เห็นหน้าบุคคล {people} · ได้รับความยินยอม {consent}",
                     "Sender's answers: children {children} · recognisable people {people} · consent {consent}"),
    "btn_approve": ("✅ อนุมัติทันที", "✅ Approve now"),
    "btn_approve_pdpa": ("✅ ยืนยัน PDPA และอนุมัติ", "✅ Confirm PDPA & approve"),
    "btn_schedule": ("🕒 ตั้งเวลา", "🕒 Schedule"),
    "btn_schedule_pdpa": ("🕒 ยืนยัน PDPA และตั้งเวลา", "🕒 Confirm PDPA & schedule"),
    "btn_return": ("↩️ ส่งกลับแก้ไข", "↩️ Return"),
    "btn_reject": ("⛔ ไม่อนุมัติ", "⛔ Reject"),
    "btn_back": ("« กลับ", "« Back"),
    "btn_typed_time": ("⌨️ พิมพ์เวลาเอง", "⌨️ Type a time"),
    "btn_typed_reason": ("⌨️ พิมพ์เหตุผลเอง", "⌨️ Type a reason"),
    "ask_typed_time": ("{name} ตอบข้อความนี้ด้วยวันเวลาเผยแพร่ข่าว {receipt} เช่น 2026-11-25 09:00",
                       "{name}, reply to this message with the time for {receipt}, e.g. 2026-11-25 09:00"),
    "ask_typed_reason": ("{name} ตอบข้อความนี้ด้วยเหตุผล ({verb}) สำหรับข่าว {receipt}",
                         "{name}, reply to this message with the reason ({verb}) for {receipt}"),
    "card_decided": ("{status} โดย {who} เมื่อ {when}", "{status} by {who} on {when}"),
    "card_reason": ("เหตุผล: {reason}", "Reason: {reason}"),
    "card_scheduled_for": ("เผยแพร่: {when}", "Publishing: {when}"),
    "card_replaced": ("ผู้ส่งแก้ไขและส่งใหม่แล้ว ดูการ์ดใหม่ด้านล่าง", "The author resubmitted it; see the new card below"),
    "toast_done": ("บันทึกแล้ว: {status}", "Saved: {status}"),
    "toast_choose": ("เลือกด้านล่าง", "Choose below"),
    "not_member_press": ("ท่านยังไม่ได้เป็นสมาชิกของเครือข่าย จึงกดปุ่มนี้ไม่ได้",
                         "You are not a member of the network, so you cannot use this button"),
    "resolved_posted": ("บันทึกแล้ว: โพสต์ขึ้นแล้ว ({outlet})", "Recorded: it is posted ({outlet})"),
    "resolved_resend": ("บันทึกแล้ว: จะส่งใหม่ ({outlet})", "Recorded: it will be sent again ({outlet})"),
    "btn_is_posted": ("✅ โพสต์แล้ว", "✅ It is posted"),
    "btn_send_again": ("🔁 ส่งใหม่", "🔁 Send it"),
    # -- notifications ----------------------------------------------------------------------------
    "n_item_received": ("📥 ผู้ดูแลบันทึกข่าว «{title}» ในชื่อของท่านแล้ว เลขที่รับ {receipt}\nดูสถานะได้ที่ /mine",
                        "📥 A moderator entered «{title}» for you, receipt {receipt}. See /mine"),
    "n_item_approved": ("✅ ข่าว «{title}» ({receipt}) ได้รับอนุมัติแล้ว กำลังเผยแพร่\nเมื่อโพสต์แล้วบอทจะส่งลิงก์ให้",
                        "✅ «{title}» ({receipt}) was approved and is being published.\n"
                        "The bot will send the links once it is posted."),
    "n_item_scheduled": ("🕒 ข่าว «{title}» ({receipt}) ได้รับอนุมัติ จะเผยแพร่ {when}",
                         "🕒 «{title}» ({receipt}) was approved for {when}"),
    "n_item_published": ("📢 ข่าว «{title}» ({receipt}) เผยแพร่แล้ว\n{links}\nขอบคุณที่ส่งข่าว ส่งเรื่องต่อไปได้ที่ /news",
                         "📢 «{title}» ({receipt}) is published\n{links}\nThank you! Send more with /news"),
    "n_item_partially_published": (
        "📢 ข่าว «{title}» ({receipt}) เผยแพร่แล้วบางช่องทาง\n{links}\nผู้ดูแลกำลังแก้ไขช่องทางที่เหลือ",
        "📢 «{title}» ({receipt}) is published on some outlets\n{links}\nModerators are fixing the rest",
    ),
    "n_item_failed": ("⚠️ ข่าว «{title}» ({receipt}) ยังเผยแพร่ไม่สำเร็จ ผู้ดูแลกำลังตรวจสอบ ไม่ต้องส่งใหม่",
                      "⚠️ «{title}» ({receipt}) could not be published yet; moderators are on it. "
                      "No need to send it again."),
    "n_item_returned": ("↩️ ข่าว «{title}» ({receipt}) ถูกส่งกลับให้แก้ไข\nเหตุผล: {reason}\n"
                        "กดปุ่มด้านล่างเพื่อแก้ไขและส่งใหม่",
                        "↩️ «{title}» ({receipt}) was returned for changes\nReason: {reason}\n"
                        "Press the button below to edit and send it again"),
    "btn_edit_resubmit": ("✏️ แก้ไขและส่งใหม่", "✏️ Edit and resend"),
    "n_item_rejected": ("⛔ ข่าว «{title}» ({receipt}) ไม่ได้รับอนุมัติ\nเหตุผล: {reason}\nส่งข่าวเรื่องใหม่ได้ที่ /news",
                        "⛔ «{title}» ({receipt}) was not approved\nReason: {reason}\nSend another story with /news"),
    "n_item_edited": ("📝 ผู้ดูแลปรับแก้ข้อความข่าว «{title}» ({receipt}) ดูได้ที่ /mine",
                      "📝 A moderator edited «{title}» ({receipt}); see /mine"),
    "n_item_withdrawn": ("🗑 ข่าว «{title}» ({receipt}) ถูกถอนออกแล้ว\nเหตุผล: {reason}",
                         "🗑 «{title}» ({receipt}) was withdrawn\nReason: {reason}"),
    "n_item_unscheduled": ("🕒 ยกเลิกการตั้งเวลาข่าว «{title}» ({receipt}) แล้ว ข่าวกลับไปรอพิจารณา",
                           "🕒 The schedule of «{title}» ({receipt}) was cancelled; it waits for review again"),
    "n_quiet_village": ("👋 {village} ยังไม่มีข่าวมา {days} วันแล้ว มีเรื่องดี ๆ ในหมู่บ้านไหม? ส่งได้ที่ /news",
                        "👋 {village} has sent no news for {days} days. Anything to share? Send it with /news"),
    "n_quiet_escalation": ("📉 หมู่บ้านที่เงียบนาน {count} แห่ง:\n{entries}\nช่วยติดตามนักประชาสัมพันธ์ของหมู่บ้านเหล่านี้",
                           "📉 {count} village(s) quiet for a long time:\n{entries}\n"
                           "Please follow up with their reporters"),
    "n_pending_approval": ("⏳ มีข่าวรอพิจารณานานเกินกำหนด {count} เรื่อง:\n{entries}\nดูได้ที่ /pending",
                           "⏳ {count} item(s) have waited too long:\n{entries}\nSee /pending"),
    "n_delivery_problems": ("⚠️ มีรายการเผยแพร่ที่ต้องตรวจสอบ {count} รายการ:\n{entries}\nดูได้ที่ /pending",
                            "⚠️ {count} post(s) need a person:\n{entries}\nSee /pending"),
    "n_outlet_reconnect": ("🔌 ช่องทาง «{outlet}» ({platform}) หยุดชั่วคราว ต้องเชื่อมต่อใหม่\nสาเหตุ: {reason}",
                           "🔌 Outlet «{outlet}» ({platform}) is paused and needs reconnecting\nCause: {reason}"),
    "n_reminder": ("🔔 มีเรื่องที่ต้องติดตาม ดูได้ที่ /pending", "🔔 Something needs your attention; see /pending"),
    "n_digest": ("📊 สรุปรายสัปดาห์ {area} ({start} – {end})\n"
                 "ส่งข่าว {submitted} · เผยแพร่ {published} · รอพิจารณา {waiting}\n{entries}",
                 "📊 Weekly digest {area} ({start} – {end})\nsubmitted {submitted} · published {published} · "
                 "waiting {waiting}\n{entries}"),
    "n_delivery_unknown": ("❓ ข่าว {receipt} ไม่แน่ใจว่าโพสต์ลง «{outlet}» แล้วหรือยัง\n"
                           "กรุณาเปิดดูช่องทางนั้น แล้วกดตอบด้านล่าง (บอทจะไม่ส่งซ้ำเองเพื่อป้องกันโพสต์ซ้ำ)",
                           "❓ We are not sure whether {receipt} went out on «{outlet}».\n"
                           "Please check the outlet, then answer below (the bot never resends on its own)."),
    "n_delivery_failed": ("⚠️ ข่าว {receipt} ส่งไปที่ «{outlet}» ไม่สำเร็จ\nสาเหตุ: {error}\n"
                          "แก้ไขสาเหตุแล้วสั่งส่งซ้ำได้จากหน้าเว็บ หรือ network-hub deliveries retry",
                          "⚠️ {receipt} failed on «{outlet}»\nCause: {error}\n"
                          "Fix the cause, then retry from the website or with network-hub deliveries retry"),
    "n_outlet_needs_human": ("🔌 ช่องทาง «{outlet}» ({platform}) หยุดชั่วคราว: {reason}\nกรุณาตรวจสอบสิทธิ์หรือโทเคน",
                             "🔌 Outlet «{outlet}» ({platform}) is paused: {reason}\nCheck its rights or token"),
    "n_generic": ("🔔 แจ้งเตือน: {kind}", "🔔 Notice: {kind}"),
    "no_link": ("(ไม่มีลิงก์)", "(no link)"),
}


def t(key: str, language: str = "th", **values: Any) -> str:
    """The message ``key`` in ``language`` with ``values`` HTML-escaped and filled in."""
    th, en = TEXTS[key]
    template = en if language == "en" else th
    return template.format(**{k: html.escape(str(v), quote=False) for k, v in values.items()})


def raw(key: str, language: str = "th") -> str:
    """The unformatted template (button labels, command descriptions)."""
    th, en = TEXTS[key]
    return en if language == "en" else th


ROLE_TH = {"reporter": "นักประชาสัมพันธ์หมู่บ้าน", "moderator": "ผู้ดูแล/ผู้อนุมัติข่าว",
           "coordinator": "ผู้ประสานงาน", "admin": "ผู้ดูแลระบบ"}
ROLE_EN = {"reporter": "village reporter", "moderator": "moderator", "coordinator": "coordinator",
           "admin": "hub admin"}


def role_label(role: str, language: str = "th") -> str:
    return (ROLE_EN if language == "en" else ROLE_TH).get(role, role)
