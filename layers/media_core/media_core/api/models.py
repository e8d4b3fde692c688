"""Request and response bodies of the HTTP API. The OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from media_core.domain.models import Kind, Moderation, Status, Visibility


class ApiModel(BaseModel):
    """Every request and response body. Its validators are built on first use (`defer_build`): an
    API function builds the bodies of its own routes, not all of them at once (docs/cold-start.md)."""

    model_config = ConfigDict(defer_build=True)


Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[\w\- .:]+$")
]


class UploadRequest(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: str = Field(
        min_length=1,
        max_length=255,
        description="The client's file name; kept, sanitised.",
        examples=["beach.jpg"],
    )
    content_type: str = Field(min_length=3, max_length=255, examples=["image/jpeg"])
    size: int = Field(
        gt=0, strict=True, description="Exact size in bytes; the upload policy enforces it as an upper bound."
    )
    entity_type: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    entity_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    visibility: Visibility = Visibility.PRIVATE
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    alt_text: str | None = Field(default=None, max_length=1000)
    caption: str | None = Field(default=None, max_length=2000)
    multipart: bool = Field(
        default=False, strict=True, description="Force a multipart upload (automatic above the threshold)."
    )

    @model_validator(mode="after")
    def _entity_pair(self) -> UploadRequest:
        if (self.entity_type is None) != (self.entity_id is None):
            raise ValueError("entity_type and entity_id must be given together")
        return self


class PostUpload(ApiModel):
    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str]
    expires_at: datetime


class UploadPart(ApiModel):
    part_number: int
    url: str
    size: int = Field(description="The exact Content-Length this URL is signed for")


class MultipartUpload(ApiModel):
    method: Literal["MULTIPART"] = "MULTIPART"
    upload_id: str
    part_size: int
    part_count: int = Field(description="Parts in all; `parts` holds the first ones (sign more on demand)")
    parts: list[UploadPart]
    expires_at: datetime


class UploadCreated(ApiModel):
    media_id: str
    kind: Kind
    status: Status
    upload: PostUpload | MultipartUpload = Field(discriminator="method")


class SignPartsRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    part_numbers: list[StrictInt] = Field(min_length=1, max_length=100, description="Parts to sign (1-based)")


class SignedParts(ApiModel):
    parts: list[UploadPart]
    expires_at: datetime


class StoredPart(ApiModel):
    part_number: int
    etag: str
    size: int


class UploadedParts(ApiModel):
    upload_id: str
    part_size: int
    part_count: int
    parts: list[StoredPart] = Field(description="The parts the bucket already holds (resume from here)")


class CompletedPart(ApiModel):
    model_config = ConfigDict(extra="forbid")

    part_number: int = Field(ge=1, le=10_000, strict=True)
    etag: str = Field(min_length=1, max_length=128)


class CompleteRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[CompletedPart] = Field(min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _ordered_unique(self) -> CompleteRequest:
        numbers = [p.part_number for p in self.parts]
        if numbers != sorted(set(numbers)):
            raise ValueError("parts must be in ascending part_number order without repeats")
        return self


class OriginalView(ApiModel):
    filename: str
    content_type: str
    size: int


class VariantView(ApiModel):
    model_config = ConfigDict(extra="allow")

    url: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None


class SrcsetEntry(ApiModel):
    width: int = Field(description="The rendition's width in pixels (the `w` descriptor)")
    url: str = Field(description="A signed `format=auto` transformation URL under the CDN")


class EntityView(ApiModel):
    type: str
    id: str


class StreamingView(ApiModel):
    hls: str | None = Field(
        description="The HLS master playlist, served by GET /media/{media_id}/hls/master.m3u8 with every "
        "URI inside signed (send the same Authorization header); null when the video has no HLS"
    )
    storyboard: str | None = Field(
        description="WebVTT seek-bar previews (`sprite.jpg#xywh=` cues, the sprite URL signed); null if none"
    )


class MediaView(ApiModel):
    media_id: str
    owner: str | None = Field(description="The owner's id; null in the public view others get")
    kind: Kind
    status: Status
    failure_reason: str | None
    original: OriginalView
    variants: dict[str, VariantView]
    metadata: dict[str, Any]
    entity: EntityView | None
    is_primary: bool
    visibility: Visibility
    tags: list[str]
    alt_text: str | None
    caption: str | None
    moderation: Moderation
    moderation_reason: str | None = None
    duplicate_of: list[str]
    created_at: datetime
    updated_at: datetime
    version: int
    streaming: StreamingView | None = Field(
        default=None, description="Adaptive streaming of a video (GET /media/{media_id} only)"
    )
    srcset: list[SrcsetEntry] = Field(
        default_factory=list,
        description="Images: signed on-demand renditions for `<img srcset>` (empty without a CDN)",
    )


class ErrorBody(ApiModel):
    error: str = Field(description="Machine-readable error code")
    message: str = Field(description="What is wrong, for a person")
    details: list[dict[str, Any]] | None = None


MediaIdStr = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
EntityType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class MediaPage(ApiModel):
    items: list[MediaView]
    next: str | None = Field(
        description="Opaque cursor of the next page (pass it back as `cursor`); null on the last page. "
        "A filtered page may hold fewer than page_size items while `next` is set."
    )


class MediaStats(ApiModel):
    scope: Literal["owner", "all"]
    count: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    total_bytes: int = Field(description="Originals plus variants of ready media, in bytes")


class EntityLink(ApiModel):
    model_config = ConfigDict(extra="forbid")

    type: EntityType
    id: EntityId


def _not_nullable(schema: dict[str, Any]) -> None:
    """The document of an optional field that may be left out but not sent as null."""
    schema.pop("default", None)
    options = schema.pop("anyOf", [])
    schema.update(*[option for option in options if option.get("type") != "null"])


class MediaUpdate(ApiModel):
    """Only the fields present change; null clears alt_text, caption or the entity link."""

    # At least one field (the validator below); documented so clients (and fuzzers) know.
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"minProperties": 1}
    )

    alt_text: str | None = Field(default=None, max_length=1000)
    caption: str | None = Field(default=None, max_length=2000)
    # Absent means unchanged; null is refused (below), so the document offers neither null nor a default.
    tags: list[Tag] | None = Field(default=None, max_length=20, json_schema_extra=_not_nullable)
    visibility: Visibility | None = Field(default=None, json_schema_extra=_not_nullable)
    entity: EntityLink | None = None
    is_primary: bool | None = Field(
        default=None,
        strict=True,
        description="The entity's primary item (one per entity, switched atomically)",
        json_schema_extra=_not_nullable,
    )

    @model_validator(mode="after")
    def _something(self) -> MediaUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give at least one field")
        for name in ("tags", "visibility", "is_primary"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class BatchDeleteRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[MediaIdStr] = Field(min_length=1, max_length=100)


class DeleteOutcome(ApiModel):
    media_id: str
    outcome: Literal["deleted", "not_found"]


class BatchDeleteResult(ApiModel):
    results: list[DeleteOutcome]


class ReprocessAccepted(ApiModel):
    media_id: str
    status: Status
    reprocess: Literal["queued"] = "queued"


class ModerationRequest(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Literal["approved", "rejected", "flagged"]
    reason: str | None = Field(default=None, max_length=1000)
    version: int | None = Field(
        default=None,
        ge=1,
        description="The record's `version` when it was reviewed: the decision is refused (409) "
        "if the media changed since, e.g. a replacement was uploaded",
    )


class ActivityEntry(ApiModel):
    action: str
    actor: str
    at: datetime
    details: dict[str, Any]


class Activity(ApiModel):
    media_id: str
    entries: list[ActivityEntry]


# ---------------------------------------------------------------- upload limits and Uppy's S3 contract
# The /s3 routes speak @uppy/aws-s3's Companion contract (field names as Uppy sends and reads them,
# PascalCase included); they are an adapter over the same records, keys, limits and quotas.


class UploadLimits(ApiModel):
    multipart_threshold_bytes: int = Field(description="Above this a client should upload in parts")
    multipart_part_bytes: int = Field(description="The preferred part size (S3 minimum 5 MiB)")
    max_parts: int = Field(description="S3's limit; the part size grows to stay within it")
    max_bytes: dict[Kind, int] = Field(description="The size limit of each kind")


class UppyUploadParameters(ApiModel):
    """`GET /s3/params`: a presigned POST; send every field, then the file as `file`."""

    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str]
    headers: dict[str, str] = Field(default_factory=dict)
    expires: int = Field(description="Seconds the policy is valid")


class UppyMultipartRequest(ApiModel):
    """`POST /s3/multipart` as @uppy/aws-s3 sends it; `metadata.size` (bytes) is required."""

    # Uppy does not send the size; parts are signed for their exact length, so the API needs it.

    model_config = ConfigDict(str_strip_whitespace=True)

    filename: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=3, max_length=255, examples=["video/mp4"])
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="size (required), entity_type, entity_id, visibility, tags, alt_text, caption; "
        "other fields (Uppy's name, type, relativePath…) are ignored",
    )


class UppyMultipartCreated(ApiModel):
    key: str
    uploadId: str  # noqa: N815 - Uppy's field name


class UppyPart(ApiModel):
    PartNumber: int
    ETag: str
    Size: int


class UppySignedPart(ApiModel):
    url: str
    expires: int = Field(description="Seconds the URL is valid")
    headers: dict[str, str] = Field(default_factory=dict)


class UppyCompletedPart(ApiModel):
    PartNumber: int = Field(ge=1, le=10_000)
    ETag: str = Field(min_length=1, max_length=128)


class UppyCompleteRequest(ApiModel):
    parts: list[UppyCompletedPart] = Field(min_length=1, max_length=10_000)


class UppyCompleted(ApiModel):
    location: str = Field(description="The record's API path")
    key: str
    media_id: str
    status: Status
