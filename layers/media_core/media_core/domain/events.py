"""The events products react to: "media ready / failed / deleted". Source `media-pipeline`; the
detail is the record (without its metadata) with the keys of the original and of every variant,
and the buckets holding them.

Delivery is at least once: an event is written to an outbox in the same transaction as the
record's change (media_core.dal.dynamo.outbox), and relayed to the bus from there
(media_core.services.outbox_relay): right after the write, and by a schedule for any the first
try missed. Consumers deduplicate on `detail.media_id` + `detail.version`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from media_core.domain.models import MediaRecord

EVENT_SOURCE = "media-pipeline"


class DetailType(StrEnum):
    READY = "Media Ready"
    FAILED = "Media Failed"
    DELETED = "Media Deleted"


def event_detail(record: MediaRecord, uploads_bucket: str, media_bucket: str) -> dict[str, Any]:
    detail: dict[str, Any] = record.model_dump(
        mode="json", exclude={"metadata", "upload_id", "run_id", "reprocess_requested", "public_copy"}
    )
    detail["buckets"] = {"original": uploads_bucket, "variants": media_bucket}
    detail["variant_keys"] = {name: v.key for name, v in record.variants.items()}
    return detail


@dataclass(frozen=True)
class Announcement:
    """An event to publish once the write that causes it commits (the outbox holds it until then)."""

    detail_type: DetailType
    detail: dict[str, Any]


@dataclass(frozen=True)
class PendingEvent:
    """An announcement waiting in the outbox; `key` is where the outbox keeps it."""

    key: dict[str, str]
    announcement: Announcement


# Builds the announcement from the record as the write leaves it.
Announce = Callable[[MediaRecord], Announcement]
