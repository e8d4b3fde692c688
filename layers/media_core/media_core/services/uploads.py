"""Starting, completing and aborting direct-to-bucket uploads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from media_core.domain.access import Caller, owned_record
from media_core.api.models import (
    CompleteRequest,
    MultipartUpload,
    PostUpload,
    UploadCreated,
    UploadPart,
    UploadRequest,
)
from media_core.domain.errors import Conflict, InvalidRequest, TooLarge
from media_core.domain.keys import new_media_id, original_key, sanitize_filename
from media_core.domain.kinds import resolve_file_type
from media_core.domain.models import EntityRef, MediaRecord, Moderation, Original, Status, UploadMethod, utc_now
from media_core.dal.dynamo.repository import MediaRepository
from media_core.settings import UploadSettings
from media_core.dal.s3 import ObjectStore, StorageError
from media_core.domain.units import human_bytes

# A record whose bytes never arrive is kept this long after its upload URL expires
# (the cleanup job removes it sooner; TTL is the backstop).
UNCLAIMED_RECORD_GRACE = timedelta(days=2)
MAX_PARTS = 10_000


@dataclass
class UploadService:
    repository: MediaRepository
    store: ObjectStore
    settings: UploadSettings

    def create(self, caller: Caller, request: UploadRequest) -> UploadCreated:
        file_type = resolve_file_type(request.filename, request.content_type)
        limit = self.settings.max_bytes(file_type.kind)
        if request.size > limit:
            kind = file_type.kind.value
            raise TooLarge(
                f"size: {human_bytes(request.size)} exceeds the {kind} limit of {human_bytes(limit)}"
            )
        content_type = request.content_type.split(";", 1)[0].strip().lower()
        media_id = new_media_id()
        key = original_key(file_type.kind, caller.sub, media_id, file_type.extension)
        now = utc_now()
        expires_at = now + timedelta(seconds=self.settings.upload_url_ttl_seconds)
        multipart = request.multipart or request.size > self.settings.multipart_threshold_bytes
        record = MediaRecord(
            media_id=media_id,
            owner=caller.sub,
            kind=file_type.kind,
            original=Original(
                key=key,
                filename=sanitize_filename(request.filename),
                content_type=content_type,
                size=request.size,
            ),
            upload_method=UploadMethod.MULTIPART if multipart else UploadMethod.POST,
            entity=EntityRef(type=request.entity_type, id=request.entity_id)
            if request.entity_type and request.entity_id
            else None,
            visibility=request.visibility,
            tags=list(dict.fromkeys(request.tags)),
            alt_text=request.alt_text,
            caption=request.caption,
            moderation=Moderation.APPROVED
            if caller.groups & set(self.settings.auto_approve_groups)
            else Moderation.PENDING,
            created_at=now,
            updated_at=now,
        )
        upload: PostUpload | MultipartUpload
        if multipart:
            part_size = max(self.settings.multipart_part_bytes, math.ceil(request.size / MAX_PARTS))
            upload_id, parts = self.store.start_multipart(
                self.settings.uploads_bucket,
                key,
                content_type=content_type,
                part_count=max(1, math.ceil(request.size / part_size)),
                expires_in=self.settings.upload_url_ttl_seconds,
            )
            record.upload_id = upload_id
            upload = MultipartUpload(
                upload_id=upload_id,
                part_size=part_size,
                parts=[UploadPart(part_number=p.part_number, url=p.url) for p in parts],
                expires_at=expires_at,
            )
        else:
            post = self.store.presigned_post(
                self.settings.uploads_bucket,
                key,
                content_type=content_type,
                max_bytes=limit,
                expires_in=self.settings.upload_url_ttl_seconds,
            )
            upload = PostUpload(url=post.url, fields=post.fields, expires_at=expires_at)
        self.repository.create(record, expires_at=int((expires_at + UNCLAIMED_RECORD_GRACE).timestamp()))
        return UploadCreated(media_id=media_id, kind=record.kind, status=record.status, upload=upload)

    def _pending_multipart(self, caller: Caller, media_id: str) -> MediaRecord:
        record = owned_record(caller, self.repository.get(media_id), media_id)
        if record.upload_method != UploadMethod.MULTIPART or not record.upload_id:
            raise Conflict(f"media {media_id} was not started as a multipart upload")
        if record.status != Status.AWAITING_UPLOAD:
            raise Conflict(f"media {media_id} is already {record.status.value}; the upload is closed")
        return record

    def complete(self, caller: Caller, media_id: str, request: CompleteRequest) -> MediaRecord:
        record = self._pending_multipart(caller, media_id)
        assert record.upload_id is not None
        try:
            self.store.complete_multipart(
                self.settings.uploads_bucket,
                record.original.key,
                record.upload_id,
                [(p.part_number, p.etag) for p in request.parts],
            )
        except StorageError as err:
            raise InvalidRequest(
                "parts", f"the storage refused to complete the upload ({err.code}): {err}"
            ) from err
        return record

    def abort(self, caller: Caller, media_id: str) -> None:
        record = owned_record(caller, self.repository.get(media_id), media_id)
        if record.status != Status.AWAITING_UPLOAD:
            raise Conflict(f"media {media_id} is already {record.status.value}; delete it instead")
        if record.upload_id:
            self.store.abort_multipart(self.settings.uploads_bucket, record.original.key, record.upload_id)
        self.repository.delete(record, expected=[Status.AWAITING_UPLOAD])
