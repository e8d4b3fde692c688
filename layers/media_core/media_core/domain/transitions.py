"""A status change of one media record, as a value: the status it moves to, what else changes
with it, and what the stored record must still be for the write to happen.

`MediaRecords.transition(record, Transition(...))` applies it atomically (the data layer turns
`expected`, the record's own state and `guard` into one condition). The rules that need no stored
state live here, once: which moves are allowed, the error when the record moved on, the new
record."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from media_core.domain.audit import AuditNote
from media_core.domain.errors import InvalidTransition
from media_core.domain.events import Announce
from media_core.domain.guards import RecordGuard
from media_core.domain.models import ALLOWED_TRANSITIONS, MediaRecord, Status, utc_now


@dataclass(frozen=True)
class Transition:
    to: Status
    changes: Mapping[str, Any] = field(default_factory=dict)  # fields set with the status
    expected: Collection[Status] | None = None  # the stored status is one of these (default: the record's)
    guard: RecordGuard | None = None  # further conditions on the stored record
    clear_expiry: bool = True  # the record stops expiring (an abandoned upload's TTL goes)
    announce: Announce | None = None  # the event written with the change (the outbox)
    audit: AuditNote | None = None  # the audit entry written with the change

    def expected_of(self, record: MediaRecord) -> frozenset[Status]:
        return frozenset(self.expected) if self.expected is not None else frozenset({record.status})

    def lost(self, record: MediaRecord) -> InvalidTransition:
        """The error when the stored record is no longer in an expected state."""
        states = " or ".join(sorted(s.value for s in self.expected_of(record)))
        return InvalidTransition(f"media {record.media_id} is no longer in state {states}")

    def check(self, record: MediaRecord) -> None:
        """Raise InvalidTransition when a move from an expected status to `to` is not allowed, or
        `record` (the caller's copy) is in none of them."""
        expected = self.expected_of(record)
        illegal = [s for s in expected if self.to not in ALLOWED_TRANSITIONS[s]]
        if illegal:
            raise InvalidTransition(f"cannot move media from {illegal[0].value} to {self.to.value}")
        if record.status not in expected:
            raise self.lost(record)

    def applied(self, record: MediaRecord) -> MediaRecord:
        """`record` as the transition leaves it (the version is the store's business)."""
        return record.model_copy(update={"status": self.to, "updated_at": utc_now(), **self.changes})
