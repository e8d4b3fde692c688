"""What the object store hands out and reports: presigned uploads, part URLs, object facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str
    size: int | None = None  # the exact Content-Length the URL is signed for


@dataclass(frozen=True)
class UploadedPart:
    part_number: int
    etag: str
    size: int


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    content_type: str | None
    version_id: str | None = None


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    last_modified: datetime


class StorageError(Exception):
    """The store refused an operation for a reason the caller can act on (`code`: S3's code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
