"""What a record adds to its owner's counters (count, per status, per kind, bytes stored).

Pure rules: the data layer applies `counter_delta` atomically with the record's own write."""

from __future__ import annotations

from dataclasses import dataclass

from media_core.domain.models import Kind, MediaRecord, Status


@dataclass(frozen=True)
class Counters:
    count: int
    by_status: dict[Status, int]
    by_kind: dict[Kind, int]
    total_bytes: int


@dataclass(frozen=True)
class CreateLimits:
    """Where an owner's counters must still be, with the new record counted, for its create to
    be written: enforced in the write (a condition on the counters), not only read before it."""

    max_awaiting: int  # records awaiting their bytes, the new one included
    max_stored_bytes: int  # bytes of ready media, plus the new record's declared size


def stored_bytes(record: MediaRecord) -> int:
    """What a record adds to total_bytes: original + variants once ready, else nothing."""
    if record.status != Status.READY:
        return 0
    return record.original.size + sum(v.bytes for v in record.variants.values())


def counted(record: MediaRecord) -> dict[str, int]:
    """The record's contribution to its owner's counters (a deleted record counts nothing)."""
    if record.status == Status.DELETED:
        return {}
    contribution = {"count": 1, f"status_{record.status.value}": 1, f"kind_{record.kind.value}": 1}
    size = stored_bytes(record)
    if size:
        contribution["bytes"] = size
    return contribution


def counter_delta(before: MediaRecord | None, after: MediaRecord | None) -> dict[str, int]:
    old = counted(before) if before else {}
    new = counted(after) if after else {}
    delta = {name: new.get(name, 0) - old.get(name, 0) for name in {*old, *new}}
    return {name: value for name, value in sorted(delta.items()) if value}
