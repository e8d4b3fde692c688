"""Data access: bytes each owner started uploading per UTC day (quota), one atomic counter item
per owner and day, expired by TTL after two days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from media_core.dal.dynamo.convert import from_dynamo, serialize
from media_core.dal.dynamo.expressions import Expression
from media_core.dal.dynamo.keys import quota_day_key
from media_core.domain.models import utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass
class DailyUsage:
    table: Table

    @staticmethod
    def _today() -> str:
        return utc_now().date().isoformat()

    def started_today(self, owner: str) -> int:
        item = self.table.get_item(Key=quota_day_key(owner, self._today()), ConsistentRead=True).get("Item")
        return int(from_dynamo(item or {}).get("bytes", 0))

    def reserve(self, owner: str, size: int, limit: int | None) -> bool:
        """Count `size` bytes started today, only if that keeps the day at most `limit` (None: no
        limit): one conditional update, so concurrent uploads cannot all fit in the same room."""
        expression = Expression()
        expression.add("bytes", size)
        expression.set("expires_at", int((utc_now() + timedelta(days=2)).timestamp()))
        if limit is not None:
            if size > limit:
                return False
            expression.at_most("bytes", limit - size)
        update = expression.item(self.table.name, serialize(quota_day_key(owner, self._today())))
        try:
            self.table.meta.client.update_item(**update)
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, owner: str, size: int) -> None:
        """Give back a reservation whose upload was not created."""
        expression = Expression()
        expression.add("bytes", -size)
        update = expression.item(self.table.name, serialize(quota_day_key(owner, self._today())))
        self.table.meta.client.update_item(**update)
