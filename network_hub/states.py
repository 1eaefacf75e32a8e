"""Every status and role the domain knows, as string enums (stored as their values)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REPORTER = "reporter"
    MODERATOR = "moderator"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class AreaLevel(StrEnum):
    COUNTRY = "country"
    PROVINCE = "province"
    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    VILLAGE = "village"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    FORGOTTEN = "forgotten"


class Category(StrEnum):
    DEVELOPMENT_RESULT = "development_result"
    LOCAL_PRODUCT = "local_product"
    COMMUNITY_CHARM = "community_charm"
    ANNOUNCEMENT = "announcement"
    EVENT = "event"


class ItemStatus(StrEnum):
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    PARTIALLY_PUBLISHED = "partially_published"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class PdpaFlag(StrEnum):
    THAI_NATIONAL_ID = "thai_national_id"
    PHONE_NUMBER = "phone_number"
    MINOR = "minor"
    HEALTH_OR_DISABILITY = "health_or_disability"
    BANK_ACCOUNT = "bank_account"


class Platform(StrEnum):
    TELEGRAM = "telegram"
    FACEBOOK = "facebook"
    SANDBOX = "sandbox"
    LINE = "line"


class OutletStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class DeliveryState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class FollowupAction(StrEnum):
    """Work on an already-sent delivery: a correction (edit) or a withdrawal (delete)."""

    EDIT = "edit"
    DELETE = "delete"


class ErrorClass(StrEnum):
    """How a platform failure is handled (publishers/base.py explains each; re-exported there)."""

    RETRYABLE = "retryable"
    RATE_LIMITED = "rate_limited"
    AMBIGUOUS = "ambiguous"
    NEEDS_HUMAN = "needs_human"
    PERMANENT = "permanent"


class FollowupState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # a worker holds the lease and is editing/deleting on the platform
    DONE = "done"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class OccurrenceState(StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    SKIPPED = "skipped"
    COALESCED = "coalesced"
