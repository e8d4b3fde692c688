"""Data access: "media ready / failed / deleted" events on an EventBridge bus, so products react
without polling. Source `media-pipeline`; detail-types below; the detail is the record (without
its metadata) with the keys of the original and of every variant, and the buckets holding them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from media_core.domain.models import MediaRecord

if TYPE_CHECKING:
    from mypy_boto3_events.client import EventBridgeClient

logger = Logger(child=True)
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


class EventPublisher(Protocol):
    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> None: ...


class NullPublisher:
    """No bus configured: events are dropped (logged at debug)."""

    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> None:
        logger.debug("no event bus configured; event dropped", detail_type=detail_type.value)


@dataclass
class EventBridgePublisher:
    client: EventBridgeClient
    bus_name: str
    source: str = EVENT_SOURCE

    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> None:
        """Best effort after the record is settled: a failure is logged, never raised (the record's
        state is the source of truth; a retry of the whole message would be a duplicate)."""
        try:
            result = self.client.put_events(
                Entries=[
                    {
                        "EventBusName": self.bus_name,
                        "Source": self.source,
                        "DetailType": detail_type.value,
                        "Detail": json.dumps(detail, separators=(",", ":")),
                        "Resources": [],
                    }
                ]
            )
        except Exception:
            logger.exception(
                "event not published", detail_type=detail_type.value, media_id=detail.get("media_id")
            )
            return
        if result.get("FailedEntryCount"):
            logger.error(
                "event refused by the bus",
                detail_type=detail_type.value,
                media_id=detail.get("media_id"),
                entries=result.get("Entries"),
            )
