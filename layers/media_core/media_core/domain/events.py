"""The events products react to: "media ready / failed / deleted". Source `media-pipeline`; the
detail is the record (without its metadata) with the keys of the original and of every variant,
and the buckets holding them."""

from __future__ import annotations

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
        mode="json", exclude={"metadata", "upload_id", "run_id", "reprocess_requested"}
    )
    detail["buckets"] = {"original": uploads_bucket, "variants": media_bucket}
    detail["variant_keys"] = {name: v.key for name, v in record.variants.items()}
    return detail
