"""Data access for media records (DynamoDB). Knows items and keys; knows no business rules
beyond "this write only happens if the record is still in the state the caller expects".

Item layout (one table):
  pk=MEDIA#{id}  sk=MEDIA                       the record
  owner_pk=OWNER#{owner}        owner_sk={created_at}#{id}          index ByOwner (newest first)
  entity_pk=ENTITY#{type}#{id}  entity_sk={0 primary|1}#{created_at} index ByEntity
  status_pk=STATUS#{status}     status_sk={updated_at}#{id}          index ByStatus (reapers, cleanup)
  moderation_pk=MODERATION#{m}  moderation_sk={created_at}#{id}      index ByModeration
  expires_at                    TTL (records never uploaded, deleted-record tombstones, audit entries)
  stats_bytes                   what the record adds to its owner's total_bytes (see below)
  pk=STATS#{owner} sk=STATS     the owner's counters;  pk=STATS#ALL sk=STATS  everyone's

Counters: every write that creates, re-states or removes a record is one TransactWriteItems with
the record's conditional write and an atomic ADD of the difference on both stats items, so the
counters move exactly when the record does (a failed condition writes neither; concurrent changes
never lose an update). A record counts while it is not `deleted`: `count`, `status_{status}`,
`kind_{kind}`; `bytes` is the size of the original plus every variant of `ready` records (the
bytes the media occupies in the buckets once processed).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import ConditionBase, Key
from botocore.exceptions import ClientError

from media_core.domain.errors import Conflict, InvalidTransition
from media_core.domain.models import ALLOWED_TRANSITIONS, Kind, MediaRecord, Status, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

RECORD_SK = "MEDIA"
INDEX_BY_OWNER = "ByOwner"
INDEX_BY_ENTITY = "ByEntity"
INDEX_BY_STATUS = "ByStatus"
INDEX_BY_MODERATION = "ByModeration"
STATS_SK = "STATS"
ALL_OWNERS = "ALL"
# Attributes of the index keys: a tombstone (deleted record) drops out of every index.
INDEX_KEYS: dict[str, tuple[str, str]] = {
    INDEX_BY_OWNER: ("owner_pk", "owner_sk"),
    INDEX_BY_ENTITY: ("entity_pk", "entity_sk"),
    INDEX_BY_STATUS: ("status_pk", "status_sk"),
    INDEX_BY_MODERATION: ("moderation_pk", "moderation_sk"),
}
_INDEX_ATTRIBUTES = tuple(a for pair in INDEX_KEYS.values() for a in pair)
_TRANSACTION_ATTEMPTS = 8


def media_pk(media_id: str) -> str:
    return f"MEDIA#{media_id}"


def to_dynamo(value: Any) -> Any:
    """JSON-safe Python -> DynamoDB types (floats become Decimal; Decimals stay)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
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


def stats_pk(owner: str) -> str:
    return f"STATS#{owner}"


def stored_bytes(record: MediaRecord) -> int:
    """What a record adds to total_bytes: original + variants once ready, else nothing."""
    if record.status != Status.READY:
        return 0
    return record.original.size + sum(v.bytes for v in record.variants.values())


def counted(record: MediaRecord) -> dict[str, int]:
    """The record's contribution to its owner's counters."""
    if record.status == Status.DELETED:
        return {}
    contribution = {"count": 1, f"status_{record.status.value}": 1, f"kind_{record.kind.value}": 1}
    size = stored_bytes(record)
    if size:
        contribution["bytes"] = size
    return contribution


def counter_delta(before: MediaRecord | None, after: MediaRecord | None) -> dict[str, int]:
    old = counted(before) if before else {}
    new = counted(after) if after else {}
    delta = {name: new.get(name, 0) - old.get(name, 0) for name in {*old, *new}}
    return {name: value for name, value in sorted(delta.items()) if value}


@dataclass(frozen=True)
class Counters:
    count: int
    by_status: dict[Status, int]
    by_kind: dict[Kind, int]
    total_bytes: int


@dataclass(frozen=True)
class Page:
    records: list[MediaRecord]
    next_key: dict[str, Any] | None  # the index position to continue from (None: no more)


