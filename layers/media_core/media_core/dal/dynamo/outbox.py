"""Data access: the outbox of events written with the record changes that cause them
(media_core.dal.dynamo.repository), oldest first, until the relay has put them on the bus."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key

from media_core.dal.dynamo.keys import OUTBOX_PK
from media_core.domain.events import Announcement, DetailType, PendingEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass
class DynamoOutbox:
    table: Table

    def pending(self, limit: int) -> list[PendingEvent]:
        page = self.table.query(
            KeyConditionExpression=Key("pk").eq(OUTBOX_PK), Limit=limit, ConsistentRead=True
        )
        return [
            PendingEvent(
                {"pk": str(item["pk"]), "sk": str(item["sk"])},
                Announcement(DetailType(str(item["detail_type"])), json.loads(str(item["detail"]))),
            )
            for item in page.get("Items", [])
        ]

    def remove(self, event: PendingEvent) -> None:
        self.table.delete_item(Key=event.key)
