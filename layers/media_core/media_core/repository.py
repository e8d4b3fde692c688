"""Data access for media records (DynamoDB). Knows items and keys; knows no business rules
beyond "this write only happens if the record is still in the state the caller expects".

Item layout (one table):
  pk=MEDIA#{id}  sk=MEDIA                       the record
  owner_pk=OWNER#{owner}        owner_sk={created_at}#{id}          index ByOwner (newest first)
  entity_pk=ENTITY#{type}#{id}  entity_sk={0 primary|1}#{created_at} index ByEntity
  status_pk=STATUS#{status}     status_sk={updated_at}#{id}          index ByStatus (reapers, cleanup)
  moderation_pk=MODERATION#{m}  moderation_sk={created_at}#{id}      index ByModeration
  expires_at                    TTL (records never uploaded, audit entries)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from media_core.errors import InvalidTransition
from media_core.models import ALLOWED_TRANSITIONS, MediaRecord, Status, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

RECORD_SK = "MEDIA"
INDEX_BY_OWNER = "ByOwner"
INDEX_BY_ENTITY = "ByEntity"
INDEX_BY_STATUS = "ByStatus"
INDEX_BY_MODERATION = "ByModeration"


def media_pk(media_id: str) -> str:
    return f"MEDIA#{media_id}"


def to_dynamo(value: Any) -> Any:
    """JSON-safe Python -> DynamoDB types (floats become Decimal)."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def index_attributes(record: MediaRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "owner_pk": f"OWNER#{record.owner}",
        "owner_sk": f"{_iso(record.created_at)}#{record.media_id}",
        "status_pk": f"STATUS#{record.status.value}",
        "status_sk": f"{_iso(record.updated_at)}#{record.media_id}",
        "moderation_pk": f"MODERATION#{record.moderation.value}",
        "moderation_sk": f"{_iso(record.created_at)}#{record.media_id}",
    }
    if record.entity:
        attrs["entity_pk"] = f"ENTITY#{record.entity.type}#{record.entity.id}"
        attrs["entity_sk"] = f"{0 if record.is_primary else 1}#{_iso(record.created_at)}"
    return attrs


def record_to_item(record: MediaRecord, expires_at: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": media_pk(record.media_id), "sk": RECORD_SK}
    item.update(to_dynamo(record.model_dump(mode="json")))
    item.update(index_attributes(record))
    if expires_at is not None:
        item["expires_at"] = expires_at
    return item


def item_to_record(item: Mapping[str, Any]) -> MediaRecord:
    return MediaRecord.model_validate(from_dynamo(dict(item)))


class MediaRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, record: MediaRecord, expires_at: int | None = None) -> None:
        self._table.put_item(
            Item=record_to_item(record, expires_at),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, media_id: str) -> MediaRecord | None:
        item = self._table.get_item(Key={"pk": media_pk(media_id), "sk": RECORD_SK}, ConsistentRead=True).get(
            "Item"
        )
        return item_to_record(item) if item else None

    def transition(
        self,
        record: MediaRecord,
        to: Status,
        *,
        expected: Iterable[Status] | None = None,
        changes: Mapping[str, Any] | None = None,
        extra_condition: tuple[str, Mapping[str, str], Mapping[str, Any]] | None = None,
        clear_expiry: bool = True,
    ) -> MediaRecord:
        """Move `record` to status `to`, only if the stored status is one of `expected`
        (default: the record's current status) and the transition is allowed. Returns the new record.

        `extra_condition` is (expression, names, values) ANDed to the status condition, e.g. to
        make a processor claim conditional on the object's ETag.
        """
        expected_set = set(expected) if expected is not None else {record.status}
        illegal = [s for s in expected_set if to not in ALLOWED_TRANSITIONS[s]]
        if illegal:
            raise InvalidTransition(f"cannot move media from {illegal[0].value} to {to.value}")
        now = utc_now()
        updated = record.model_copy(update={"status": to, "updated_at": now, **(changes or {})})
        fields: dict[str, Any] = {
            "status": to.value,
            "updated_at": updated.model_dump(mode="json")["updated_at"],
            "status_pk": f"STATUS#{to.value}",
            "status_sk": f"{_iso(now)}#{record.media_id}",
        }
        dumped = updated.model_dump(mode="json")
        for name in changes or {}:
            fields[name] = dumped[name]
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values: dict[str, Any] = {f":v{i}": to_dynamo(fields[name]) for i, name in enumerate(fields)}
        set_parts = [f"#f{i} = :v{i}" for i in range(len(fields))]
        names["#version"] = "version"
        values[":one"] = 1
        set_parts.append("#version = #version + :one")
        status_values = {f":s{i}": s.value for i, s in enumerate(sorted(expected_set))}
        values.update(status_values)
        names["#status"] = "status"
        condition = f"#status IN ({', '.join(status_values)})"
        if extra_condition:
            expr, extra_names, extra_values = extra_condition
            condition = f"({condition}) AND ({expr})"
            names.update(extra_names)
            values.update(to_dynamo(dict(extra_values)))
        update = "SET " + ", ".join(set_parts)
        if clear_expiry:
            update += " REMOVE expires_at"
        try:
            result = self._table.update_item(
                Key={"pk": media_pk(record.media_id), "sk": RECORD_SK},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise InvalidTransition(
                    f"media {record.media_id} is no longer in state "
                    f"{' or '.join(sorted(s.value for s in expected_set))}"
                ) from err
            raise
        return item_to_record(result["Attributes"])

    def delete(self, record: MediaRecord, *, expected: Iterable[Status]) -> None:
        statuses = {f":s{i}": s.value for i, s in enumerate(sorted(set(expected)))}
        try:
            self._table.delete_item(
                Key={"pk": media_pk(record.media_id), "sk": RECORD_SK},
                ConditionExpression=f"#status IN ({', '.join(statuses)})",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=statuses,
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise InvalidTransition(f"media {record.media_id} changed state; not deleted") from err
            raise
