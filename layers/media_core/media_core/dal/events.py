"""Data access: publishing media_core.domain.events on an EventBridge bus, so products react
without polling."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from media_core.domain.events import EVENT_SOURCE, DetailType

if TYPE_CHECKING:
    from mypy_boto3_events.client import EventBridgeClient

logger = Logger(child=True)


class NullPublisher:
    """No bus configured: events are dropped (logged at debug)."""

    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> None:
        self.deliver(detail_type, detail)

    def deliver(self, detail_type: DetailType, detail: dict[str, Any]) -> bool:
        logger.debug("no event bus configured; event dropped", detail_type=detail_type.value)
        return True


@dataclass
class EventBridgePublisher:
    client: EventBridgeClient
    bus_name: str
    source: str = EVENT_SOURCE

    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> None:
        self.deliver(detail_type, detail)

    def deliver(self, detail_type: DetailType, detail: dict[str, Any]) -> bool:
        """Put one event on the bus; False (logged) if it was not accepted: the outbox keeps it."""
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
            return False
        if result.get("FailedEntryCount"):
            logger.error(
                "event refused by the bus",
                detail_type=detail_type.value,
                media_id=detail.get("media_id"),
                entries=result.get("Entries"),
            )
            return False
        return True
