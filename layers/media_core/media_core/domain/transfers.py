"""What the object store hands out and reports: presigned uploads, part URLs, object facts; and
what a download URL is asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PostPolicy:
    """What a presigned POST lets a browser upload: this one key, exactly this Content-Type,
    exactly the declared `size` in bytes (the quota was charged for it), tagged unclaimed
    (`tag_unclaimed=False` only for S3 implementations without POST `tagging` support, e.g.
    SeaweedFS in the policy-enforcement tests)."""

    bucket: str
    key: str
    content_type: str
    size: int
    tag_unclaimed: bool = True


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


@dataclass(frozen=True, slots=True)
class UrlTarget:
    """The stored object a GET URL is for, and how the browser is to receive it."""

    bucket: str
    key: str
    download_name: str | None = None  # an attachment saved under this name (Content-Disposition)
    version_id: str | None = None  # one version of a versioned object (S3 URLs only)


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
