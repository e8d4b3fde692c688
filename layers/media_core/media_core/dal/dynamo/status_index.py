"""Data access: records by status, oldest change first (the ByStatus index). Used by jobs that
look for records stuck in a state; never a Scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key

from media_core.dal.dynamo.keys import INDEX_BY_STATUS, item_to_record, status_partition
from media_core.dal.dynamo.paging import query_items
from media_core.domain.models import MediaRecord, Status, iso_timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class StatusIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    def changed_before(self, status: Status, before: datetime) -> Iterator[MediaRecord]:
        """Records in `status` whose last change is older than `before` (index order: oldest first)."""
        condition = Key("status_pk").eq(status_partition(status)) & Key("status_sk").lt(iso_timestamp(before))
        for item in query_items(self._table, IndexName=INDEX_BY_STATUS, KeyConditionExpression=condition):
            yield item_to_record(item)
