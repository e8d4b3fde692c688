"""The ports: what services and processing need from the outside world, as small Protocols.

media_core.dal implements them against DynamoDB, S3, SQS and EventBridge (structurally: it
never imports this module); tests/unit/fakes.py implements them in memory. Services and
processing depend on these types only, never on the data layer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from media_core.domain.audit import AuditAction, AuditEntry
from media_core.domain.counters import Counters
from media_core.domain.events import Announce, DetailType, PendingEvent
from media_core.domain.models import MediaRecord, Moderation, Status
from media_core.domain.paging import MediaFilter, Page, Position
from media_core.domain.transfers import (
    ListedObject,
    ObjectInfo,
    PartUrl,
    PostPolicy,
    PresignedPost,
    UploadedPart,
    UrlTarget,
)
from media_core.domain.transitions import Transition


class MediaRecords(Protocol):
    def create(self, record: MediaRecord, expires_at: int | None = None) -> None: ...
    def get(self, media_id: str) -> MediaRecord | None: ...
    def transition(self, record: MediaRecord, change: Transition) -> MediaRecord: ...
    def tombstone(
        self, record: MediaRecord, expires_at: int, changes: Mapping[str, Any] | None = None
    ) -> MediaRecord: ...
    def purged(self, record: MediaRecord, announce: Announce | None = None) -> bool: ...
    def update(
        self, record: MediaRecord, changes: Mapping[str, Any], *, demote: MediaRecord | None = None
    ) -> MediaRecord: ...
    def delete(self, record: MediaRecord, *, expected: Iterable[Status]) -> None: ...
    def counters(self, owner: str | None) -> Counters: ...
    def list_owned(
        self, owner: str, media_filter: MediaFilter, *, page_size: int, after: Position | None
    ) -> Page: ...
    def list_entity(
        self,
        owner: str,
        entity_type: str,
        entity_id: str,
        *,
        page_size: int,
        after: Position | None,
        accept: Callable[[MediaRecord], bool] | None = None,
    ) -> Page: ...
    def list_moderation(self, moderation: Moderation, *, page_size: int, after: Position | None) -> Page: ...
    def primary_of(self, owner: str, entity_type: str, entity_id: str) -> MediaRecord | None: ...


class RecordsByStatus(Protocol):
    def changed_before(self, status: Status, before: datetime) -> Iterator[MediaRecord]: ...


class ObjectStorage(Protocol):
    def presigned_post(self, policy: PostPolicy, *, expires_in: int) -> PresignedPost: ...
    def start_multipart(self, bucket: str, key: str, *, content_type: str) -> str: ...
    def sign_parts(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, int]], *, expires_in: int
    ) -> list[PartUrl]: ...
    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[UploadedPart]: ...
    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None: ...
    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None: ...
    def presigned_get(self, target: UrlTarget, *, expires_in: int) -> str: ...
    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo | None: ...
    def read(self, bucket: str, key: str, version_id: str | None = None) -> bytes: ...
    def put(self, bucket: str, key: str, data: bytes, *, content_type: str) -> None: ...
    def upload_file(self, bucket: str, key: str, fileobj: BinaryIO, *, content_type: str) -> None: ...
    def copy(
        self,
        bucket: str,
        key: str,
        to_bucket: str,
        to_key: str,
        *,
        if_match: str | None = None,
        tag_claimed: bool = True,
    ) -> ObjectInfo: ...
    def mark_claimed(self, bucket: str, key: str) -> None: ...
    def delete_keys(self, bucket: str, keys: Sequence[str]) -> None: ...
    def delete_prefix(self, bucket: str, prefix: str) -> int: ...
    def list_objects(self, bucket: str, prefix: str) -> Iterator[ListedObject]: ...


class AuditTrail(Protocol):
    def record(
        self, media_id: str, action: AuditAction, actor: str, details: dict[str, Any] | None = None
    ) -> None: ...
    def entries(self, media_id: str, limit: int = 1000) -> list[AuditEntry]: ...


class EventPublisher(Protocol):
    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> None: ...


class EventBus(Protocol):
    def deliver(self, detail_type: DetailType, detail: dict[str, Any]) -> bool:
        """True once the bus accepted the event."""
        ...


class Outbox(Protocol):
    def pending(self, limit: int) -> list[PendingEvent]: ...
    def remove(self, event: PendingEvent) -> None: ...


class OutboxFlush(Protocol):
    def flush(self) -> None: ...


class DuplicateFinder(Protocol):
    def find(self, owner: str, media_id: str, sha256: str, phash: int | None) -> list[str]: ...
    def register(self, owner: str, media_id: str, sha256: str, phash: int | None) -> None: ...
    def unregister(self, owner: str, media_id: str, sha256: str, phash: int | None) -> None: ...


class WorkSubmitter(Protocol):
    def send_object_created(self, queue_url: str, bucket: str, key: str, size: int, etag: str) -> None: ...


class UsageMeter(Protocol):
    """Per-owner upload usage for quotas: bytes started today (an atomic counter per day)."""

    def started_today(self, owner: str) -> int: ...
    def add_started(self, owner: str, size: int) -> None: ...


class WorkflowRuns(Protocol):
    """Step Functions executions of a state machine (the segment-parallel transcode)."""

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start an execution named `name` (the run id); returns its ARN. The same name again
        starts nothing: the ARN of the existing execution is returned."""
        ...

    def status(self, execution_arn: str) -> str | None:
        """RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED, or None when it does not exist."""
        ...


class DeliveryUrlSource(Protocol):
    """URLs of stored objects for browsers: identical within a window (dal.url_signing.DeliveryUrls)."""

    def object_url(self, target: UrlTarget, *, public: bool = False, now: float | None = None) -> str: ...


class Invalidator(Protocol):
    """Removes paths from the CDN's caches (a no-op without a distribution)."""

    def invalidate(self, paths: Sequence[str]) -> str | None: ...
