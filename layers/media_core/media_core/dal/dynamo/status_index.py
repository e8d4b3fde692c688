"""Data access: records by status, oldest change first (the ByStatus index). Used by jobs that
look for records stuck in a state; never a Scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from media_core.domain.models import MediaRecord, Status
from media_core.dal.dynamo.repository import INDEX_BY_STATUS, item_to_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


class StatusIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    def changed_before(self, status: Status, before: datetime) -> Iterator[MediaRecord]:
        """Records in `status` whose last change is older than `before` (index order: oldest first)."""
        kwargs: dict[str, Any] = {
            "IndexName": INDEX_BY_STATUS,
            "KeyConditionExpression": Key("status_pk").eq(f"STATUS#{status.value}")
            & Key("status_sk").lt(_iso(before)),
        }
        while True:
            page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                yield item_to_record(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
