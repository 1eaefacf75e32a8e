"""Domain errors: an English message for logs and operators, a Thai one for end users.

Every interface (CLI, bot, web) catches ``HubError`` and shows the message in the reader's
language; nothing is changed when one is raised (services raise before they write, or the
transaction rolls back).
"""

from __future__ import annotations

# Exit codes for failures that are not a HubError (values from sysexits.h / errno, so scripts can tell
# them apart from "not found" (3) and "invalid input" (2)).
EXIT_UNAVAILABLE = 69  # the database is missing, unreachable or not initialised
EXIT_ADDRESS_IN_USE = 98  # the web port is taken by another program (errno EADDRINUSE)


class HubError(Exception):
    """Base class. ``code`` is stable and machine-readable."""

    code = "error"
    exit_code = 1

    def __init__(self, message_en: str, message_th: str | None = None) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_th = message_th or message_en

    def message(self, language: str = "th") -> str:
        return self.message_th if language == "th" else self.message_en


class InvalidInput(HubError):
    code = "invalid_input"
    exit_code = 2


class NotFound(HubError):
    code = "not_found"
    exit_code = 3


class PermissionDenied(HubError):
    code = "permission_denied"
    exit_code = 4


class Conflict(HubError):
    """A stale or repeated action: the object is no longer in the state the action expects."""

    code = "conflict"
    exit_code = 5


class NeedsConfirmation(HubError):
    """The action is allowed only with an explicit confirmation (e.g. PDPA flags)."""

    code = "needs_confirmation"
    exit_code = 6
