"""Preconditions a write checks atomically against the stored record, beyond its status.

Processors use them to make at-least-once delivery safe: a claim is keyed on the object's
version, a finish on still owning the run. The data layer turns them into condition expressions;
nothing above it writes one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordGuard:
    run_id: str | None = None  # the stored run is this one
    etag: str | None = None  # the stored original's ETag is this one
    etag_not: str | None = None  # the stored original has no ETag, or another one
    version_id: str | None = None  # the stored original's pinned version is this one
    version_id_not: str | None = None  # no version pinned yet, or another one
    reprocess_token: str | None = None  # a reprocess request with this token is pending
