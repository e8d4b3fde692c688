"""Domain exceptions. Logic raises these; `media_core.api.http` maps them to HTTP in one place."""

from __future__ import annotations

import re

_SIGNED_QUERY = re.compile(r"(https?://[^\s?'\"]+)\?[^\s'\"]*")


def redact(text: str) -> str:
    """Presigned URLs carry credentials: never in a log or a failure reason (only their path)."""
    return _SIGNED_QUERY.sub(r"\1?<signature removed>", text)


class DomainError(Exception):
    """Base class: `message` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    """A field breaks a rule (-> 422). `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class TooLarge(DomainError):
    """Declared or actual size above the kind's limit (-> 413)."""


class UnsupportedType(DomainError):
    """Content type or extension not in any allowlist (-> 415)."""


class NotFound(DomainError):
    """Unknown id, or one the caller may not see (-> 404: never a hint which)."""


class Forbidden(DomainError):
    """Authenticated but not allowed, where existence is not secret (-> 403)."""


class Unauthorized(DomainError):
    """No usable identity in the request context (-> 401)."""


class QuotaExceeded(DomainError):
    """The caller's quota does not allow this upload (-> 429); the message gives limit and use."""


class OverQuota(QuotaExceeded):
    """The write itself found the owner's counters at a limit (a concurrent request took the
    room after this one's check): nothing was written. The service words the message."""


class Conflict(DomainError):
    """The request does not fit the record's current state (-> 409)."""


class InvalidTransition(Conflict):
    """A status change the state machine does not allow, or lost a race (conditional write failed)."""


class MediaRejected(DomainError):
    """The uploaded file itself is unacceptable: ends the record `failed` with `message` as the
    reason. Never retried: the same bytes will fail the same way."""


class PrimaryChanged(Conflict):
    """The entity's primary item is not the one read before the write (a concurrent switch won):
    read it again and retry, or answer 409."""
