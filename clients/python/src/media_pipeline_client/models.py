"""Generated from openapi.json by clients/python/tools/generate_models.py: do not edit.
Regenerate with `python clients/python/tools/generate_models.py`; a test fails on drift.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Kind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class Moderation(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    FLAGGED = "flagged"


class Status(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    DELETED = "deleted"


class Visibility(StrEnum):
    PRIVATE = "private"
    PUBLIC = "public"


class Activity(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    entries: list[ActivityEntry]
    media_id: str


class ActivityEntry(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    action: str
    actor: str
    at: datetime
    details: dict[str, Any]


class BatchDeleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    ids: list[str]


class BatchDeleteResult(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    results: list[DeleteOutcome]


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    parts: list[CompletedPart]


class CompletedPart(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    etag: str
    part_number: int


class DeleteOutcome(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    media_id: str
    outcome: Literal["deleted", "not_found"]


class EntityLink(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str
    type: str


class EntityView(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: str
    type: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    details: list[dict[str, Any]] | None = None
    error: str
    message: str


class HTTPValidationError(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    detail: list[ValidationError] | None = None


class MediaPage(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    items: list[MediaView]
    next: str | None


class MediaStats(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    by_kind: dict[str, int]
    by_status: dict[str, int]
    count: int
    scope: Literal["owner", "all"]
    total_bytes: int


class MediaUpdate(BaseModel):
    "Only the fields present change; null clears alt_text, caption or the entity link."

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    alt_text: str | None = None
    caption: str | None = None
    entity: EntityLink | None = None
    is_primary: bool | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None


class MediaView(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    alt_text: str | None
    caption: str | None
    created_at: datetime
    duplicate_of: list[str]
    entity: EntityView | None
    failure_reason: str | None
    is_primary: bool
    kind: Kind
    media_id: str
    metadata: dict[str, Any]
    moderation: Moderation
    moderation_reason: str | None = None
    original: OriginalView
    owner: str | None
    srcset: list[SrcsetEntry] | None = None
    status: Status
    streaming: StreamingView | None = None
    tags: list[str]
    updated_at: datetime
    variants: dict[str, VariantView]
    version: int
    visibility: Visibility


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    reason: str | None = None
    status: Literal["approved", "rejected", "flagged"]
    version: int | None = None


class MultipartUpload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    expires_at: datetime
    method: Literal["MULTIPART"] = "MULTIPART"
    part_count: int
    part_size: int
    parts: list[UploadPart]
    upload_id: str


class OriginalView(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    content_type: str
    filename: str
    size: int


class PostUpload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    expires_at: datetime
    fields: dict[str, str]
    method: Literal["POST"] = "POST"
    url: str


class ReprocessAccepted(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    media_id: str
    reprocess: Literal["queued"] = "queued"
    status: Status


class ResponseValidationError(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    detail: list[ValidationError] | None = None


class SignPartsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    part_numbers: list[int]


class SignedParts(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    expires_at: datetime
    parts: list[UploadPart]


class SrcsetEntry(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    url: str
    width: int


class StoredPart(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    etag: str
    part_number: int
    size: int


class StreamingView(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    hls: str | None
    storyboard: str | None


class UploadCreated(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    kind: Kind
    media_id: str
    status: Status
    upload: Annotated[PostUpload | MultipartUpload, Field(discriminator="method")]


class UploadLimits(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    max_bytes: dict[str, int]
    max_parts: int
    multipart_part_bytes: int
    multipart_threshold_bytes: int


class UploadPart(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    part_number: int
    size: int
    url: str


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    alt_text: str | None = None
    caption: str | None = None
    content_type: str
    entity_id: str | None = None
    entity_type: str | None = None
    filename: str
    multipart: bool = False
    size: int
    tags: list[str] | None = None
    visibility: Visibility = Visibility.PRIVATE


class UploadedParts(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    part_count: int
    part_size: int
    parts: list[StoredPart]
    upload_id: str


class UppyCompleteRequest(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    parts: list[UppyCompletedPart]


class UppyCompleted(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    key: str
    location: str
    media_id: str
    status: Status


class UppyCompletedPart(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    etag: str = Field(alias="ETag")
    part_number: int = Field(alias="PartNumber")


class UppyMultipartCreated(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    key: str
    upload_id: str = Field(alias="uploadId")


class UppyMultipartRequest(BaseModel):
    "`POST /s3/multipart` as @uppy/aws-s3 sends it; `metadata.size` (bytes) is required."

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    filename: str
    metadata: dict[str, Any] | None = None
    type: str


class UppySignedPart(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    expires: int
    headers: dict[str, str] | None = None
    url: str


class UppyUploadParameters(BaseModel):
    "`GET /s3/params`: a presigned POST; send every field, then the file as `file`."

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    expires: int
    fields: dict[str, str]
    headers: dict[str, str] | None = None
    method: Literal["POST"] = "POST"
    url: str


class ValidationError(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    loc: list[str | int]
    type: str


class VariantView(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    bytes: int
    content_type: str
    duration: float | None = None
    height: int | None = None
    url: str
    width: int | None = None


# The routes the client calls → their request bodies and replies.
CreateUploadBody = UploadRequest
CreateUploadReply = UploadCreated
CompleteUploadBody = CompleteRequest
CompleteUploadReply = dict[str, str]
ListPartsReply = UploadedParts
SignPartsBody = SignPartsRequest
SignPartsReply = SignedParts
GetMediaReply = MediaView
ListMediaReply = MediaPage
BatchDeleteBody = BatchDeleteRequest
BatchDeleteReply = BatchDeleteResult
ErrorReply = ErrorBody


for _model in list(globals().values()):
    if isinstance(_model, type) and issubclass(_model, BaseModel) and _model is not BaseModel:
        _model.model_rebuild()