def record_to_item(record: MediaRecord, expires_at: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": media_pk(record.media_id), "sk": RECORD_SK}
    item.update(to_dynamo(record.model_dump(mode="json")))
    item.update(index_attributes(record))
    item["stats_bytes"] = stored_bytes(record)
    if expires_at is not None:
        item["expires_at"] = expires_at
    return item


def item_to_record(item: Mapping[str, Any]) -> MediaRecord:
    return MediaRecord.model_validate(from_dynamo(dict(item)))


def _serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values for the table resource's client, which serializes Python types itself."""
    return {k: to_dynamo(v) for k, v in values.items()}


class _Update:
    """Collects an UpdateExpression's SET/REMOVE parts with generated placeholders."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.sets: list[str] = []
        self.removes: list[str] = []

    def name(self, attribute: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = to_dynamo(value)
        return placeholder

    def set(self, attribute: str, value: Any) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.value(value)}")

    def remove(self, attribute: str) -> None:
        self.removes.append(self.name(attribute))

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)


class MediaRepository:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._client = table.meta.client
        self._name = table.name

    # ------------------------------------------------------------------ transactions with counters
    def _stats_updates(self, owner: str, delta: Mapping[str, int]) -> list[dict[str, Any]]:
        if not delta:
            return []
        names = {f"#c{i}": name for i, name in enumerate(delta)}
        values = {f":c{i}": value for i, value in enumerate(delta.values())}
        expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(delta)))
        return [
            {
                "Update": {
                    "TableName": self._name,
                    "Key": _serialize({"pk": stats_pk(who), "sk": STATS_SK}),
                    "UpdateExpression": expression,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": _serialize(values),
                }
            }
            for who in (owner, ALL_OWNERS)
        ]

    def _transact(self, items: list[dict[str, Any]], on_condition_failed: Callable[[], Exception]) -> None:
        """One TransactWriteItems; the first item is the record's. A failed condition raises
        `on_condition_failed()`; a conflict with a concurrent transaction on a stats item is retried."""
        for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
            try:
                self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
                return
            except ClientError as err:
                code = err.response["Error"]["Code"]
                if code == "ConditionalCheckFailedException":
                    raise on_condition_failed() from err
                if code != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    raise on_condition_failed() from err
                if attempt == _TRANSACTION_ATTEMPTS or not {"TransactionConflict", None, "None"} & set(
                    reasons
                ):
                    raise
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not crypto

    def _record_update(
        self,
        record: MediaRecord,
        update: _Update,
        condition: str,
        names: Mapping[str, str],
        values: Mapping[str, Any],
    ) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._name,
                "Key": _serialize({"pk": media_pk(record.media_id), "sk": RECORD_SK}),
                "UpdateExpression": update.expression(),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {**update.names, **names},
                "ExpressionAttributeValues": _serialize({**update.values, **to_dynamo(dict(values))}),
            }
        }

    @staticmethod
    def _state_condition(record: MediaRecord) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The stored record is in the state the counters are computed from: same status, and for a
        ready record the same counted bytes."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":cur": record.status.value}
        condition = "attribute_exists(pk) AND #status = :cur"
        if record.status == Status.READY:
            names["#sb"] = "stats_bytes"
            values[":sb"] = stored_bytes(record)
            condition += " AND (attribute_not_exists(#sb) OR #sb = :sb)"
        return condition, names, values

    # ------------------------------------------------------------------ records
    def create(self, record: MediaRecord, expires_at: int | None = None) -> None:
        put = {
            "Put": {
                "TableName": self._name,
                "Item": _serialize(record_to_item(record, expires_at)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        self._transact(
            [put, *self._stats_updates(record.owner, counter_delta(None, record))],
            lambda: Conflict(f"media {record.media_id} exists already"),
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
        make a processor claim conditional on the object's ETag. The counters change in the same
        transaction, computed from `record`: so the write also requires the stored record to still
        be in `record`'s status (one of `expected`).
        """
        expected_set = set(expected) if expected is not None else {record.status}
        illegal = [s for s in expected_set if to not in ALLOWED_TRANSITIONS[s]]
        if illegal:
            raise InvalidTransition(f"cannot move media from {illegal[0].value} to {to.value}")

        def lost() -> InvalidTransition:
            return InvalidTransition(
                f"media {record.media_id} is no longer in state "
                f"{' or '.join(sorted(s.value for s in expected_set))}"
            )

        if record.status not in expected_set:
            raise lost()
        now = utc_now()
        updated = record.model_copy(update={"status": to, "updated_at": now, **(changes or {})})
        dumped = updated.model_dump(mode="json")
        update = _Update()
        update.set("status", to.value)
        update.set("updated_at", dumped["updated_at"])
        update.set("status_pk", f"STATUS#{to.value}")
        update.set("status_sk", f"{_iso(now)}#{record.media_id}")
        update.set("stats_bytes", stored_bytes(updated))
        for name in changes or {}:
            update.set(name, dumped[name])
        update.sets.append(f"{update.name('version')} = {update.name('version')} + {update.value(1)}")
        if clear_expiry:
            update.remove("expires_at")
        condition, names, values = self._state_condition(record)
        if extra_condition:
            expr, extra_names, extra_values = extra_condition
            condition = f"({condition}) AND ({expr})"
            names = {**names, **extra_names}
            values = {**values, **extra_values}
        items = [
            self._record_update(record, update, condition, names, values),
            *self._stats_updates(record.owner, counter_delta(record, updated)),
        ]
        self._transact(items, lost)
        stored = self.get(record.media_id)
        return stored if stored is not None else updated

    def tombstone(self, record: MediaRecord, expires_at: int) -> MediaRecord:
        """Mark `record` deleted (conditional on its current state), out of every index and the
        counters; the item itself stays until `expires_at` (TTL) so a repeated delete is answered
        and the audit trail keeps its owner. Raises InvalidTransition if the record changed."""
        if Status.DELETED not in ALLOWED_TRANSITIONS[record.status]:
            raise InvalidTransition(f"cannot move media from {record.status.value} to deleted")
        now = utc_now()
        updated = record.model_copy(update={"status": Status.DELETED, "updated_at": now, "variants": {}})
        update = _Update()
        update.set("status", Status.DELETED.value)
        update.set("updated_at", _iso(now))
        update.set("variants", {})
        update.set("stats_bytes", 0)
        update.set("expires_at", expires_at)
        for attribute in _INDEX_ATTRIBUTES:
            update.remove(attribute)
        update.sets.append(f"{update.name('version')} = {update.name('version')} + {update.value(1)}")
        condition, names, values = self._state_condition(record)
        self._transact(
            [
                self._record_update(record, update, condition, names, values),
                *self._stats_updates(record.owner, counter_delta(record, updated)),
            ],
            lambda: InvalidTransition(f"media {record.media_id} changed state; not deleted"),
        )
        return updated

    def update(
        self,
        record: MediaRecord,
        changes: Mapping[str, Any],
        *,
        demote: MediaRecord | None = None,
    ) -> MediaRecord:
        """Change descriptive fields (no status change, counters untouched), conditional on the
        record's version; `demote` (the entity's previous primary) loses is_primary in the same
        transaction. Raises Conflict when either changed meanwhile."""
        updated = record.model_copy(update={**changes, "updated_at": utc_now()})
        dumped = updated.model_dump(mode="json")
        indexes = index_attributes(updated)
        update = _Update()
        for name in changes:
            update.set(name, dumped[name])
        update.set("updated_at", dumped["updated_at"])
        for attribute in ("entity_pk", "entity_sk", "moderation_pk", "moderation_sk"):
            if attribute in indexes:
                update.set(attribute, indexes[attribute])
            else:
                update.remove(attribute)
        update.sets.append(f"{update.name('version')} = {update.name('version')} + {update.value(1)}")
        items = [
            self._record_update(
                record,
                update,
                "attribute_exists(pk) AND #version = :version AND #status <> :deleted",
                {"#version": "version", "#status": "status"},
                {":version": record.version, ":deleted": Status.DELETED.value},
            )
        ]
        if demote is not None:
            previous = demote.model_copy(update={"is_primary": False})
            demotion = _Update()
            demotion.set("is_primary", False)
            demotion.set("entity_sk", index_attributes(previous)["entity_sk"])
            demotion.sets.append(
                f"{demotion.name('version')} = {demotion.name('version')} + {demotion.value(1)}"
            )
            items.append(
                self._record_update(
                    demote,
                    demotion,
                    "attribute_exists(pk) AND #primary = :yes",
                    {"#primary": "is_primary"},
                    {":yes": True},
                )
            )
        self._transact(items, lambda: Conflict(f"media {record.media_id} changed meanwhile; retry"))
        stored = self.get(record.media_id)
        return stored if stored is not None else updated

    def delete(self, record: MediaRecord, *, expected: Iterable[Status]) -> None:
        """Remove the item (a record that never held media: an aborted upload)."""
        expected_set = set(expected)

        def changed() -> InvalidTransition:
            return InvalidTransition(f"media {record.media_id} changed state; not deleted")

        if record.status not in expected_set:
            raise changed()
        condition, names, values = self._state_condition(record)
        delete = {
            "Delete": {
                "TableName": self._name,
                "Key": _serialize({"pk": media_pk(record.media_id), "sk": RECORD_SK}),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": _serialize(to_dynamo(values)),
            }
        }
        self._transact([delete, *self._stats_updates(record.owner, counter_delta(record, None))], changed)

    # ------------------------------------------------------------------ reads
    def counters(self, owner: str | None) -> Counters:
        """`owner`'s counters, or everyone's for None: one GetItem."""
        key = {"pk": stats_pk(owner or ALL_OWNERS), "sk": STATS_SK}
        item = from_dynamo(self._table.get_item(Key=key, ConsistentRead=True).get("Item") or {})
        return Counters(
            count=int(item.get("count", 0)),
            by_status={s: int(item.get(f"status_{s.value}", 0)) for s in Status if s != Status.DELETED},
            by_kind={k: int(item.get(f"kind_{k.value}", 0)) for k in Kind},
            total_bytes=int(item.get("bytes", 0)),
        )

    def query_page(
        self,
        index: str,
        key_condition: ConditionBase,
        *,
        page_size: int,
        start_key: Mapping[str, Any] | None = None,
        newest_first: bool = True,
        filter_expression: ConditionBase | None = None,
        accept: Callable[[MediaRecord], bool] | None = None,
        max_reads: int = 10,
    ) -> Page:
        """Up to `page_size` records of an index, in index order, that pass the filter and
        `accept`. Stops after `max_reads` Query calls so a selective filter never makes one request
        read without bound: the page can then hold fewer records, and `next_key` is still right."""
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": key_condition,
            "ScanIndexForward": not newest_first,
            "Limit": page_size,
        }
        if filter_expression is not None:
            kwargs["FilterExpression"] = filter_expression
        if start_key:
            kwargs["ExclusiveStartKey"] = dict(start_key)
        keys = ("pk", "sk", *INDEX_KEYS[index])
        records: list[MediaRecord] = []
        for _ in range(max_reads):
            page = self._table.query(**kwargs)
            items = page.get("Items", [])
            for position, item in enumerate(items):
                record = item_to_record(item)
                if accept is not None and not accept(record):
                    continue
                records.append(record)
                if len(records) == page_size:
                    more = position < len(items) - 1 or "LastEvaluatedKey" in page
                    return Page(records, {k: item[k] for k in keys} if more else None)
            if "LastEvaluatedKey" not in page:
                return Page(records, None)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return Page(records, dict(kwargs["ExclusiveStartKey"]))

    def primary_of(self, entity_type: str, entity_id: str) -> MediaRecord | None:
        page = self._table.query(
            IndexName=INDEX_BY_ENTITY,
            KeyConditionExpression=Key("entity_pk").eq(f"ENTITY#{entity_type}#{entity_id}")
            & Key("entity_sk").begins_with("0#"),
        )
        items = page.get("Items", [])
        return item_to_record(items[0]) if items else None
