"""Data access for media records (DynamoDB). Knows items and keys (media_core.dal.dynamo.keys);
knows no business rules beyond "this write only happens if the stored record is still in the
state the caller expects".

Counters: every write that creates, re-states or removes a record is one TransactWriteItems with
the record's conditional write and an atomic ADD of the difference on both stats items
(media_core.domain.counters), so the counters move exactly when the record does: a failed
condition writes neither, and concurrent changes never lose an update.

One primary per entity: the ByEntity index is never strongly consistent, so it cannot tell who
the primary is before a switch. A marker item per owner's entity (keys.primary_key) names the
primary; every write that makes a record primary, or stops it being one (is_primary, a changed or
removed entity link, a tombstone, a delete), changes the marker in the same transaction as the
records, conditional on the marker still naming what was read (strongly consistent) and on a
demoted record still being that entity's primary. A lost race raises PrimaryChanged, and nothing
is written.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import ConditionBase, Key
from botocore.exceptions import ClientError

from media_core.dal.dynamo.audit import DEFAULT_RETENTION_DAYS, audit_item
from media_core.dal.dynamo.convert import from_dynamo, serialize
from media_core.dal.dynamo.expressions import Expression, filter_condition
from media_core.dal.dynamo.keys import (
    INDEX_ATTRIBUTES,
    INDEX_BY_ENTITY,
    INDEX_BY_MODERATION,
    INDEX_BY_OWNER,
    INDEX_KEYS,
    entity_partition,
    entity_sort_key,
    index_attributes,
    item_to_record,
    moderation_partition,
    outbox_key,
    owner_partition,
    primary_key,
    record_key,
    record_to_item,
    stats_key,
    status_partition,
    status_sort_key,
)
from media_core.dal.dynamo.paging import checked_position
from media_core.domain.audit import AuditNote
from media_core.domain.counters import Counters, CreateLimits, counter_delta, stored_bytes
from media_core.domain.errors import Conflict, InvalidTransition, OverQuota, PrimaryChanged
from media_core.domain.events import Announce
from media_core.domain.models import (
    ALLOWED_TRANSITIONS,
    EntityRef,
    Kind,
    MediaRecord,
    Moderation,
    Status,
    iso_timestamp,
    utc_now,
)
from media_core.domain.paging import MediaFilter, Page, PageRequest
from media_core.domain.transitions import Transition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_TRANSACTION_ATTEMPTS = 8
OUTBOX_RETENTION = timedelta(days=14)


class _AlreadyDone(Exception):
    pass


class MediaRepository:
    def __init__(self, table: Table, audit_retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self._table = table
        self._client = table.meta.client
        self._name = table.name
        self._audit_retention_days = audit_retention_days

    # ------------------------------------------------------------------ transactions with counters
    def _stats_updates(
        self, owner: str, delta: Mapping[str, int], owner_conditions: Expression | None = None
    ) -> list[dict[str, Any]]:
        """The owner's then everyone's counters moved by `delta`; the owner's under
        `owner_conditions` (an Expression holding only conditions) when given."""
        items = []
        for who in (owner, None):
            if not delta:
                break
            expression = owner_conditions if who is not None and owner_conditions else Expression()
            for name, amount in delta.items():
                expression.add(name, amount)
            items.append({"Update": expression.item(self._name, serialize(stats_key(who)))})
        return items

    @staticmethod
    def _within(record: MediaRecord, limits: CreateLimits) -> Expression:
        """The owner's counters leave room for `record` (a new upload awaiting its bytes)."""
        awaiting_room = limits.max_awaiting - 1
        stored_room = limits.max_stored_bytes - record.original.size
        if awaiting_room < 0 or stored_room < 0:
            raise OverQuota("quota: no room for this upload")
        conditions = Expression()
        conditions.at_most(f"status_{Status.AWAITING_UPLOAD.value}", awaiting_room)
        conditions.at_most("bytes", stored_room)
        return conditions

    def _transact(
        self,
        items: list[dict[str, Any]],
        on_condition_failed: Callable[[], Exception],
        on_other_failed: Callable[[], Exception] | None = None,
        on_item_failed: Mapping[int, Callable[[], Exception]] | None = None,
    ) -> None:
        """One TransactWriteItems; the first item is the record's. A failed condition raises
        `on_condition_failed()` (or, when only another item's condition failed, `on_other_failed()`
        if given; `on_item_failed[i]()` before both when item i's condition failed); a conflict
        with a concurrent transaction on a stats item is retried."""
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
                    by_item = on_item_failed or {}
                    for index, reason in enumerate(reasons):
                        if reason == "ConditionalCheckFailed" and index in by_item:
                            raise by_item[index]() from err
                    if on_other_failed is not None and reasons[0] != "ConditionalCheckFailed":
                        raise on_other_failed() from err
                    raise on_condition_failed() from err
                if attempt == _TRANSACTION_ATTEMPTS or not {"TransactionConflict", None, "None"} & set(
                    reasons
                ):
                    raise
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not crypto

    def _outbox_put(self, announce: Announce | None, record: MediaRecord) -> list[dict[str, Any]]:
        """The event the write causes, stored with it: it reaches the bus even if we die next."""
        if announce is None:
            return []
        announcement = announce(record)
        now = utc_now()
        item = {
            **outbox_key(iso_timestamp(now), record.media_id, uuid.uuid4().hex),
            "detail_type": announcement.detail_type.value,
            "detail": json.dumps(announcement.detail, separators=(",", ":"), default=str),
            "expires_at": int((now + OUTBOX_RETENTION).timestamp()),
        }
        return [{"Put": {"TableName": self._name, "Item": serialize(item)}}]

    def _audit_put(self, note: AuditNote | None, media_id: str) -> list[dict[str, Any]]:
        """The audit entry the write makes, stored with it: the change is never without it."""
        if note is None:
            return []
        item = audit_item(media_id, note, self._audit_retention_days)
        return [{"Put": {"TableName": self._name, "Item": serialize(item)}}]

    def _record_update(self, record: MediaRecord, expression: Expression) -> dict[str, Any]:
        return {"Update": expression.item(self._name, serialize(record_key(record.media_id)))}

    # ------------------------------------------------------------------ the entity's primary marker
    def _marked(self, owner: str, entity: EntityRef) -> str | None:
        """The media id the owner's entity's marker names (a strongly consistent read)."""
        key = primary_key(owner, entity.type, entity.id)
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return str(item["media_id"]) if item else None

    def _still_primary(self, media_id: str, owner: str, entity: EntityRef) -> MediaRecord | None:
        """The record, if it is the primary item of the owner's entity (a strongly consistent read)."""
        record = self.get(media_id)
        return record if record is not None and _is_primary_of(record, owner, entity) else None

    @staticmethod
    def _primacy_as_read(expression: Expression, record: MediaRecord) -> None:
        """The stored record is (or is not) its entity's primary, as `record` says: for the writes
        that are not conditional on the version (a tombstone, a delete)."""
        if record.is_primary and record.entity is not None:
            expression.is_primary_of(record.owner, record.entity.type, record.entity.id)
        else:
            expression.differs("is_primary", True)

    def _claim(self, record: MediaRecord, entity: EntityRef, demote: MediaRecord | None) -> dict[str, Any]:
        """The marker's Put naming `record`, conditional on it still naming what it names now:
        `demote`, nothing (no primary yet, or a primary from before the markers, `demote`), or a
        record that is not the entity's primary any more (it expired). If it names another
        record that is the entity's primary, that one won a race: PrimaryChanged, nothing written."""
        marked = self._marked(record.owner, entity)
        if (
            marked is not None
            and marked != (demote.media_id if demote else None)
            and self._still_primary(marked, record.owner, entity) is not None
        ):
            raise PrimaryChanged(f"the primary item of {entity.type} {entity.id} changed meanwhile; retry")
        condition = Expression()
        condition.names_primary(marked)
        item = {**primary_key(record.owner, entity.type, entity.id), "media_id": record.media_id}
        return condition.put(self._name, serialize(item))

    def _release(self, record: MediaRecord, entity: EntityRef | None) -> list[dict[str, Any]]:
        """The marker's Delete, if it names `record` (which the caller's condition keeps the
        primary of `entity` until the write): nothing else changes a marker that names it."""
        if entity is None or self._marked(record.owner, entity) != record.media_id:
            return []
        condition = Expression()
        condition.names_primary(record.media_id)
        return [condition.delete(self._name, serialize(primary_key(record.owner, entity.type, entity.id)))]

    # ------------------------------------------------------------------ records
    def create(
        self, record: MediaRecord, expires_at: int | None = None, *, limits: CreateLimits | None = None
    ) -> None:
        """Write a new record and its counters; with `limits`, only if the owner's counters leave
        room for it (OverQuota otherwise: concurrent creates cannot all pass a read check)."""
        conditions = self._within(record, limits) if limits is not None else None
        put = {
            "Put": {
                "TableName": self._name,
                "Item": serialize(record_to_item(record, expires_at)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        claim = []
        if record.is_primary and record.entity is not None:
            claim = [self._claim(record, record.entity, None)]
        stats = self._stats_updates(record.owner, counter_delta(None, record), conditions)
        self._transact(
            [put, *claim, *stats],
            lambda: Conflict(f"media {record.media_id} exists already"),
            lambda: PrimaryChanged(f"the entity of media {record.media_id} has a primary item already"),
            {1 + len(claim): lambda: OverQuota("quota: a concurrent upload took the room")},
        )

    def get(self, media_id: str) -> MediaRecord | None:
        item = self._table.get_item(Key=record_key(media_id), ConsistentRead=True).get("Item")
        return item_to_record(item) if item else None

    def transition(self, record: MediaRecord, change: Transition) -> MediaRecord:
        """Apply `change` to `record`: only if the stored status is one of `change.expected`
        (default: the record's current status), the move is allowed and `change.guard` holds. The
        counters change in the same transaction, computed from `record`: so the write also
        requires the stored record to still be in `record`'s state. Returns the stored record."""
        change.check(record)
        updated = change.applied(record)
        dumped = updated.model_dump(mode="json")
        expression = Expression()
        expression.set("status", change.to.value)
        expression.set("updated_at", dumped["updated_at"])
        expression.set("status_pk", status_partition(change.to))
        expression.set("status_sk", status_sort_key(updated))
        expression.set("stats_bytes", stored_bytes(updated))
        for name in change.changes:
            expression.set(name, dumped[name])
        if "moderation" in change.changes:
            expression.set("moderation_pk", moderation_partition(updated.moderation))
        expression.bump_version()
        if change.clear_expiry:
            expression.remove("expires_at")
        expression.in_state(record)
        expression.guarded(change.guard)
        announced = updated.model_copy(update={"version": record.version + 1})
        items = [
            self._record_update(record, expression),
            *self._stats_updates(record.owner, counter_delta(record, updated)),
            *self._outbox_put(change.announce, announced),
            *self._audit_put(change.audit, record.media_id),
        ]
        self._transact(items, lambda: change.lost(record))
        stored = self.get(record.media_id)
        return stored if stored is not None else updated

    def tombstone(
        self, record: MediaRecord, expires_at: int, changes: Mapping[str, Any] | None = None
    ) -> MediaRecord:
        """Mark `record` deleted (conditional on its current state), out of every index and the
        counters; the item itself stays until `expires_at` (TTL) so a repeated delete is answered
        and the audit trail keeps its owner. It keeps its variants until `purged()`, so a resumed
        delete still announces their keys. Raises InvalidTransition if the record changed."""
        if Status.DELETED not in ALLOWED_TRANSITIONS[record.status]:
            raise InvalidTransition(f"cannot move media from {record.status.value} to deleted")
        updated = record.model_copy(
            update={
                "status": Status.DELETED,
                "updated_at": utc_now(),
                "purge_pending": True,
                **(changes or {}),
            }
        )
        dumped = updated.model_dump(mode="json")
        expression = Expression()
        expression.set("status", Status.DELETED.value)
        expression.set("updated_at", dumped["updated_at"])
        for name in changes or {}:
            expression.set(name, dumped[name])
        expression.set("stats_bytes", 0)
        expression.set("expires_at", expires_at)
        expression.set("purge_pending", True)
        for attribute in INDEX_ATTRIBUTES:
            if attribute not in ("status_pk", "status_sk"):
                expression.remove(attribute)
        # Until its objects are gone the tombstone stays findable in ByStatus (deleted).
        expression.set("status_pk", status_partition(Status.DELETED))
        expression.set("status_sk", status_sort_key(updated))
        expression.bump_version()
        expression.in_state(record)
        self._primacy_as_read(expression, record)
        self._transact(
            [
                self._record_update(record, expression),
                *self._release(record, record.entity if record.is_primary else None),
                *self._stats_updates(record.owner, counter_delta(record, updated)),
            ],
            lambda: InvalidTransition(f"media {record.media_id} changed state; not deleted"),
        )
        return updated

    def purged(self, record: MediaRecord, announce: Announce | None = None) -> bool:
        """A tombstone's objects are all gone: it leaves ByStatus and forgets its variants, and
        `announce`'s event goes to the outbox in the same transaction. False if that was done
        already (so the deletion is announced once)."""
        expression = Expression()
        expression.set("purge_pending", False)
        expression.set("variants", {})
        expression.remove("status_pk")
        expression.remove("status_sk")
        expression.exists()
        expression.equals("status", Status.DELETED.value)
        expression.equals("purge_pending", True)
        update = {"Update": expression.item(self._name, serialize(record_key(record.media_id)))}
        try:
            self._transact([update, *self._outbox_put(announce, record)], lambda: _AlreadyDone())
        except _AlreadyDone:
            return False
        return True

    def update(
        self,
        record: MediaRecord,
        changes: Mapping[str, Any],
        *,
        demote: MediaRecord | None = None,
    ) -> MediaRecord:
        """Change descriptive fields (no status change, counters untouched), conditional on the
        record's version (Conflict otherwise). A change of primacy (is_primary, or the entity of a
        primary) moves the entity's marker in the same transaction: `demote` (the entity's primary
        as primary_of read it, the same owner's) loses is_primary, conditional on it still being
        that entity's primary and the marker still naming it. PrimaryChanged when the entity's
        primary is not what was read: read it again and retry."""
        updated = record.model_copy(update={**changes, "updated_at": utc_now()})
        dumped = updated.model_dump(mode="json")
        indexes = index_attributes(updated)
        expression = Expression()
        for name in changes:
            expression.set(name, dumped[name])
        expression.set("updated_at", dumped["updated_at"])
        for attribute in ("entity_pk", "entity_sk", "moderation_pk", "moderation_sk"):
            if attribute in indexes:
                expression.set(attribute, indexes[attribute])
            else:
                expression.remove(attribute)
        expression.bump_version()
        expression.exists()
        expression.equals("version", record.version)
        expression.require(f"{expression.name('status')} <> {expression.value(Status.DELETED.value)}")
        items = [self._record_update(record, expression)]
        was = record.entity if record.is_primary else None
        becomes = updated.entity if updated.is_primary else None
        if demote is not None:
            if demote.owner != record.owner:
                raise Conflict("an entity's primary item belongs to the entity's owner")
            if becomes is None or becomes == was or demote.media_id == record.media_id:
                raise ValueError("only a record that becomes its entity's primary demotes another")
            demotion = Expression()
            demotion.set("is_primary", False)
            demotion.set("entity_sk", entity_sort_key(demote.model_copy(update={"is_primary": False})))
            demotion.bump_version()
            demotion.exists()
            demotion.is_primary_of(record.owner, becomes.type, becomes.id)
            items.append(self._record_update(demote, demotion))
        if was != becomes:
            items += self._release(record, was)
            if becomes is not None:
                items.append(self._claim(record, becomes, demote))
        self._transact(
            items,
            lambda: Conflict(f"media {record.media_id} changed meanwhile; retry"),
            lambda: PrimaryChanged(f"the primary item of media {record.media_id}'s entity changed meanwhile"),
        )
        stored = self.get(record.media_id)
        return stored if stored is not None else updated

    def delete(self, record: MediaRecord, *, expected: Iterable[Status]) -> None:
        """Remove the item (a record that never held media: an aborted upload)."""
        expected_set = set(expected)

        def changed() -> InvalidTransition:
            return InvalidTransition(f"media {record.media_id} changed state; not deleted")

        if record.status not in expected_set:
            raise changed()
        expression = Expression()
        expression.in_state(record)
        self._primacy_as_read(expression, record)
        delete = expression.delete(self._name, serialize(record_key(record.media_id)))
        released = self._release(record, record.entity if record.is_primary else None)
        self._transact(
            [delete, *released, *self._stats_updates(record.owner, counter_delta(record, None))], changed
        )

    # ------------------------------------------------------------------ reads
    def counters(self, owner: str | None) -> Counters:
        """`owner`'s counters, or everyone's for None: one GetItem."""
        item = from_dynamo(self._table.get_item(Key=stats_key(owner), ConsistentRead=True).get("Item") or {})
        return Counters(
            count=int(item.get("count", 0)),
            by_status={s: int(item.get(f"status_{s.value}", 0)) for s in Status if s != Status.DELETED},
            by_kind={k: int(item.get(f"kind_{k.value}", 0)) for k in Kind},
            total_bytes=int(item.get("bytes", 0)),
        )

    def list_owned(self, owner: str, media_filter: MediaFilter, page: PageRequest) -> Page:
        """The owner's media, newest first (filters applied by DynamoDB as a FilterExpression)."""
        filter_expression = filter_condition(media_filter, owner)
        return self._page(INDEX_BY_OWNER, owner_partition(owner), page, filter_expression=filter_expression)

    def list_entity(self, owner: str, entity_type: str, entity_id: str, page: PageRequest) -> Page:
        """An owner's entity gallery: the primary item first, then oldest first."""
        partition = entity_partition(owner, entity_type, entity_id)
        return self._page(INDEX_BY_ENTITY, partition, page, newest_first=False)

    def list_moderation(self, moderation: Moderation, page: PageRequest) -> Page:
        return self._page(INDEX_BY_MODERATION, moderation_partition(moderation), page)

    def primary_of(self, owner: str, entity_type: str, entity_id: str) -> MediaRecord | None:
        """The primary item of the owner's entity, read strongly consistently: the record the
        entity's marker names. With no (current) marker, a primary set before the markers existed:
        the ByEntity index's, each candidate read again by its key and checked."""
        entity = EntityRef(type=entity_type, id=entity_id)
        marked = self._marked(owner, entity)
        if marked is not None and (current := self._still_primary(marked, owner, entity)) is not None:
            return current
        page = self._table.query(
            IndexName=INDEX_BY_ENTITY,
            KeyConditionExpression=Key("entity_pk").eq(entity_partition(owner, entity_type, entity_id))
            & Key("entity_sk").begins_with("0#"),
        )
        for item in page.get("Items", []):
            if (legacy := self._still_primary(str(item["media_id"]), owner, entity)) is not None:
                return legacy
        return None

    def _page(
        self,
        index: str,
        partition: str,
        request: PageRequest,
        *,
        newest_first: bool = True,
        filter_expression: ConditionBase | None = None,
        max_reads: int = 10,
    ) -> Page:
        """Up to `request.size` records of an index partition, in index order, that pass the filter
        and `request.accept`. Stops after `max_reads` Query calls so a selective filter never makes one
        request read without bound: the page can then hold fewer records, and the position is
        still right."""
        pk_name, sk_name = INDEX_KEYS[index]
        keys = ("pk", "sk", pk_name, sk_name)
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": Key(pk_name).eq(partition),
            "ScanIndexForward": not newest_first,
            "Limit": request.size,
        }
        if filter_expression is not None:
            kwargs["FilterExpression"] = filter_expression
        if request.after:
            kwargs["ExclusiveStartKey"] = checked_position(request.after, keys, {pk_name: partition})
        records: list[MediaRecord] = []
        for _ in range(max_reads):
            page = self._table.query(**kwargs)
            items = page.get("Items", [])
            for position, item in enumerate(items):
                record = item_to_record(item)
                if request.accept is not None and not request.accept(record):
                    continue
                records.append(record)
                if len(records) == request.size:
                    more = position < len(items) - 1 or "LastEvaluatedKey" in page
                    return Page(records, {k: str(item[k]) for k in keys} if more else None)
            if "LastEvaluatedKey" not in page:
                return Page(records, None)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return Page(records, {k: str(v) for k, v in kwargs["ExclusiveStartKey"].items()})


def _is_primary_of(record: MediaRecord, owner: str, entity: EntityRef) -> bool:
    return (
        record.status != Status.DELETED
        and record.is_primary
        and record.owner == owner
        and record.entity == entity
    )
