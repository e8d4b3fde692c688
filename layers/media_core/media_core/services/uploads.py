"""Starting, completing and aborting direct-to-bucket uploads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from media_core.api.models import (
    CompleteRequest,
    MultipartUpload,
    PostUpload,
    SignedParts,
    StoredPart,
    UploadCreated,
    UploadedParts,
    UploadLimits,
    UploadPart,
    UploadRequest,
)
from media_core.domain.access import Caller, owned_record
from media_core.domain.counters import CreateLimits
from media_core.domain.errors import Conflict, InvalidRequest, NotFound, OverQuota, QuotaExceeded, TooLarge
from media_core.domain.keys import new_media_id, original_key, parse_upload_key, sanitize_filename
from media_core.domain.kinds import FileType, resolve_file_type
from media_core.domain.models import (
    EntityRef,
    Kind,
    MediaRecord,
    Moderation,
    Original,
    Status,
    UploadMethod,
    utc_now,
)
from media_core.domain.transfers import PostPolicy, StorageError
from media_core.domain.units import human_bytes
from media_core.observability import metrics_for
from media_core.ports import MediaRecords, ObjectStorage, UsageMeter
from media_core.settings import UploadSettings

# A record whose bytes never arrive is kept this long after its upload URL expires
# (the cleanup job removes it sooner; TTL is the backstop).
UNCLAIMED_RECORD_GRACE = timedelta(days=2)
MAX_PARTS = 10_000
MIN_PART = 5 * 1024 * 1024  # S3: every part but the last is at least 5 MiB
FIRST_PART_URLS = 100
MAX_POST_BYTES = (
    5 * 1024**3
)  # S3: a single PUT/POST carries at most 5 GiB  # part URLs in the start response; more are signed on demand


def part_size_for(size: int, preferred: int) -> int:
    """The part size: the configured one, grown so the upload stays within 10,000 parts."""
    return max(preferred, MIN_PART, math.ceil(size / MAX_PARTS))


def part_sizes(size: int, part_size: int) -> list[int]:
    count = max(1, math.ceil(size / part_size))
    return [part_size] * (count - 1) + [size - part_size * (count - 1)]


@dataclass
class UploadService:
    repository: MediaRecords
    store: ObjectStorage
    settings: UploadSettings
    usage: UsageMeter | None = None

    def _check_quota(self, caller: Caller, size: int) -> None:
        """Per-user limits (admins are exempt): uploads awaiting bytes, bytes started today, bytes stored."""
        if caller.is_admin:
            return
        settings = self.settings
        counters = self.repository.counters(caller.sub)
        waiting = counters.by_status.get(Status.AWAITING_UPLOAD, 0)
        if waiting >= settings.quota_max_awaiting_uploads:
            raise QuotaExceeded(
                f"quota: {waiting} uploads are already awaiting their bytes; the limit is "
                f"{settings.quota_max_awaiting_uploads} (finish or abort some first)"
            )
        if counters.total_bytes + size > settings.quota_stored_bytes:
            raise QuotaExceeded(
                f"quota: {human_bytes(counters.total_bytes)} stored + {human_bytes(size)} exceeds the "
                f"storage limit of {human_bytes(settings.quota_stored_bytes)}"
            )
        if self.usage is not None:
            today = self.usage.started_today(caller.sub)
            if today + size > settings.quota_daily_upload_bytes:
                raise self._over_daily(today, size)

    def _over_daily(self, today: int, size: int) -> QuotaExceeded:
        return QuotaExceeded(
            f"quota: {human_bytes(today)} started today + {human_bytes(size)} exceeds the daily "
            f"limit of {human_bytes(self.settings.quota_daily_upload_bytes)}"
        )

    def _create_limits(self, caller: Caller) -> CreateLimits | None:
        if caller.is_admin:
            return None
        return CreateLimits(self.settings.quota_max_awaiting_uploads, self.settings.quota_stored_bytes)

    def _reserve_daily(self, caller: Caller, size: int) -> bool:
        """Count the upload's bytes in today's usage, in one conditional write (admins: no limit)."""
        if self.usage is None:
            return False
        limit = None if caller.is_admin else self.settings.quota_daily_upload_bytes
        if not self.usage.reserve(caller.sub, size, limit):
            raise self._over_daily(self.usage.started_today(caller.sub), size)
        return True

    def limits(self) -> UploadLimits:
        settings = self.settings
        return UploadLimits(
            multipart_threshold_bytes=settings.multipart_threshold_bytes,
            multipart_part_bytes=settings.multipart_part_bytes,
            max_parts=MAX_PARTS,
            max_bytes={kind: settings.max_bytes(kind) for kind in Kind},
        )

    def create(
        self, caller: Caller, request: UploadRequest, *, method: UploadMethod | None = None
    ) -> UploadCreated:
        """`method` forces a POST or a multipart upload (the Uppy routes choose); by default a
        multipart upload above the threshold or when asked."""
        file_type = resolve_file_type(request.filename, request.content_type)
        limit = self.settings.max_bytes(file_type.kind)
        if request.size > limit:
            kind = file_type.kind.value
            raise TooLarge(
                f"size: {human_bytes(request.size)} exceeds the {kind} limit of {human_bytes(limit)}"
            )
        # A read first, for a message with the figures; then the same limits in the writes, where
        # concurrent requests cannot all pass them (the day's bytes reserved, the record's
        # create conditional on the owner's counters).
        self._check_quota(caller, request.size)
        reserved = self._reserve_daily(caller, request.size)
        try:
            return self._create(caller, request, file_type, method)
        except BaseException as err:
            if reserved and self.usage is not None:
                self.usage.release(caller.sub, request.size)
            if isinstance(err, OverQuota):
                self._check_quota(caller, request.size)  # the figures, as the room is used now
            raise

    def _create(
        self, caller: Caller, request: UploadRequest, file_type: FileType, method: UploadMethod | None
    ) -> UploadCreated:
        content_type = request.content_type.split(";", 1)[0].strip().lower()
        media_id = new_media_id()
        key = original_key(file_type.kind, caller.sub, media_id, file_type.extension)
        now = utc_now()
        expires_at = now + timedelta(seconds=self.settings.upload_url_ttl_seconds)
        if method is None:
            multipart = request.multipart or request.size > self.settings.multipart_threshold_bytes
        else:
            multipart = method == UploadMethod.MULTIPART
        if not multipart and request.size > MAX_POST_BYTES:
            raise InvalidRequest(
                "size", f"{human_bytes(request.size)} is above S3's 5 GiB single upload: use parts"
            )
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
            part_size = part_size_for(request.size, self.settings.multipart_part_bytes)
            sizes = part_sizes(request.size, part_size)
            upload_id = self.store.start_multipart(
                self.settings.uploads_bucket, key, content_type=content_type
            )
            record.upload_id = upload_id
            first = [(n, s) for n, s in enumerate(sizes[:FIRST_PART_URLS], start=1)]
            urls = self.store.sign_parts(
                self.settings.uploads_bucket,
                key,
                upload_id,
                first,
                expires_in=self.settings.upload_url_ttl_seconds,
            )
            upload = MultipartUpload(
                upload_id=upload_id,
                part_size=part_size,
                part_count=len(sizes),
                parts=[UploadPart(part_number=p.part_number, url=p.url, size=p.size or 0) for p in urls],
                expires_at=expires_at,
            )
        else:
            policy = PostPolicy(self.settings.uploads_bucket, key, content_type, size=request.size)
            post = self.store.presigned_post(policy, expires_in=self.settings.upload_url_ttl_seconds)
            upload = PostUpload(url=post.url, fields=post.fields, expires_at=expires_at)
        try:
            self.repository.create(
                record,
                expires_at=int((expires_at + UNCLAIMED_RECORD_GRACE).timestamp()),
                limits=self._create_limits(caller),
            )
        except BaseException:
            if record.upload_id is not None:  # no record names it: nothing would ever abort it
                self.store.abort_multipart(self.settings.uploads_bucket, key, record.upload_id)
            raise
        metrics_for(record.kind).upload_started()
        return UploadCreated(media_id=media_id, kind=record.kind, status=record.status, upload=upload)

    def pending_by_key(self, caller: Caller, key: str, upload_id: str) -> MediaRecord:
        """The caller's pending multipart upload with this key and upload id. A key is ours only
        as the server made it; another user's key or id, or a mismatched pair, is NotFound."""
        parsed = parse_upload_key(key)
        if (
            parsed is None
            or original_key(parsed.kind, parsed.owner, parsed.media_id, parsed.extension) != key
        ):
            raise InvalidRequest("key", "not an upload key of this service")
        record = self._pending_multipart(caller, parsed.media_id)
        if record.original.key != key or record.upload_id != upload_id:
            raise NotFound(f"media {parsed.media_id} not found")
        return record

    def _pending_multipart(self, caller: Caller, media_id: str) -> MediaRecord:
        record = owned_record(caller, self.repository.get(media_id), media_id)
        if record.upload_method != UploadMethod.MULTIPART or not record.upload_id:
            raise Conflict(f"media {media_id} was not started as a multipart upload")
        if record.status != Status.AWAITING_UPLOAD:
            raise Conflict(f"media {media_id} is already {record.status.value}; the upload is closed")
        return record

    def _layout(self, record: MediaRecord) -> tuple[int, list[int]]:
        part_size = part_size_for(record.original.size, self.settings.multipart_part_bytes)
        return part_size, part_sizes(record.original.size, part_size)

    def sign_parts(self, caller: Caller, media_id: str, part_numbers: list[int]) -> SignedParts:
        """More part URLs on demand (resume, or uploads of more than 100 parts); each is signed
        for its exact size."""
        record = self._pending_multipart(caller, media_id)
        assert record.upload_id is not None
        _, sizes = self._layout(record)
        wanted = list(dict.fromkeys(part_numbers))
        outside = [n for n in wanted if not 1 <= n <= len(sizes)]
        if outside:
            raise InvalidRequest("part_numbers", f"part {outside[0]} is outside 1..{len(sizes)}")
        ttl = self.settings.upload_url_ttl_seconds
        urls = self.store.sign_parts(
            self.settings.uploads_bucket,
            record.original.key,
            record.upload_id,
            [(n, sizes[n - 1]) for n in wanted],
            expires_in=ttl,
        )
        return SignedParts(
            parts=[UploadPart(part_number=p.part_number, url=p.url, size=p.size or 0) for p in urls],
            expires_at=utc_now() + timedelta(seconds=ttl),
        )

    def uploaded_parts(self, caller: Caller, media_id: str) -> UploadedParts:
        """The parts the bucket already holds (ListParts): a client resumes from here."""
        record = self._pending_multipart(caller, media_id)
        assert record.upload_id is not None
        part_size, sizes = self._layout(record)
        try:
            parts = self.store.list_parts(self.settings.uploads_bucket, record.original.key, record.upload_id)
        except StorageError as err:
            raise Conflict(f"the upload of media {media_id} is gone ({err.code}); start again") from err
        return UploadedParts(
            upload_id=record.upload_id,
            part_size=part_size,
            part_count=len(sizes),
            parts=[StoredPart(part_number=p.part_number, etag=p.etag, size=p.size) for p in parts],
        )

    def complete(self, caller: Caller, media_id: str, request: CompleteRequest) -> MediaRecord:
        """Complete only what fits: the parts S3 holds must add up to the declared size, within the
        kind's limit. Otherwise the upload is aborted (its bytes removed) and 413 names the sizes."""
        record = self._pending_multipart(caller, media_id)
        assert record.upload_id is not None
        bucket, key = self.settings.uploads_bucket, record.original.key
        try:
            stored = {p.part_number: p for p in self.store.list_parts(bucket, key, record.upload_id)}
        except StorageError as err:
            raise Conflict(f"the upload of media {media_id} is gone ({err.code}); start again") from err
        chosen = [p.part_number for p in request.parts]
        missing = [n for n in chosen if n not in stored]
        if missing:
            raise InvalidRequest("parts", f"part {missing[0]} was never uploaded")
        total = sum(stored[n].size for n in set(chosen))
        limit = self.settings.max_bytes(record.kind)
        if total > limit or total != record.original.size:
            self.store.abort_multipart(bucket, key, record.upload_id)
            raise TooLarge(
                f"parts: {human_bytes(total)} uploaded, but {human_bytes(record.original.size)} was declared "
                f"(the {record.kind.value} limit is {human_bytes(limit)}); the upload was aborted"
            )
        try:
            self.store.complete_multipart(
                bucket, key, record.upload_id, [(p.part_number, p.etag) for p in request.parts]
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
