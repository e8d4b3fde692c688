"""In-memory implementations of every port in media_core.ports, for fast unit tests of the
services and the processing lifecycle (no moto, no network).

Each fake keeps the semantics of its real counterpart in media_core.dal, so a test against a fake
means what it would mean against DynamoDB and S3:

- FakeMediaRecords (dal/dynamo/repository.py): items are stored serialised (JSON, as DynamoDB
  holds them) and every read validates them back, so a caller never shares an object with the
  store. Every write is conditional exactly like the real one: the state machine
  (ALLOWED_TRANSITIONS), the stored status and counted bytes the caller's record was read in,
  the RecordGuard clauses, the version for `update`, and the owner and is_primary of a demoted
  primary. The counters move by `counter_delta` in the same step as the record, or not at all.
  One primary per entity is kept by the same marker (`primaries`: owner's entity -> media id),
  moved with every change of primacy (update, create, tombstone, delete) under the same
  conditions: the marker still names what was read, a demoted record is still that entity's
  primary (PrimaryChanged otherwise), and a tombstone or delete is conditional on the primacy it
  read. `primary_of` reads the marker, and without one the index (primaries from before markers).
  Index membership follows the real item: a tombstone leaves every index but ByStatus until
  `purged()`; `update` leaves the ByStatus sort key alone (it is "the last status change").
- FakeObjectStorage (dal/s3.py): objects keyed by bucket and key with MD5 ETags (multipart:
  MD5 of the parts' MD5s and "-N"), tags, content types; multipart uploads with their parts; part
  URLs signed for an exact size (`put_part` refuses any other size, as S3 refuses a Content-Length
  that differs from the signed header); POST policies (`post_object` enforces the exact
  Content-Type and the content-length range); `copy` with if_match (StorageError
  "PreconditionFailed"); presigned URLs are opaque strings with a signature query.
- The others (audit trail, events, duplicate index, work queue, daily usage, ByStatus index).

Faults: every fake method first asks its `faults` whether to fail (`fakes.faults.fail("delete_prefix")`);
a `Journal` shared by several fakes records the order of their writes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import parse_qs, quote, quote_plus, unquote, urlencode, urlsplit

from media_core.domain.audit import AuditAction, AuditEntry, AuditNote
from media_core.domain.counters import Counters, CreateLimits, counter_delta, stored_bytes
from media_core.domain.errors import Conflict, InvalidRequest, InvalidTransition, OverQuota, PrimaryChanged
from media_core.domain.events import Announce, Announcement, DetailType, PendingEvent
from media_core.domain.guards import RecordGuard
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
from media_core.domain.paging import MediaFilter, Page, PageRequest, Position
from media_core.domain.similarity import hamming, hash_bands
from media_core.domain.transfers import (
    ListedObject,
    ObjectInfo,
    PartUrl,
    PostPolicy,
    PresignedPost,
    StorageError,
    UploadedPart,
    UrlTarget,
)
from media_core.domain.transitions import Transition
from media_core.processing.objects import ObjectCreated

MIN_PART = 5 * 1024 * 1024  # S3: every part but the last
MAX_READS = 10  # the repository's Query calls per page


# ---------------------------------------------------------------------------------------- faults, journal
@dataclass
class Faults:
    """Planned failures: `fail("delete_prefix", times=2)` makes the next two calls raise."""

    planned: dict[str, list[Exception]] = field(default_factory=dict)

    def fail(self, operation: str, error: Exception | None = None, *, times: int = 1) -> None:
        error = error or StorageError("InternalError", f"injected failure of {operation}")
        self.planned.setdefault(operation, []).extend([error] * times)

    def check(self, operation: str) -> None:
        pending = self.planned.get(operation)
        if pending:
            raise pending.pop(0)


@dataclass
class Journal:
    """The order of writes across fakes: ("store", "delete_keys", "uploads/..."), ..."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, who: str, operation: str, subject: str) -> None:
        self.entries.append((who, operation, subject))

    def index(self, who: str, operation: str, subject: str | None = None) -> int:
        for position, (w, o, s) in enumerate(self.entries):
            if w == who and o == operation and (subject is None or s == subject):
                return position
        raise LookupError(f"{who}.{operation} {subject or ''} never happened: {self.entries}")


