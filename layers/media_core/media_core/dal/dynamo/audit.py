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
from media_core.domain.audit import AuditAction, AuditEntry, AuditNote
from media_core.domain.models import iso_timestamp, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


DEFAULT_RETENTION_DAYS = 90


def audit_item(media_id: str, note: AuditNote, retention_days: int) -> dict[str, Any]:
    """The item of one entry, stamped now: written alone (AuditLog) or with a record's change
    (the repository's transaction)."""
    at = utc_now()
    stamp = iso_timestamp(at)
    return {
        "pk": media_pk(media_id),
        "sk": f"{AUDIT_PREFIX}{stamp}#{uuid.uuid4().hex}",
        "action": note.action.value,
        "actor": note.actor,
        "at": stamp,
        "details": to_dynamo(note.details),
        "expires_at": int((at + timedelta(days=retention_days)).timestamp()),
    }


@dataclass
class AuditLog:
    table: Table
    retention_days: int = DEFAULT_RETENTION_DAYS

    def record(
        self, media_id: str, action: AuditAction, actor: str, details: dict[str, Any] | None = None
    ) -> None:
        note = AuditNote(action, actor, details or {})
        self.table.put_item(Item=audit_item(media_id, note, self.retention_days))

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
