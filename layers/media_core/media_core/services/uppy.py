"""Uppy's S3 contract (@uppy/aws-s3 with a Companion-style `endpoint`) as a thin adapter over
UploadService: the same records, server-made keys, limits, quotas and exact part sizes.

Uppy names a multipart upload by (`key`, `uploadId`); both must be the ones the server made for the
caller, or the route answers 404. Uppy does not send the file's size, so `metadata.size` is required:
it is the declared size the record, the quota check and the part layout use (the page sets it), and
`complete` checks the parts S3 holds against it and the kind's limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from media_core.api.models import (
    CompletedPart,
    CompleteRequest,
    UploadRequest,
    UppyCompleted,
    UppyCompleteRequest,
    UppyMultipartCreated,
    UppyMultipartRequest,
    UppyPart,
    UppySignedPart,
    UppyUploadParameters,
)
from media_core.domain.access import Caller
from media_core.domain.errors import InvalidRequest, TooLarge, UnsupportedType
from media_core.domain.models import UploadMethod
from media_core.services.uploads import UploadService

# metadata fields that become fields of the upload request; the rest of Uppy's meta is ignored
_FIELDS = ("entity_type", "entity_id", "visibility", "alt_text", "caption")


def _size(metadata: Mapping[str, Any]) -> int:
    raw = metadata.get("size")
    if raw is None or raw == "":
        raise InvalidRequest(
            "metadata.size", "required: the file's size in bytes (set it in the file's Uppy meta)"
        )
    if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit())):
        raise InvalidRequest("metadata.size", "must be a whole number of bytes")
    return int(raw)


def _tags(raw: Any) -> list[Any]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [t for t in (part.strip() for part in raw.split(",")) if t]
    if isinstance(raw, list):
        return raw
    raise InvalidRequest("metadata.tags", "must be a list or a comma-separated string")


def upload_request(filename: str, content_type: str, metadata: Mapping[str, Any]) -> UploadRequest:
    """The UploadRequest an Uppy request stands for; a broken rule is a 422 naming the field."""
    values: dict[str, Any] = {
        "filename": filename,
        "content_type": content_type,
        "size": _size(metadata),
        "tags": _tags(metadata.get("tags")),
    }
    values.update({name: metadata[name] for name in _FIELDS if metadata.get(name) not in (None, "")})
    try:
        return UploadRequest.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        field = loc if loc in ("filename", "content_type") else f"metadata.{loc}" if loc else "metadata"
        raise InvalidRequest(field.replace("content_type", "type"), first.get("msg", "invalid")) from err


@contextmanager
def _readable_refusals() -> Iterator[None]:
    """Uppy shows only the message of a refusal (not its status): name the rule in it."""
    try:
        yield
    except TooLarge as err:
        raise TooLarge(f"Too large: {err.message}") from err
    except UnsupportedType as err:
        raise UnsupportedType(f"Type not allowed: {err.message}") from err


@dataclass
class UppyS3Service:
    uploads: UploadService

    def params(
        self, caller: Caller, filename: str, content_type: str, metadata: Mapping[str, Any]
    ) -> UppyUploadParameters:
        """GET /s3/params: a presigned POST (key, type and size range pinned by the policy)."""
        with _readable_refusals():
            created = self.uploads.create(
                caller, upload_request(filename, content_type, metadata), method=UploadMethod.POST
            )
        upload = created.upload
        assert upload.method == "POST"
        return UppyUploadParameters(
            url=upload.url, fields=upload.fields, expires=self.uploads.settings.upload_url_ttl_seconds
        )

    def create_multipart(self, caller: Caller, request: UppyMultipartRequest) -> UppyMultipartCreated:
        with _readable_refusals():
            created = self.uploads.create(
                caller,
                upload_request(request.filename, request.type, request.metadata),
                method=UploadMethod.MULTIPART,
            )
        upload = created.upload
        assert upload.method == "MULTIPART"
        stored = self.uploads.repository.get(created.media_id)
        assert stored is not None
        return UppyMultipartCreated(key=stored.original.key, uploadId=upload.upload_id)

    def list_parts(self, caller: Caller, upload_id: str, key: str) -> list[UppyPart]:
        record = self.uploads.pending_by_key(caller, key, upload_id)
        listed = self.uploads.uploaded_parts(caller, record.media_id)
        return [UppyPart(PartNumber=p.part_number, ETag=p.etag, Size=p.size) for p in listed.parts]

    def sign_part(self, caller: Caller, upload_id: str, key: str, part_number: int) -> UppySignedPart:
        record = self.uploads.pending_by_key(caller, key, upload_id)
        signed = self.uploads.sign_parts(caller, record.media_id, [part_number])
        return UppySignedPart(url=signed.parts[0].url, expires=self.uploads.settings.upload_url_ttl_seconds)

    def complete(
        self, caller: Caller, upload_id: str, key: str, request: UppyCompleteRequest
    ) -> UppyCompleted:
        record = self.uploads.pending_by_key(caller, key, upload_id)
        try:
            parts = CompleteRequest(
                parts=[CompletedPart(part_number=p.PartNumber, etag=p.ETag) for p in request.parts]
            )
        except ValidationError as err:
            raise InvalidRequest("parts", err.errors()[0].get("msg", "invalid")) from err
        with _readable_refusals():
            done = self.uploads.complete(caller, record.media_id, parts)
        return UppyCompleted(
            location=f"/media/{done.media_id}", key=key, media_id=done.media_id, status=done.status
        )

    def abort(self, caller: Caller, upload_id: str, key: str) -> None:
        record = self.uploads.pending_by_key(caller, key, upload_id)
        self.uploads.abort(caller, record.media_id)
