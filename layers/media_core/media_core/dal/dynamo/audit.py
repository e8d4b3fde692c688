"""Data access: the audit trail of a media record (who did what, when), kept for a retention
period by DynamoDB TTL.

  pk=MEDIA#{id}  sk=AUDIT#{iso time}#{uuid}  action, actor, at, details, expires_at
Read with one Query on the record's partition (begins_with AUDIT#), oldest first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from media_core.domain.models import utc_now
from media_core.dal.dynamo.repository import from_dynamo, media_pk, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

AUDIT_PREFIX = "AUDIT#"
SYSTEM_ACTOR = "system"


class AuditAction(StrEnum):
    UPLOADED = "uploaded"
    PROCESSED = "processed"
    FAILED = "failed"
    DOWNLOADED = "downloaded"
    UPDATED = "updated"
    MODERATED = "moderated"
    REPROCESS_REQUESTED = "reprocess_requested"
    DELETED = "deleted"


@dataclass(frozen=True)
class AuditEntry:
    action: AuditAction
    actor: str
    at: datetime
    details: dict[str, Any]


@dataclass
class AuditLog:
    table: Table
    retention_days: int = 90

    def record(
        self,
        media_id: str,
        action: AuditAction,
        actor: str,
        details: dict[str, Any] | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        at = now or utc_now()
        stamp = at.isoformat().replace("+00:00", "Z")
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
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(media_pk(media_id)) & Key("sk").begins_with(AUDIT_PREFIX)
        }
        found: list[AuditEntry] = []
        while len(found) < limit:
            page = self.table.query(**kwargs)
            for item in page.get("Items", []):
                found.append(
                    AuditEntry(
                        action=AuditAction(str(item["action"])),
                        actor=str(item["actor"]),
                        at=datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00")),
                        details=from_dynamo(item.get("details") or {}),
                    )
                )
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]
