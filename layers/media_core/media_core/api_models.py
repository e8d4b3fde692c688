"""Request and response bodies of the HTTP API. The OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from media_core.models import Kind, Moderation, Status, Visibility

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[\w\- .:]+$")
]


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: str = Field(
        min_length=1, max_length=255, description="The client's file name; kept, sanitised."
    )
    content_type: str = Field(min_length=3, max_length=255, examples=["image/jpeg"])
    size: int = Field(
        gt=0, description="Exact size in bytes; the upload policy enforces it as an upper bound."
    )
    entity_type: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    entity_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    visibility: Visibility = Visibility.PRIVATE
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    alt_text: str | None = Field(default=None, max_length=1000)
    caption: str | None = Field(default=None, max_length=2000)
    multipart: bool = Field(
        default=False, description="Force a multipart upload (automatic above the threshold)."
    )

    @model_validator(mode="after")
    def _entity_pair(self) -> UploadRequest:
        if (self.entity_type is None) != (self.entity_id is None):
            raise ValueError("entity_type and entity_id must be given together")
        return self


class PostUpload(BaseModel):
    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str]
    expires_at: datetime


class UploadPart(BaseModel):
    part_number: int
    url: str


class MultipartUpload(BaseModel):
    method: Literal["MULTIPART"] = "MULTIPART"
    upload_id: str
    part_size: int
    parts: list[UploadPart]
    expires_at: datetime


class UploadCreated(BaseModel):
    media_id: str
    kind: Kind
    status: Status
    upload: PostUpload | MultipartUpload = Field(discriminator="method")


class CompletedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=128)


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[CompletedPart] = Field(min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _ordered_unique(self) -> CompleteRequest:
        numbers = [p.part_number for p in self.parts]
        if numbers != sorted(set(numbers)):
            raise ValueError("parts must be in ascending part_number order without repeats")
        return self


class OriginalView(BaseModel):
    filename: str
    content_type: str
    size: int


class VariantView(BaseModel):
    model_config = ConfigDict(extra="allow")

    url: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None


class EntityView(BaseModel):
    type: str
    id: str


class MediaView(BaseModel):
    media_id: str
    owner: str
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
    duplicate_of: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class ErrorBody(BaseModel):
    error: str = Field(description="Machine-readable error code")
    message: str = Field(description="What is wrong, for a person")
    details: list[dict[str, Any]] | None = None
