"""Preconditions a write checks atomically against the stored record, beyond its status.

Processors use them to make at-least-once delivery safe: a claim is keyed on the object's
version, a finish on still owning the run. The data layer turns them into condition expressions;
nothing above it writes one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Condition(NamedTuple):
    """One precondition on a stored attribute (a dotted path into the record)."""

    path: str
    value: str | int
    equal: bool  # True: the attribute holds `value`; False: it is absent or holds another value


@dataclass(frozen=True)
class RecordGuard:
    run_id: str | None = None  # the stored run is this one
    etag: str | None = None  # the stored original's ETag is this one
    etag_not: str | None = None  # the stored original has no ETag, or another one
    version_id: str | None = None  # the stored original's pinned version is this one
    version_id_not: str | None = None  # no version pinned yet, or another one
    reprocess_token: str | None = None  # a reprocess request with this token is pending
    version: int | None = None  # the stored record is still the one read (no write since)

    def conditions(self) -> list[Condition]:
        """The preconditions this guard sets, in a fixed order (the data layer writes one
        condition expression from them; the in-memory fake checks them the same way)."""
        wanted = [
            ("run_id", self.run_id, True),
            ("original.etag", self.etag, True),
            ("original.etag", self.etag_not, False),
            ("original.version_id", self.version_id, True),
            ("original.version_id", self.version_id_not, False),
            ("reprocess_requested", self.reprocess_token, True),
            ("version", self.version, True),
        ]
        return [Condition(path, value, equal) for path, value, equal in wanted if value is not None]
