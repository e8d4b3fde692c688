"""Data access: the audit trail of a media record (who did what, when), kept for a retention
period by DynamoDB TTL.

  pk=MEDIA#{id}  sk=AUDIT#{iso time}#{uuid}  action, actor, at, details, expires_at
Read with one Query on the record's partition (begins_with AUDIT#), oldest first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from media_core.dal.dynamo.convert import from_dynamo, to_dynamo
from media_core.dal.dynamo.keys import AUDIT_PREFIX, media_pk
from media_core.dal.dynamo.paging import query_items
from media_core.domain.audit import AuditAction, AuditEntry
from media_core.domain.models import iso_timestamp, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass
class AuditLog:
    table: Table
    retention_days: int = 90

    def record(
        self, media_id: str, action: AuditAction, actor: str, details: dict[str, Any] | None = None
    ) -> None:
        at = utc_now()
        stamp = iso_timestamp(at)
        self.table.put_item(
            Item={
                "pk": media_pk(media_id),
                "sk": f"{AUDIT_PREFIX}{stamp}#{uuid.uuid4().hex}",
                "action": action.value,
                "actor": actor,
                "at": stamp,
                "details": to_dynamo(details or {}),
                "expires_at": int((at + timedelta(days=self.retention_days)).timestamp()),
            }
        )

    def entries(self, media_id: str, limit: int = 1000) -> list[AuditEntry]:
        condition = Key("pk").eq(media_pk(media_id)) & Key("sk").begins_with(AUDIT_PREFIX)
        found: list[AuditEntry] = []
        for item in query_items(self.table, KeyConditionExpression=condition):
            found.append(
                AuditEntry(
                    action=AuditAction(str(item["action"])),
                    actor=str(item["actor"]),
                    at=datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00")),
                    details=from_dynamo(item.get("details") or {}),
                )
            )
            if len(found) == limit:
                break
        return found
