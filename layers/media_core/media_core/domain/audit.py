"""The audit trail's vocabulary: who did what to a media record, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

SYSTEM_ACTOR = "system"


class AuditAction(StrEnum):
    UPLOADED = "uploaded"
    REPLACED = "replaced"
    PROCESSED = "processed"
    FAILED = "failed"
    DOWNLOADED = "downloaded"
    UPDATED = "updated"
    MODERATED = "moderated"
    REPROCESS_REQUESTED = "reprocess_requested"
    DELETED = "deleted"


@dataclass(frozen=True)
class AuditNote:
    """An entry still to be written: with a record's change, in the same transaction, so the
    change is never without it."""

    action: AuditAction
    actor: str
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    action: AuditAction
    actor: str
    at: datetime
    details: dict[str, Any]