def _json(value: Any) -> Any:
    """A value as DynamoDB holds it and reads it back: JSON types, numbers through Decimal (so an
    integral float reads back as an int, as media_core.dal.dynamo.convert.from_dynamo does)."""

    def stored(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {k: stored(x) for k, x in v.items()}
        if isinstance(v, list):
            return [stored(x) for x in v]
        return v

    return stored(json.loads(json.dumps(value)))


# ---------------------------------------------------------------------------------------- records
def _owner_partition(owner: str) -> str:
    return f"OWNER#{owner}"


def _entity_partition(owner: str, entity_type: str, entity_id: str) -> str:
    return f"ENTITY#{owner}#{entity_type}#{entity_id}"


def _moderation_partition(moderation: Moderation | str) -> str:
    return f"MODERATION#{Moderation(moderation).value}"


def _status_sort_key(record: MediaRecord) -> str:
    return f"{iso_timestamp(record.updated_at)}#{record.media_id}"


@dataclass
class _Item:
    data: dict[str, Any]  # the record, serialised
    stats_bytes: int
    status_sk: str | None  # ByStatus sort key; None: out of ByStatus
    expires_at: int | None

    def record(self) -> MediaRecord:
        return MediaRecord.model_validate(self.data)

    def attribute(self, path: str) -> Any:
        value: Any = self.data
        for name in path.split("."):
            if not isinstance(value, dict) or value.get(name) is None:
                return None
            value = value[name]
        return value


class FakeMediaRecords:
    """MediaRecords and RecordsByStatus in memory (see the module docstring)."""

    def __init__(self, journal: Journal | None = None, audit: FakeAuditTrail | None = None) -> None:
        self.items: dict[str, _Item] = {}
        self.audit = audit  # where entries written with a change go (the repository's same table)
        self.stats: dict[str | None, dict[str, int]] = defaultdict(dict)
        self.faults = Faults()
        self.journal = journal or Journal()
        self.outbox: list[Announcement] = []  # events written with their record changes
        # The primary markers (the repository's pk=ENTITY#{owner}#{type}#{id} sk=PRIMARY items)
        self.primaries: dict[tuple[str, str, str], str] = {}

    # ------------------------------------------------------------------ helpers
    def _apply_counters(self, owner: str, delta: Mapping[str, int]) -> None:
        for who in (owner, None):
            for name, amount in delta.items():
                self.stats[who][name] = self.stats[who].get(name, 0) + amount

    def _in_state(self, item: _Item | None, record: MediaRecord) -> bool:
        """The repository's condition: the stored record is in the state the counters were
        computed from (same status; for a ready record the same counted bytes)."""
        if item is None or item.data["status"] != record.status.value:
            return False
        return record.status != Status.READY or item.stats_bytes == stored_bytes(record)

    @staticmethod
    def _guard_holds(item: _Item, guard: RecordGuard | None) -> bool:
        return all(
            (item.attribute(c.path) == c.value) == c.equal
            for c in (guard.conditions() if guard is not None else [])
        )

    # ------------------------------------------------------------------ the entity's primary marker
    @staticmethod
    def _marker(owner: str, entity: EntityRef) -> tuple[str, str, str]:
        return (owner, entity.type, entity.id)

    def _still_primary(self, media_id: str, owner: str, entity: EntityRef) -> MediaRecord | None:
        item = self.items.get(media_id)
        record = item.record() if item else None
        if (
            record is None
            or record.status == Status.DELETED
            or not record.is_primary
            or record.owner != owner
            or record.entity != entity
        ):
            return None
        return record

    def _primacy_holds(self, item: _Item, record: MediaRecord) -> bool:
        """The stored record is (or is not) its entity's primary, as `record` says."""
        if record.is_primary and record.entity is not None:
            return self._still_primary(record.media_id, record.owner, record.entity) is not None
        return item.data["is_primary"] is not True

    def _claim_check(self, record: MediaRecord, entity: EntityRef, demote: MediaRecord | None) -> str | None:
        """The repository's read before a claim: the marker may name `demote`, nothing, or a record
        that is not the entity's primary; another primary won a race. Returns what it names."""
        marked = self.primaries.get(self._marker(record.owner, entity))
        if (
            marked is not None
            and marked != (demote.media_id if demote else None)
            and self._still_primary(marked, record.owner, entity) is not None
        ):
            raise PrimaryChanged(f"the primary item of {entity.type} {entity.id} changed meanwhile; retry")
        return marked

    def _release(self, record: MediaRecord, entity: EntityRef | None) -> None:
        if entity is not None and self.primaries.get(self._marker(record.owner, entity)) == record.media_id:
            del self.primaries[self._marker(record.owner, entity)]

    @staticmethod
    def _changed(base: dict[str, Any], updated: MediaRecord, names: Iterable[str]) -> dict[str, Any]:
        """`base` with the named attributes of `updated` written over it (an UpdateExpression's SET)."""
        dumped = updated.model_dump(mode="json")
        data: dict[str, Any] = _json(base)
        for name in names:
            data[name] = dumped[name]
        return data

    # ------------------------------------------------------------------ writes
    def create(
        self, record: MediaRecord, expires_at: int | None = None, *, limits: CreateLimits | None = None
    ) -> None:
        self.faults.check("create")
        if record.media_id in self.items:
            raise Conflict(f"media {record.media_id} exists already")
        if limits is not None:
            # The repository's condition on the owner's counters item, checked in the write.
            counters = self.stats[record.owner]
            if (
                counters.get(f"status_{Status.AWAITING_UPLOAD.value}", 0) + 1 > limits.max_awaiting
                or counters.get("bytes", 0) + record.original.size > limits.max_stored_bytes
            ):
                raise OverQuota("quota: a concurrent upload took the room")
        if record.is_primary and record.entity is not None:
            self._claim_check(record, record.entity, None)
            self.primaries[self._marker(record.owner, record.entity)] = record.media_id
        self.items[record.media_id] = _Item(
            data=_json(record.model_dump(mode="json")),
            stats_bytes=stored_bytes(record),
            status_sk=_status_sort_key(record),
            expires_at=expires_at,
        )
        self._apply_counters(record.owner, counter_delta(None, record))
        self.journal.add("records", "create", record.media_id)

    def get(self, media_id: str) -> MediaRecord | None:
        self.faults.check("get")
        item = self.items.get(media_id)
        return item.record() if item else None

    def transition(self, record: MediaRecord, change: Transition) -> MediaRecord:
        self.faults.check("transition")
        change.check(record)
        item = self.items.get(record.media_id)
        if item is None or not self._in_state(item, record) or not self._guard_holds(item, change.guard):
            raise change.lost(record)
        updated = change.applied(record)
        data = self._changed(item.data, updated, ["status", "updated_at", *change.changes])
        data["version"] = item.data["version"] + 1
        item.data = data
        item.stats_bytes = stored_bytes(updated)
        item.status_sk = _status_sort_key(updated)
        if change.clear_expiry:
            item.expires_at = None
        self._apply_counters(record.owner, counter_delta(record, updated))
        if change.announce is not None:  # in the same write, as the real outbox
            self.outbox.append(change.announce(item.record()))
        if change.audit is not None and self.audit is not None:  # in the same write too
            self.audit.written(record.media_id, change.audit)
        self.journal.add("records", "transition", f"{record.media_id} {change.to.value}")
        return item.record()

    def tombstone(
        self, record: MediaRecord, expires_at: int, changes: Mapping[str, Any] | None = None
    ) -> MediaRecord:
        self.faults.check("tombstone")
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
        item = self.items.get(record.media_id)
        if item is None or not self._in_state(item, record) or not self._primacy_holds(item, record):
            raise InvalidTransition(f"media {record.media_id} changed state; not deleted")
        self._release(record, record.entity if record.is_primary else None)
        names = ["status", "updated_at", "purge_pending", *(changes or {})]
        data = self._changed(item.data, updated, names)
        data["version"] = item.data["version"] + 1
        item.data = data
        item.stats_bytes = 0
        item.expires_at = expires_at
        item.status_sk = _status_sort_key(updated)  # findable in ByStatus (deleted) until purged
        self._apply_counters(record.owner, counter_delta(record, updated))
        self.journal.add("records", "tombstone", record.media_id)
        return updated

    def purged(self, record: MediaRecord, announce: Announce | None = None) -> bool:
        self.faults.check("purged")
        item = self.items.get(record.media_id)
        if (
            item is None
            or item.data["status"] != Status.DELETED.value
            or item.data["purge_pending"] is not True
        ):
            return False
        item.data["purge_pending"] = False
        item.data["variants"] = {}
        item.status_sk = None
        if announce is not None:
            self.outbox.append(announce(item.record()))
        self.journal.add("records", "purged", record.media_id)
        return True

    def update(
        self, record: MediaRecord, changes: Mapping[str, Any], *, demote: MediaRecord | None = None
    ) -> MediaRecord:
        self.faults.check("update")
        updated = record.model_copy(update={**changes, "updated_at": utc_now()})
        conflict = Conflict(f"media {record.media_id} changed meanwhile; retry")
        item = self.items.get(record.media_id)
        was = record.entity if record.is_primary else None
        becomes = updated.entity if updated.is_primary else None
        lost = PrimaryChanged(f"the primary item of media {record.media_id}'s entity changed meanwhile")
        demoted: _Item | None = None
        if demote is not None:
            if demote.owner != record.owner:
                raise Conflict("an entity's primary item belongs to the entity's owner")
            if demote.media_id == record.media_id:
                raise ValueError("ValidationException: a transaction cannot touch one item twice")
            if becomes is None or becomes == was:
                raise ValueError("only a record that becomes its entity's primary demotes another")
        claimed = becomes if becomes != was else None
        marked = self._claim_check(record, claimed, demote) if claimed is not None else None
        # The transaction: the record's condition first, then the demotion's and the marker's.
        if (
            item is None
            or item.data["version"] != record.version
            or item.data["status"] == Status.DELETED.value
        ):
            raise conflict
        if demote is not None and becomes is not None:
            demoted = self.items.get(demote.media_id)
            if self._still_primary(demote.media_id, record.owner, becomes) is None:
                raise lost
        if claimed is not None and self.primaries.get(self._marker(record.owner, claimed)) != marked:
            raise lost
        # Every condition holds: every write happens.
        if was != becomes:
            self._release(record, was)
            if becomes is not None:
                self.primaries[self._marker(record.owner, becomes)] = record.media_id
        data = self._changed(item.data, updated, [*changes, "updated_at"])
        data["version"] = item.data["version"] + 1
        item.data = data
        if demoted is not None:
            demoted.data["is_primary"] = False
            demoted.data["version"] += 1
            self.journal.add("records", "demote", str(demoted.data["media_id"]))
        self.journal.add("records", "update", record.media_id)
        return item.record()

    def delete(self, record: MediaRecord, *, expected: Iterable[Status]) -> None:
        self.faults.check("delete")
        changed = InvalidTransition(f"media {record.media_id} changed state; not deleted")
        if record.status not in set(expected):
            raise changed
        item = self.items.get(record.media_id)
        if item is None or not self._in_state(item, record) or not self._primacy_holds(item, record):
            raise changed
        self._release(record, record.entity if record.is_primary else None)
        del self.items[record.media_id]
        self._apply_counters(record.owner, counter_delta(record, None))
        self.journal.add("records", "delete", record.media_id)

    # ------------------------------------------------------------------ reads
    def counters(self, owner: str | None) -> Counters:
        self.faults.check("counters")
        stats = self.stats.get(owner, {})
        return Counters(
            count=stats.get("count", 0),
            by_status={s: stats.get(f"status_{s.value}", 0) for s in Status if s != Status.DELETED},
            by_kind={k: stats.get(f"kind_{k.value}", 0) for k in Kind},
            total_bytes=stats.get("bytes", 0),
        )

    def _indexed(self) -> Iterator[tuple[str, MediaRecord]]:
        """Records still in the owner, entity and moderation indexes (a tombstone is in none)."""
        for media_id, item in self.items.items():
            if item.data["status"] != Status.DELETED.value:
                yield media_id, item.record()

    def list_owned(self, owner: str, media_filter: MediaFilter, page: PageRequest) -> Page:
        self.faults.check("list_owned")
        entries = [
            (f"{iso_timestamp(r.created_at)}#{r.media_id}", r) for _, r in self._indexed() if r.owner == owner
        ]

        def matches(r: MediaRecord) -> bool:
            f = media_filter
            return (
                (f.kind is None or r.kind == f.kind)
                and (f.status is None or r.status == f.status)
                and (f.tag is None or f.tag in r.tags)
                and (f.moderation is None or r.moderation == f.moderation)
                and (f.entity_type is None or (r.entity is not None and r.entity.type == f.entity_type))
                and (f.entity_id is None or (r.entity is not None and r.entity.id == f.entity_id))
            )

        return self._page(
            ("owner_pk", "owner_sk"),
            _owner_partition(owner),
            entries,
            page,
            filtered=matches,
        )

    def list_entity(self, owner: str, entity_type: str, entity_id: str, page: PageRequest) -> Page:
        self.faults.check("list_entity")
        return self._page(
            ("entity_pk", "entity_sk"),
            _entity_partition(owner, entity_type, entity_id),
            self._entity_entries(owner, entity_type, entity_id),
            page,
            newest_first=False,
        )

    def _entity_entries(self, owner: str, entity_type: str, entity_id: str) -> list[tuple[str, MediaRecord]]:
        return [
            (f"{0 if r.is_primary else 1}#{iso_timestamp(r.created_at)}", r)
            for _, r in self._indexed()
            if r.entity is not None
            and r.owner == owner
            and (r.entity.type, r.entity.id) == (entity_type, entity_id)
        ]

    def list_moderation(self, moderation: Moderation, page: PageRequest) -> Page:
        self.faults.check("list_moderation")
        entries = [
            (f"{iso_timestamp(r.created_at)}#{r.media_id}", r)
            for _, r in self._indexed()
            if r.moderation == moderation
        ]
        return self._page(
            ("moderation_pk", "moderation_sk"),
            _moderation_partition(moderation),
            entries,
            page,
        )

    def primary_of(self, owner: str, entity_type: str, entity_id: str) -> MediaRecord | None:
        self.faults.check("primary_of")
        entity = EntityRef(type=entity_type, id=entity_id)
        marked = self.primaries.get(self._marker(owner, entity))
        if marked is not None and (current := self._still_primary(marked, owner, entity)) is not None:
            return current
        # No (current) marker: a primary from before the markers, from the index
        primaries = sorted(
            (e for e in self._entity_entries(owner, entity_type, entity_id) if e[0].startswith("0#")),
            key=lambda e: (e[0], e[1].media_id),
        )
        return primaries[0][1] if primaries else None

    def _page(
        self,
        index_keys: tuple[str, str],
        partition: str,
        entries: list[tuple[str, MediaRecord]],
        request: PageRequest,
        *,
        newest_first: bool = True,
        filtered: Callable[[MediaRecord], bool] | None = None,
    ) -> Page:
        """The repository's paging over one index partition: Queries of `request.size` items (the
        filter applied after the read, as a FilterExpression is), at most MAX_READS of them;
        positions are the index keys of the last item, checked like the real ones."""
        pk_name, sk_name = index_keys
        keys = ("pk", "sk", pk_name, sk_name)
        ordered = sorted(entries, key=lambda e: (e[0], e[1].media_id), reverse=newest_first)

        def position_of(entry: tuple[str, MediaRecord]) -> Position:
            return {"pk": f"MEDIA#{entry[1].media_id}", "sk": "MEDIA", pk_name: partition, sk_name: entry[0]}

        after, page_size, accept = request.after, request.size, request.accept
        start = 0
        if after:
            if (
                set(after) != set(keys)
                or not all(isinstance(v, str) and 0 < len(v) <= 512 for v in after.values())
                or after.get(pk_name) != partition
            ):
                raise InvalidRequest("cursor", "not a cursor of this query; start again without one")
            mark = (after[sk_name], after["pk"].removeprefix("MEDIA#"))
            start = next(
                (
                    n
                    for n, (sk, r) in enumerate(ordered)
                    if ((sk, r.media_id) < mark if newest_first else (sk, r.media_id) > mark)
                ),
                len(ordered),
            )
        records: list[MediaRecord] = []
        for _ in range(MAX_READS):
            chunk = ordered[start : start + page_size]
            more_after_chunk = start + page_size < len(ordered)  # moto: LastEvaluatedKey only then
            read = [e for e in chunk if filtered is None or filtered(e[1])]
            for entry in read:
                if accept is not None and not accept(entry[1]):
                    continue
                records.append(entry[1])
                if len(records) == page_size:
                    more = entry is not read[-1] or more_after_chunk
                    return Page(records, position_of(entry) if more else None)
            if not more_after_chunk:
                return Page(records, None)
            start += page_size
        return Page(records, position_of(ordered[start - 1]))

    # ------------------------------------------------------------------ RecordsByStatus
    def changed_before(self, status: Status, before: datetime) -> Iterator[MediaRecord]:
        self.faults.check("changed_before")
        limit = iso_timestamp(before)
        found = sorted(
            (item.status_sk, item)
            for item in self.items.values()
            if item.status_sk is not None and item.data["status"] == status.value and item.status_sk < limit
        )
        for _, item in found:
            yield item.record()

    # ------------------------------------------------------------------ for tests
    def expires_at(self, media_id: str) -> int | None:
        return self.items[media_id].expires_at

    def in_status_index(self, media_id: str) -> bool:
        return self.items[media_id].status_sk is not None

    def backdate(self, media_id: str, at: datetime) -> MediaRecord:
        """A Given step: the record's last status change happened at `at` (its updated_at and
        its ByStatus key, as if the transition had been written then)."""
        item = self.items[media_id]
        item.data["updated_at"] = at.isoformat()
        if item.status_sk is not None:
            item.status_sk = f"{iso_timestamp(at)}#{media_id}"
        return item.record()


# ---------------------------------------------------------------------------------------- objects
@dataclass
class StoredObject:
    data: bytes
    etag: str
    content_type: str | None
    version_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    cache_control: str | None = None
    last_modified: datetime = field(default_factory=utc_now)


@dataclass
class MultipartState:
    bucket: str
    key: str
    content_type: str
    tags: dict[str, str]
    parts: dict[int, tuple[bytes, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SignedPart:
    bucket: str
    key: str
    upload_id: str
    part_number: int
    size: int


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class FakeObjectStorage:
    """ObjectStorage in memory (see the module docstring). Unversioned by default, as the
    template's buckets are; `versioned=True` keeps every version, readable by its id."""

    HOST = "https://{bucket}.s3.fake.test"

    def __init__(self, *, versioned: bool = False, journal: Journal | None = None) -> None:
        self.versioned = versioned
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.versions: dict[tuple[str, str, str], StoredObject] = {}
        self.uploads: dict[str, MultipartState] = {}
        self.policies: dict[str, PostPolicy] = {}  # by the policy token in the POST fields
        self.signed_parts: dict[str, SignedPart] = {}  # by URL
        self.presigned_gets: list[str] = []
        self.faults = Faults()
        self.journal = journal or Journal()
        self._tokens = itertools.count(1)

    def _token(self) -> str:
        return f"{next(self._tokens):06d}{uuid.uuid4().hex[:10]}"

    def _url(self, bucket: str, key: str, query: Mapping[str, str]) -> str:
        return f"{self.HOST.format(bucket=bucket)}/{quote(key)}?{urlencode(query)}"

    def _write(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        content_type: str | None,
        etag: str | None = None,
        tags: Mapping[str, str] | None = None,
        cache_control: str | None = None,
    ) -> StoredObject:
        version_id = uuid.uuid4().hex if self.versioned else None
        stored = StoredObject(
            data, etag or _md5(data), content_type, version_id, dict(tags or {}), cache_control
        )
        self.objects[(bucket, key)] = stored
        if version_id is not None:
            self.versions[(bucket, key, version_id)] = stored
        self.journal.add("store", "write", f"{bucket}/{key}")
        return stored

    def _find(self, bucket: str, key: str, version_id: str | None) -> StoredObject | None:
        if version_id is not None:
            return self.versions.get((bucket, key, version_id))
        return self.objects.get((bucket, key))

    # ------------------------------------------------------------------ presigned uploads
    def presigned_post(self, policy: PostPolicy, *, expires_in: int) -> PresignedPost:
        self.faults.check("presigned_post")
        token = self._token()
        self.policies[token] = policy
        fields = {
            "key": policy.key,
            "Content-Type": policy.content_type,
            "policy": token,
            "x-amz-signature": token,
        }
        if policy.tag_unclaimed:
            fields["tagging"] = (
                "<Tagging><TagSet><Tag><Key>media-state</Key><Value>unclaimed</Value></Tag></TagSet></Tagging>"
            )
        return PresignedPost(url=self.HOST.format(bucket=policy.bucket) + "/", fields=fields)

    def post_object(self, post: PresignedPost, data: bytes, *, content_type: str | None = None) -> ObjectInfo:
        """A browser's POST with the policy's fields (S3 enforces the policy's conditions)."""
        policy = self.policies.get(post.fields.get("policy", ""))
        if policy is None:
            raise StorageError("AccessDenied", "no such policy")
        sent_type = content_type if content_type is not None else post.fields.get("Content-Type")
        if sent_type != policy.content_type:
            raise StorageError("AccessDenied", "Policy Condition failed: Content-Type")
        if len(data) > policy.size:
            raise StorageError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        if len(data) < policy.size:
            raise StorageError(
                "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
            )
        tags = {"media-state": "unclaimed"} if policy.tag_unclaimed else {}
        stored = self._write(policy.bucket, policy.key, data, content_type=policy.content_type, tags=tags)
        return ObjectInfo(len(data), stored.etag, stored.content_type, stored.version_id)

    def start_multipart(self, bucket: str, key: str, *, content_type: str) -> str:
        self.faults.check("start_multipart")
        upload_id = f"upload-{self._token()}"
        self.uploads[upload_id] = MultipartState(bucket, key, content_type, {"media-state": "unclaimed"})
        return upload_id

    def sign_parts(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, int]], *, expires_in: int
    ) -> list[PartUrl]:
        self.faults.check("sign_parts")
        urls = []
        for number, size in parts:
            url = self._url(
                bucket,
                key,
                {
                    "uploadId": upload_id,
                    "partNumber": str(number),
                    "X-Amz-Expires": str(expires_in),
                    "X-Amz-SignedHeaders": "content-length;host",
                    "X-Amz-Signature": self._token(),
                },
            )
            self.signed_parts[url] = SignedPart(bucket, key, upload_id, number, size)
            urls.append(PartUrl(number, url, size))
        return urls

    def put_part(self, url: str, data: bytes) -> str:
        """A client's PUT of one part to its signed URL; returns the part's ETag. The URL is signed
        for an exact Content-Length: any other size is refused, as S3 refuses it."""
        signed = self.signed_parts.get(url)
        if signed is None:
            raise StorageError("SignatureDoesNotMatch", "this URL was never signed")
        if len(data) != signed.size:
            raise StorageError(
                "SignatureDoesNotMatch",
                f"Content-Length {len(data)} differs from the signed Content-Length {signed.size}",
            )
        upload = self.uploads.get(signed.upload_id)
        if upload is None or (upload.bucket, upload.key) != (signed.bucket, signed.key):
            raise StorageError("NoSuchUpload", "The specified upload does not exist")
        etag = _md5(data)
        upload.parts[signed.part_number] = (data, etag)
        return etag

    def put_part_unsigned(self, upload_id: str, part_number: int, data: bytes) -> str:
        """A part stored without the signed-size check: what an S3 that ignores the signed
        Content-Length (moto, some S3 clones) would keep. For tests of the service's own check."""
        etag = _md5(data)
        self.uploads[upload_id].parts[part_number] = (data, etag)
        return etag

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[UploadedPart]:
        self.faults.check("list_parts")
        upload = self._upload(bucket, key, upload_id)
        return [UploadedPart(n, etag, len(data)) for n, (data, etag) in sorted(upload.parts.items())]

    def _upload(self, bucket: str, key: str, upload_id: str) -> MultipartState:
        upload = self.uploads.get(upload_id)
        if upload is None or (upload.bucket, upload.key) != (bucket, key):
            raise StorageError("NoSuchUpload", "The specified upload does not exist")
        return upload

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        self.faults.check("complete_multipart")
        upload = self._upload(bucket, key, upload_id)
        numbers = [n for n, _ in parts]
        if not parts or numbers != sorted(set(numbers)):
            raise StorageError("InvalidPartOrder", "The list of parts was not in ascending order")
        chosen: list[bytes] = []
        for number, etag in parts:
            held = upload.parts.get(number)
            if held is None or held[1] != etag.strip('"'):
                raise StorageError("InvalidPart", f"part {number} was not found or its ETag differs")
            chosen.append(held[0])
        if any(len(data) < MIN_PART for data in chosen[:-1]):
            raise StorageError(
                "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
            )
        digest = hashlib.md5(b"".join(bytes.fromhex(_md5(d)) for d in chosen), usedforsecurity=False)
        self._write(
            bucket,
            key,
            b"".join(chosen),
            content_type=upload.content_type,
            etag=f"{digest.hexdigest()}-{len(chosen)}",
            tags=upload.tags,
        )
        del self.uploads[upload_id]

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        self.faults.check("abort_multipart")
        upload = self.uploads.get(upload_id)
        if upload is not None and (upload.bucket, upload.key) == (bucket, key):
            del self.uploads[upload_id]
            self.journal.add("store", "abort_multipart", upload_id)

    # ------------------------------------------------------------------ reads
    def presigned_get(self, target: UrlTarget, *, expires_in: int) -> str:
        self.faults.check("presigned_get")
        query = {"X-Amz-Expires": str(expires_in), "X-Amz-Signature": self._token()}
        if target.download_name:
            query["response-content-disposition"] = (
                f"attachment; filename*=UTF-8''{quote(target.download_name)}"
            )
        if target.version_id:
            query["versionId"] = target.version_id
        url = self._url(target.bucket, target.key, query)
        self.presigned_gets.append(url)
        return url

    def get_url(self, url: str) -> bytes:
        """A GET of a presigned URL this store handed out."""
        if url not in self.presigned_gets:
            raise StorageError("SignatureDoesNotMatch", "this URL was never signed")
        parts = urlsplit(url)
        bucket = parts.netloc.split(".", 1)[0]
        version = parse_qs(parts.query).get("versionId", [None])[0]
        return self.read(bucket, unquote(parts.path.lstrip("/")), version)

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo | None:
        self.faults.check("head")
        stored = self._find(bucket, key, version_id)
        if stored is None:
            return None
        return ObjectInfo(len(stored.data), stored.etag, stored.content_type, stored.version_id)

    def read(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        self.faults.check("read")
        stored = self._find(bucket, key, version_id)
        if stored is None:
            raise StorageError("NoSuchKey", f"The specified key does not exist: {key}")
        return stored.data

    # ------------------------------------------------------------------ writes
    def put(self, bucket: str, key: str, data: bytes, *, content_type: str) -> None:
        self.faults.check("put")
        self._write(
            bucket,
            key,
            bytes(data),
            content_type=content_type,
            cache_control="public, max-age=31536000, immutable",
        )

    def upload_file(self, bucket: str, key: str, fileobj: BinaryIO, *, content_type: str) -> None:
        self.faults.check("upload_file")
        self._write(
            bucket,
            key,
            fileobj.read(),
            content_type=content_type,
            cache_control="public, max-age=31536000, immutable",
        )

    def copy(
        self, bucket: str, key: str, to_key: str, *, if_match: str | None = None, tag_claimed: bool = True
    ) -> ObjectInfo:
        self.faults.check("copy")
        source = self.objects.get((bucket, key))
        if source is None:
            raise StorageError("NoSuchKey", "NoSuchKey")
        if if_match is not None and source.etag != if_match:
            raise StorageError("PreconditionFailed", f"{key} is not the version that was claimed")
        stored = self._write(  # S3's CopyObject keeps the metadata (MetadataDirective COPY)
            bucket,
            to_key,
            source.data,
            content_type=source.content_type,
            tags={"media-state": "claimed"} if tag_claimed else dict(source.tags),
            cache_control=source.cache_control,
        )
        return ObjectInfo(len(stored.data), stored.etag, stored.content_type, stored.version_id)

    def mark_claimed(self, bucket: str, key: str) -> None:
        self.faults.check("mark_claimed")
        stored = self.objects.get((bucket, key))
        if stored is None:
            raise StorageError("NoSuchKey", f"The specified key does not exist: {key}")
        stored.tags["media-state"] = "claimed"

    def delete_keys(self, bucket: str, keys: Sequence[str]) -> None:
        self.faults.check("delete_keys")
        for key in keys:
            if self.objects.pop((bucket, key), None) is not None:
                self.journal.add("store", "delete", f"{bucket}/{key}")

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        self.faults.check("delete_prefix")
        keys = [k for (b, k) in self.objects if b == bucket and k.startswith(prefix)]
        for key in keys:
            del self.objects[(bucket, key)]
            self.journal.add("store", "delete", f"{bucket}/{key}")
        return len(keys)

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ListedObject]:
        self.faults.check("list_objects")
        found = sorted((k, o) for (b, k), o in self.objects.items() if b == bucket and k.startswith(prefix))
        for key, stored in found:
            yield ListedObject(key, len(stored.data), stored.last_modified)

    # ------------------------------------------------------------------ for tests
    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return sorted(k for (b, k) in self.objects if b == bucket and k.startswith(prefix))

    def seed(
        self, bucket: str, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> str:
        """An object as an upload would leave it (tagged unclaimed); returns its ETag."""
        return self._write(
            bucket, key, data, content_type=content_type, tags={"media-state": "unclaimed"}
        ).etag


# ---------------------------------------------------------------------------------------- the rest
class FakeAuditTrail:
    def __init__(self) -> None:
        self.by_media: dict[str, list[tuple[str, int, AuditEntry]]] = defaultdict(list)
        self.faults = Faults()
        self._sequence = itertools.count()

    def record(
        self, media_id: str, action: AuditAction, actor: str, details: dict[str, Any] | None = None
    ) -> None:
        self.faults.check("record")
        self.written(media_id, AuditNote(AuditAction(action), actor, details or {}))

    def written(self, media_id: str, note: AuditNote) -> None:
        """An entry stored (alone, or with a record's change: no fault of `record` applies)."""
        at = utc_now()
        entry = AuditEntry(note.action, note.actor, at, _json(note.details))
        self.by_media[media_id].append((iso_timestamp(at), next(self._sequence), entry))

    def entries(self, media_id: str, limit: int = 1000) -> list[AuditEntry]:
        self.faults.check("entries")
        return [entry for _, _, entry in sorted(self.by_media.get(media_id, []))][:limit]

    def actions(self, media_id: str) -> list[AuditAction]:
        return [e.action for e in self.entries(media_id)]


class FakeEventPublisher:
    """The bus: a detail that does not serialise is refused (False), as the real one logs and
    returns False; `refuse` makes it refuse everything (the outbox then keeps the events)."""

    def __init__(self) -> None:
        self.published: list[tuple[DetailType, dict[str, Any]]] = []
        self.dropped: list[DetailType] = []
        self.refuse = False

    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> None:
        self.deliver(detail_type, detail)

    def deliver(self, detail_type: DetailType, detail: dict[str, Any]) -> bool:
        if self.refuse:
            return False
        try:
            body = json.loads(json.dumps(detail, separators=(",", ":")))
        except (TypeError, ValueError):
            self.dropped.append(detail_type)
            return False
        self.published.append((detail_type, body))
        return True

    def of_type(self, detail_type: DetailType) -> list[dict[str, Any]]:
        return [d for t, d in self.published if t == detail_type]


class FakeOutbox:
    """The outbox the fake records write to (FakeMediaRecords.outbox), oldest first."""

    def __init__(self, records: FakeMediaRecords) -> None:
        self.records = records

    def pending(self, limit: int) -> list[PendingEvent]:
        return [PendingEvent({"index": str(i)}, a) for i, a in enumerate(self.records.outbox)][:limit]

    def remove(self, event: PendingEvent) -> None:
        self.records.outbox.remove(event.announcement)


class FakeDuplicateFinder:
    """The duplicate index's items: exact copies by sha256, near copies by pHash band."""

    def __init__(self, max_distance: int = 6) -> None:
        self.max_distance = max_distance
        self.partitions: dict[str, dict[str, str | None]] = defaultdict(dict)

    def _band_pks(self, owner: str, phash: int) -> list[str]:
        return [f"DUP#{owner}#phash#{band}" for band in hash_bands(phash, self.max_distance)]

    def find(self, owner: str, media_id: str, sha256: str, phash: int | None) -> list[str]:
        exact = [m for m in sorted(self.partitions.get(f"DUP#{owner}#sha256#{sha256}", {})) if m != media_id]
        near: list[str] = []
        if phash is not None:
            for pk in self._band_pks(owner, phash):
                for other, stored in sorted(self.partitions.get(pk, {}).items()):
                    if other == media_id or other in exact or other in near or stored is None:
                        continue
                    if hamming(phash, int(stored, 16)) <= self.max_distance:
                        near.append(other)
        return exact + near

    def register(self, owner: str, media_id: str, sha256: str, phash: int | None) -> None:
        self.partitions[f"DUP#{owner}#sha256#{sha256}"][media_id] = None
        if phash is not None:
            for pk in self._band_pks(owner, phash):
                self.partitions[pk][media_id] = f"{phash:016x}"

    def unregister(self, owner: str, media_id: str, sha256: str, phash: int | None) -> None:
        self.partitions[f"DUP#{owner}#sha256#{sha256}"].pop(media_id, None)
        if phash is not None:
            for pk in self._band_pks(owner, phash):
                self.partitions[pk].pop(media_id, None)

    def registered(self, media_id: str) -> bool:
        return any(media_id in items for items in self.partitions.values())


@dataclass(frozen=True)
class SentWork:
    queue_url: str
    bucket: str
    key: str
    size: int
    etag: str

    def as_event(self) -> ObjectCreated:
        """What the processor receives: the key URL-encoded as in an S3 notification."""
        return ObjectCreated(self.bucket, quote_plus(self.key, safe="/"), self.size, self.etag)


class FakeWorkSubmitter:
    def __init__(self) -> None:
        self.sent: list[SentWork] = []

    def send_object_created(self, queue_url: str, bucket: str, key: str, size: int, etag: str) -> None:
        self.sent.append(SentWork(queue_url, bucket, key, size, etag))


class FakeDeliveryUrls:
    """URLs stable within a window, as the real one: the same inputs in one window, one URL."""

    def __init__(self, window_seconds: int = 3600) -> None:
        self.window_seconds = window_seconds

    def object_url(self, target: UrlTarget, *, public: bool = False, now: float | None = None) -> str:
        window = int((now if now is not None else time.time()) // self.window_seconds)
        base = f"https://cdn.test/{target.key}"
        if public:
            return base
        suffix = f"&name={target.download_name}" if target.download_name else ""
        return f"{base}?bucket={target.bucket}&window={window}{suffix}"


class FakeInvalidator:
    def __init__(self) -> None:
        self.invalidated: list[list[str]] = []

    def invalidate(self, paths: Sequence[str]) -> str | None:
        if not paths:
            return None
        self.invalidated.append(list(paths))
        return f"I{len(self.invalidated)}"


class FakeUsageMeter:
    """Bytes started per owner and UTC day."""

    def __init__(self) -> None:
        self.by_day: dict[tuple[str, str], int] = defaultdict(int)

    @staticmethod
    def _today() -> str:
        return utc_now().date().isoformat()

    def started_today(self, owner: str) -> int:
        return self.by_day.get((owner, self._today()), 0)

    def reserve(self, owner: str, size: int, limit: int | None) -> bool:
        """As the conditional update: counted only if the day stays within `limit`."""
        day = (owner, self._today())
        if limit is not None and self.by_day.get(day, 0) + size > limit:
            return False
        self.by_day[day] += size
        return True

    def release(self, owner: str, size: int) -> None:
        self.by_day[(owner, self._today())] -= size


class FakeWorkflowRuns:
    """Executions by name, as Step Functions keeps them: the same name starts nothing new."""

    def __init__(
        self, state_machine_arn: str = "arn:aws:states:us-east-1:123456789012:stateMachine:t"
    ) -> None:
        self.state_machine_arn = state_machine_arn
        self.started: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, str] = {}

    def start(self, name: str, payload: dict[str, Any]) -> str:
        arn = f"{self.state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"
        if name not in self.started:
            self.started[name] = payload
            self.statuses[arn] = "RUNNING"
        return arn

    def status(self, execution_arn: str) -> str | None:
        return self.statuses.get(execution_arn)


def object_created(bucket: str, key: str, info: ObjectInfo) -> ObjectCreated:
    """The S3 notification for an object the fake store holds (key URL-encoded as S3 sends it)."""
    return ObjectCreated(bucket, quote_plus(key, safe="/"), info.size, info.etag)


def _conformance() -> None:
    """Checked by mypy (`make lint` runs it on this file): each fake is assignable to its Protocol.
    tests/unit/services/test_fakes.py compares the signatures at run time."""
    from media_core import ports

    records: ports.MediaRecords = FakeMediaRecords()
    by_status: ports.RecordsByStatus = FakeMediaRecords()
    storage: ports.ObjectStorage = FakeObjectStorage()
    workflows: ports.WorkflowRuns = FakeWorkflowRuns()
    audit: ports.AuditTrail = FakeAuditTrail()
    events: ports.EventPublisher = FakeEventPublisher()
    bus: ports.EventBus = FakeEventPublisher()
    outbox: ports.Outbox = FakeOutbox(FakeMediaRecords())
    duplicates: ports.DuplicateFinder = FakeDuplicateFinder()
    work: ports.WorkSubmitter = FakeWorkSubmitter()
    usage: ports.UsageMeter = FakeUsageMeter()
    urls: ports.DeliveryUrlSource = FakeDeliveryUrls()
    invalidator: ports.Invalidator = FakeInvalidator()
    del (
        records,
        by_status,
        storage,
        workflows,
        audit,
        events,
        bus,
        outbox,
        duplicates,
        work,
        usage,
        urls,
        invalidator,
    )
