"""The shared processing pipeline: claim -> re-check -> kind-specific work -> finish.

Delivery is at least once, so every step is conditional: the claim is a conditional status
transition keyed on the object's ETag, and finishing is conditional on still owning the run.
A duplicate event changes nothing; a failed run leaves no variants behind; no path leaves a
record in `processing` once the last attempt is spent.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from media_core.dal.dynamo.audit import AuditAction, AuditLog
from media_core.domain.errors import InvalidTransition, MediaRejected
from media_core.dal.events import DetailType, EventPublisher, NullPublisher, event_detail
from media_core.domain.keys import parse_upload_key
from media_core.domain.models import MediaRecord, Status
from media_core.processing.objects import Attempt, ObjectCreated
from media_core.processing.variants import VariantWriter
from media_core.processing.work import KindProcessor, WorkContext
from media_core.dal.dynamo.repository import MediaRepository
from media_core.settings import ProcessorSettings
from media_core.dal.s3 import ObjectStore
from media_core.domain.units import human_bytes

logger = Logger(child=True)


class Outcome(StrEnum):
    READY = "ready"
    FAILED = "failed"
    DUPLICATE = "duplicate"  # this version of the object is (being) processed already
    IGNORED = "ignored"  # not an upload of ours, or its record is gone
    SUPERSEDED = "superseded"  # the record moved on while we worked (deleted, re-claimed)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    media_id: str | None = None
    detail: str = ""


def _etag_is(etag: str) -> tuple[str, dict[str, str], dict[str, str]]:
    return "#orig.#etag = :etag", {"#orig": "original", "#etag": "etag"}, {":etag": etag}


def _etag_is_not(etag: str) -> tuple[str, dict[str, str], dict[str, str]]:
    return (
        "(attribute_not_exists(#orig.#etag) OR #orig.#etag <> :etag)",
        {"#orig": "original", "#etag": "etag"},
        {":etag": etag},
    )


def _reprocess_is(token: str) -> tuple[str, dict[str, str], dict[str, str]]:
    return "#rp = :rp", {"#rp": "reprocess_requested"}, {":rp": token}


def _run_is(run_id: str) -> tuple[str, dict[str, str], dict[str, str]]:
    return "#run = :run", {"#run": "run_id"}, {":run": run_id}


@dataclass
class ProcessingPipeline:
    repository: MediaRepository
    store: ObjectStore
    settings: ProcessorSettings
    events: EventPublisher = field(default_factory=NullPublisher)
    audit: AuditLog | None = None

    def _settled(self, record: MediaRecord, action: AuditAction, detail_type: DetailType) -> None:
        """Tell the world: an audit entry and an event (both after the record is settled)."""
        if self.audit is not None:
            details = (
                {"reason": record.failure_reason}
                if record.status == Status.FAILED
                else {"variants": sorted(record.variants)}
            )
            self.audit.record(record.media_id, action, f"system:{record.kind.value}-processor", details)
        self.events.publish(
            detail_type, event_detail(record, self.settings.uploads_bucket, self.settings.media_bucket)
        )

    def handle(
        self,
        event: ObjectCreated,
        attempt: Attempt,
        work: KindProcessor,
        remaining_seconds: Callable[[], float] = lambda: 900.0,
    ) -> Result:
        upload = parse_upload_key(event.key)
        if upload is None:
            return Result(Outcome.IGNORED, detail=f"not an upload key: {event.key}")
        record = self.repository.get(upload.media_id)
        key = unquote_plus(event.key)
        if record is None or record.original.key != key or record.owner != upload.owner:
            return Result(Outcome.IGNORED, upload.media_id, "no record for this object")
        claimed = self._claim(record, event.etag, attempt)
        if claimed is None:
            return Result(
                Outcome.DUPLICATE, record.media_id, f"already {record.status.value} for this version"
            )
        assert claimed.run_id is not None
        writer = VariantWriter(
            self.store, self.settings.media_bucket, record.owner, record.media_id, claimed.run_id
        )
        started = time.monotonic()
        try:
            self.store.mark_claimed(event.bucket, key)
            limit = self.settings.max_bytes(record.kind)
            if event.size > limit:
                raise MediaRejected(
                    f"too large: {human_bytes(event.size)} exceeds the {record.kind.value} limit "
                    f"of {human_bytes(limit)}"
                )
            if event.size == 0:
                raise MediaRejected("empty file (0 bytes)")
            with tempfile.TemporaryDirectory(prefix="media-", dir=self.settings.work_dir) as workdir:
                result = work(
                    WorkContext(
                        record=claimed,
                        bucket=event.bucket,
                        key=key,
                        size=event.size,
                        store=self.store,
                        variants=writer,
                        workdir=Path(workdir),
                        remaining_seconds=remaining_seconds,
                    )
                )
        except MediaRejected as rejected:
            writer.discard()
            return self._fail(claimed, rejected.message)
        except Exception as err:
            writer.discard()
            if not attempt.is_last:
                logger.warning(
                    "processing attempt failed; will retry", media_id=record.media_id, attempt=attempt.number
                )
                raise
            logger.exception("processing failed on the last attempt", media_id=record.media_id)
            return self._fail(
                claimed,
                f"processing failed after {attempt.number} attempts: {type(err).__name__}: {err}"[:500],
            )
        original = claimed.original.model_copy(update={"sha256": result.sha256 or claimed.original.sha256})
        try:
            ready = self.repository.transition(
                claimed,
                Status.READY,
                changes={
                    "variants": result.variants,
                    "metadata": result.metadata,
                    "duplicate_of": result.duplicate_of,
                    "original": original,
                    "failure_reason": None,
                },
                extra_condition=_run_is(claimed.run_id),
            )
        except InvalidTransition:
            writer.discard()
            return Result(Outcome.SUPERSEDED, record.media_id, "record changed while processing")
        self._remove_previous_run(record, claimed.run_id)
        self._settled(ready, AuditAction.PROCESSED, DetailType.READY)
        elapsed = round((time.monotonic() - started) * 1000)
        logger.info("media ready", media_id=record.media_id, variants=len(result.variants), ms=elapsed)
        return Result(Outcome.READY, record.media_id)

    def _claim(self, record: MediaRecord, etag: str, attempt: Attempt) -> MediaRecord | None:
        """Move the record to `processing` for this object version, or None if that would be a
        duplicate. Retries (receive count > 1) may re-claim a record left `processing` by a
        failed attempt on the same version; a new version of a settled record is processed anew."""
        if record.status == Status.AWAITING_UPLOAD:
            expected, condition = [Status.AWAITING_UPLOAD], None
        elif record.status in (Status.READY, Status.FAILED) and record.reprocess_requested:
            # An explicit reprocess request (POST /media/{id}/reprocess): accepted once.
            expected, condition = [Status.READY, Status.FAILED], _reprocess_is(record.reprocess_requested)
        elif record.status == Status.PROCESSING and attempt.is_retry and record.original.etag == etag:
            expected, condition = [Status.PROCESSING], _etag_is(etag)
        elif record.status in (Status.READY, Status.FAILED) and record.original.etag != etag:
            expected, condition = [Status.READY, Status.FAILED], _etag_is_not(etag)
        else:
            return None
        run_id = uuid.uuid4().hex[:12]
        try:
            claimed = self.repository.transition(
                record,
                Status.PROCESSING,
                expected=expected,
                changes={
                    "original": record.original.model_copy(update={"etag": etag}),
                    "run_id": run_id,
                    "failure_reason": None,
                    "reprocess_requested": None,
                },
                extra_condition=condition,
            )
        except InvalidTransition:
            return None
        if record.status == Status.AWAITING_UPLOAD and self.audit is not None:
            self.audit.record(record.media_id, AuditAction.UPLOADED, record.owner, {"etag": etag})
        return claimed

    def _fail(self, record: MediaRecord, reason: str) -> Result:
        assert record.run_id is not None
        try:
            failed = self.repository.transition(
                record,
                Status.FAILED,
                changes={"failure_reason": reason, "variants": {}, "metadata": {}},
                extra_condition=_run_is(record.run_id),
            )
        except InvalidTransition:
            return Result(Outcome.SUPERSEDED, record.media_id, "record changed while processing")
        self._remove_previous_run(record, record.run_id)
        self._settled(failed, AuditAction.FAILED, DetailType.FAILED)
        logger.info("media failed", media_id=record.media_id, reason=reason)
        return Result(Outcome.FAILED, record.media_id, reason)

    def _remove_previous_run(self, before: MediaRecord, current_run: str) -> None:
        stale = [v.key for v in before.variants.values() if f"/{current_run}/" not in v.key]
        if stale:
            self.store.delete_keys(self.settings.media_bucket, stale)
