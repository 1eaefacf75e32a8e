"""Thai labels for statuses, categories and PDPA flags (what reporters and moderators read)."""

from __future__ import annotations

from network_hub.states import Category, ItemStatus, PdpaFlag

STATUS_TH: dict[str, str] = {
    ItemStatus.SUBMITTED: "รอพิจารณา",
    ItemStatus.CHANGES_REQUESTED: "ส่งกลับให้แก้ไข",
    ItemStatus.REJECTED: "ไม่อนุมัติ",
    ItemStatus.APPROVED: "อนุมัติแล้ว",
    ItemStatus.SCHEDULED: "ตั้งเวลาเผยแพร่แล้ว",
    ItemStatus.PUBLISHING: "กำลังเผยแพร่",
    ItemStatus.PUBLISHED: "เผยแพร่แล้ว",
    ItemStatus.PARTIALLY_PUBLISHED: "เผยแพร่แล้วบางช่องทาง",
    ItemStatus.FAILED: "เผยแพร่ไม่สำเร็จ",
    ItemStatus.WITHDRAWN: "ถอนข่าวแล้ว",
}

CATEGORY_TH: dict[str, str] = {
    Category.DEVELOPMENT_RESULT: "ผลการพัฒนา",
    Category.LOCAL_PRODUCT: "ผลิตภัณฑ์ชุมชน",
    Category.COMMUNITY_CHARM: "เสน่ห์ชุมชน",
    Category.ANNOUNCEMENT: "ประชาสัมพันธ์",
    Category.EVENT: "กิจกรรม",
}

PDPA_FLAG_TH: dict[str, str] = {
    PdpaFlag.THAI_NATIONAL_ID: "เลขประจำตัวประชาชน",
    PdpaFlag.PHONE_NUMBER: "หมายเลขโทรศัพท์",
    PdpaFlag.MINOR: "ข้อมูลหรือภาพเด็ก",
    PdpaFlag.HEALTH_OR_DISABILITY: "ข้อมูลสุขภาพหรือความพิการ",
    PdpaFlag.BANK_ACCOUNT: "เลขบัญชีธนาคารหรือพร้อมเพย์",
}


def status_th(status: str) -> str:
    return STATUS_TH.get(status, status)
