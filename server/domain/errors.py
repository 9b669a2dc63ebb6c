"""One exception root for the domain; the edges translate it into HTTP statuses, envelopes and close codes.

Never send ``str(exc)`` to a client: send ``exc.public_message`` (written for users) and ``exc.details``.
"""

from __future__ import annotations

from typing import Any


class VivaError(Exception):
    """Root of every error the domain raises on purpose."""

    status_code = 500
    code = "INTERNAL_ERROR"
    default_message = "Internal error"

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.public_message = message or self.default_message
        self.details = details
        super().__init__(self.public_message)


class InvalidInput(VivaError):
    """The request is well-formed but breaks a rule; ``details`` maps field -> list of messages."""

    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = "Invalid data provided"


class NotFound(VivaError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found"


class Conflict(VivaError):
    status_code = 409
    code = "CONFLICT"
    default_message = "Conflict"


class NotAuthenticated(VivaError):
    status_code = 401
    code = "UNAUTHORIZED"
    default_message = "Not authenticated"


class Forbidden(VivaError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "You do not have permission to perform this action"


class TooManyRequests(VivaError):
    status_code = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests, try again later"


class UploadRejected(VivaError):
    """An uploaded file is too large, of the wrong type, or unreadable."""

    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = "Invalid file"


class PayloadTooLarge(UploadRejected):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "File too large"


class ServiceUnavailable(VivaError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "Service unavailable, try again later"
