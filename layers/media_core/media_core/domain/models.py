"""The media record and its parts: one pydantic model, stored as one DynamoDB item."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_timestamp(ts: datetime) -> str:
    """UTC ISO-8601 with a `Z`: sorts as text in index keys and reads back with fromisoformat."""
    return ts.isoformat().replace("+00:00", "Z")


class Kind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class Status(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    DELETED = "deleted"


# The state machine. Anything not listed is refused (and the write is conditional on the
# current status, so a concurrent change loses the race instead of being overwritten).
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.AWAITING_UPLOAD: frozenset({Status.PROCESSING, Status.FAILED, Status.DELETED}),
    # processing -> processing: a retry re-claims the record after a failed attempt.
    Status.PROCESSING: frozenset({Status.PROCESSING, Status.READY, Status.FAILED, Status.DELETED}),
    # reprocess: ready/failed go back to processing
    Status.READY: frozenset({Status.PROCESSING, Status.DELETED}),
    Status.FAILED: frozenset({Status.PROCESSING, Status.DELETED}),
    Status.DELETED: frozenset(),
}


class Visibility(StrEnum):
    PRIVATE = "private"
    PUBLIC = "public"


class Moderation(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    FLAGGED = "flagged"


class UploadMethod(StrEnum):
    POST = "POST"
    MULTIPART = "MULTIPART"


class Original(BaseModel):
    key: str
    filename: str
    content_type: str
    size: int
    etag: str | None = None
    sha256: str | None = None
    # The pinned copy of the version that was claimed (media_core.domain.keys): downloads and
    # reprocessing use only this, never the inbox key a presigned upload can write again.
    stored_key: str | None = None


class EntityRef(BaseModel):
    type: str
    id: str


class Variant(BaseModel):
    """A derived object in the media bucket."""

    model_config = ConfigDict(extra="allow")

    key: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None


class PublicCopy(BaseModel):
    """The published copies of a record's variants (media_core.services.publication): written
    only once every copy exists. `prefix` is `public/{media_id}/{run_id}-{token}/`: a fresh
    token per publication, so no two publications ever write or delete the same objects."""

    run_id: str
    prefix: str


class MediaRecord(BaseModel):
    media_id: str
    owner: str
    kind: Kind
    status: Status = Status.AWAITING_UPLOAD
    original: Original
    upload_method: UploadMethod = UploadMethod.POST
    upload_id: str | None = None
    entity: EntityRef | None = None
    is_primary: bool = False
    visibility: Visibility = Visibility.PRIVATE
    tags: list[str] = Field(default_factory=list)
    alt_text: str | None = None
    caption: str | None = None
    moderation: Moderation = Moderation.PENDING
    moderation_reason: str | None = None
    variants: dict[str, Variant] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    failure_reason: str | None = None
    # The processing run that owns the record while `processing`; its variants live under it.
    run_id: str | None = None
    claim_attempt: int = 1  # the delivery attempt that claimed the current run
    # Set by a reprocess request; the next claim of the settled record accepts it once.
    reprocess_requested: str | None = None
    # A deleted record whose objects are not all removed yet: the cleanup job finishes the job.
    purge_pending: bool = False
    # Set once the variants of `run_id` are copied under `public/` (docs/delivery.md).
    public_copy: PublicCopy | None = None
    duplicate_of: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    version: int = 1
