"""The processing lifecycle every processor shares: claim -> pin -> re-check -> work -> finish.

Delivery is at least once, so every step is conditional: the claim is a conditional status
transition keyed on the object's ETag, and finishing is conditional on still owning the run.
A duplicate event changes nothing; a failed run leaves no variants behind; no path leaves a
record in `processing` once the last attempt is spent.

Integrity: the claimed version is copied (if its ETag still matches) to a pinned key under
`originals/` that no upload policy can write; the work reads only that copy, and downloads serve
only it. A later upload to the inbox key is a new version: processed anew as a replacement, with
moderation back to pending, never silently mixed with the record of the previous one.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from media_core.domain.audit import AuditAction, AuditNote
from media_core.domain.errors import InvalidTransition, MediaRejected, redact
from media_core.domain.events import Announce, Announcement, DetailType, event_detail
from media_core.domain.guards import RecordGuard
from media_core.domain.keys import media_prefix, parse_upload_key, pinned_original_key
from media_core.domain.models import MediaRecord, Moderation, Original, Status
from media_core.domain.transfers import StorageError
from media_core.domain.transitions import Transition
from media_core.domain.units import human_bytes
from media_core.observability import metrics_for
from media_core.ports import AuditTrail, MediaRecords, ObjectStorage, OutboxFlush
from media_core.processing.objects import Attempt, ObjectCreated
from media_core.processing.variants import VariantWriter
from media_core.processing.work import KindProcessor, WorkContext, WorkResult
from media_core.settings import ProcessorSettings

logger = Logger(child=True)
# Versioned writes of a run's progress, each after a fresh read: concurrent writers of a processing
# record are its run's own (the hand-off, the workflow's steps), so a few attempts always suffice.
UPDATE_RUN_ATTEMPTS = 5


class Outcome(StrEnum):
    READY = "ready"
    FAILED = "failed"
    DUPLICATE = "duplicate"  # this version of the object is (being) processed already
    IGNORED = "ignored"  # not an upload of ours, or its record is gone
    SUPERSEDED = "superseded"  # the record moved on while we worked (deleted, re-claimed, replaced)
    HANDED_OFF = "handed_off"  # a workflow (the segment-parallel transcode) settles the record later


class _NoRelay:
    def flush(self) -> None:
        return None


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    media_id: str | None = None
    detail: str = ""


@dataclass
class ProcessingPipeline:
    repository: MediaRecords
    store: ObjectStorage
    settings: ProcessorSettings
    relay: OutboxFlush = field(default_factory=_NoRelay)
    audit: AuditTrail | None = None
    # Called with every record this pipeline settles (ready or failed): the publication of
    # public media (services.publication.Publication.reconcile, wired in media_core.wiring).
    on_settled: Callable[[MediaRecord], object] | None = None

    def _announce(self, detail_type: DetailType) -> Announce:
        """The event a settling write puts in the outbox, in the same transaction."""
        settings = self.settings
        return lambda record: Announcement(
            detail_type, event_detail(record, settings.uploads_bucket, settings.media_bucket)
        )

    def _settled(self, record: MediaRecord, *before: tuple[str, Callable[[], object]]) -> None:
        """After the settling write (which wrote the audit entry with it): `before` (the previous
        run's objects removed, the result indexed), the outbox relayed to the bus, the publication
        reconciled.

        Each step on its own: the record stands whatever fails here, and a retry of the message
        would find it settled (a duplicate), so a step that fails is logged, not raised, and never
        keeps the steps after it from running. The outbox is relayed again by its schedule, and a
        retried delivery reconciles the publication again (`_after_redelivery`)."""
        _run_steps([*before, *self._repeatable_steps(record)], record.media_id)

    def _repeatable_steps(self, record: MediaRecord) -> list[tuple[str, Callable[[], object]]]:
        """The steps after settling that may run again at any time with the same effect."""
        steps: list[tuple[str, Callable[[], object]]] = [("relay the outbox", self.relay.flush)]
        if self.on_settled is not None:
            on_settled = self.on_settled
            steps.append(("reconcile the publication", lambda: on_settled(record)))
        return steps

    def _note(self, record: MediaRecord, action: AuditAction, details: dict[str, Any]) -> AuditNote | None:
        """The processor's audit entry for a settling write (none without an audit trail)."""
        if self.audit is None:
            return None
        return AuditNote(action, f"system:{record.kind.value}-processor", details)

    def _after_redelivery(self, record: MediaRecord) -> None:
        """A retried delivery of a version already settled: the delivery that settled it may have
        died before the steps after its write. Redo the repeatable ones."""
        _run_steps(self._repeatable_steps(record), record.media_id)

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
        if record.original.etag != event.etag and not self._readable(record, event):
            # A late event of a version since overwritten (a replayed POST): claiming it would
            # take the record from the version S3 holds and leave it `processing` for bytes gone.
            return Result(
                Outcome.IGNORED,
                record.media_id,
                f"stale event: neither the inbox nor the originals hold version {event.etag}",
            )
        rejection = self._size_rejection(record, event)
        if rejection is not None:
            # Before anything else: an oversize or empty object is not kept, nor ever served.
            self.store.delete_keys(event.bucket, [key])
        claimed = self._claim(record, event.etag, attempt)
        if claimed is None:
            if attempt.is_retry and record.status in (Status.READY, Status.FAILED):
                self._after_redelivery(record)
            return Result(
                Outcome.DUPLICATE, record.media_id, f"already {record.status.value} for this version"
            )
        assert claimed.run_id is not None
        if rejection is not None:
            return self._fail(claimed, rejection, before=record)
        writer = VariantWriter(
            self.store, self.settings.media_bucket, record.owner, record.media_id, claimed.run_id
        )
        started = time.monotonic()
        try:
            pinned = self._pin(claimed, event)
            if pinned is None:
                return Result(Outcome.SUPERSEDED, record.media_id, "a newer version replaced this one")
            claimed = claimed.model_copy(update={"original": pinned})
            assert pinned.stored_key is not None
            with tempfile.TemporaryDirectory(prefix="media-", dir=self.settings.work_dir) as workdir:
                result = work(
                    WorkContext(
                        record=claimed,
                        bucket=event.bucket,
                        key=pinned.stored_key,
                        size=pinned.size,
                        store=self.store,
                        variants=writer,
                        workdir=Path(workdir),
                        remaining_seconds=remaining_seconds,
                    )
                )
        except MediaRejected as rejected:
            writer.discard()
            return self._fail(claimed, rejected.message, before=record)
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
                redact(f"processing failed after {attempt.number} attempts: {type(err).__name__}: {err}")[
                    :500
                ],
                before=record,
            )
        if result.handoff is not None:
            return self._hand_off(record, claimed, result, writer)
        return self.finish(claimed, result, writer, started, before=record)

    def _hand_off(
        self, before: MediaRecord, claimed: MediaRecord, result: WorkResult, writer: VariantWriter
    ) -> Result:
        """The work continues elsewhere (a Step Functions execution named by the run id): the record
        stays `processing` with the pinned original and the hand-off metadata, still owned by the run.
        The pinned copy of the version it replaces is noted (`transcode.previous_original`): the
        workflow's finish removes it, as this finish would."""
        metadata = dict(result.metadata)
        transcode = dict(metadata.get("transcode") or {})
        transcode["previous_original"] = before.original.stored_key
        metadata["transcode"] = transcode
        try:
            self.repository.transition(
                claimed,
                Transition(
                    Status.PROCESSING,
                    changes={"metadata": metadata, "original": claimed.original},
                    guard=RecordGuard(run_id=claimed.run_id),
                ),
            )
        except InvalidTransition:
            writer.discard()
            return Result(Outcome.SUPERSEDED, claimed.media_id, "record changed while processing")
        logger.info("handed off", media_id=claimed.media_id, run_id=claimed.run_id, to=result.handoff)
        return Result(Outcome.HANDED_OFF, claimed.media_id, str(result.handoff))

    def update_run(self, claimed: MediaRecord, transcode: Mapping[str, object]) -> MediaRecord:
        """Record progress (a workflow's plan) in `metadata.transcode` of a record still
        `processing` for its run. The write is conditional on the version read, and on a conflict
        the record is read again and merged into: a step that read the record before the hand-off
        wrote the execution and the replaced pinned copy (the execution starts first) must not
        write its stale copy back over them."""
        record = claimed
        for _ in range(UPDATE_RUN_ATTEMPTS):
            current = dict(record.metadata.get("transcode") or {})
            metadata = {**record.metadata, "transcode": {**current, **transcode}}
            guard = RecordGuard(run_id=claimed.run_id, version=record.version)
            try:
                return self.repository.transition(
                    record, Transition(Status.PROCESSING, changes={"metadata": metadata}, guard=guard)
                )
            except InvalidTransition:
                fresh = self.current_run(claimed.media_id, str(claimed.run_id))
                if fresh is None:
                    raise
                record = fresh
        raise InvalidTransition(f"media {claimed.media_id} kept changing while its run was recorded")

    def current_run(self, media_id: str, run_id: str) -> MediaRecord | None:
        """The record if it is still `processing` for `run_id` (a workflow step checks it owns the run)."""
        record = self.repository.get(media_id)
        if record is None or record.status != Status.PROCESSING or record.run_id != run_id:
            return None
        return record

    def finish(
        self,
        claimed: MediaRecord,
        result: WorkResult,
        writer: VariantWriter | None = None,
        started: float | None = None,
        *,
        before: MediaRecord | None = None,
    ) -> Result:
        """Settle a run `ready` (conditional on still owning it): the one finish every path uses.
        `before`: the record as it was before the claim (its variants and pinned original are
        removed if this run no longer serves them). Superseded: the run's objects are removed."""
        assert claimed.run_id is not None
        before = before or claimed
        original = claimed.original.model_copy(update={"sha256": result.sha256 or claimed.original.sha256})
        try:
            ready = self.repository.transition(
                claimed,
                Transition(
                    Status.READY,
                    changes={
                        "variants": result.variants,
                        "metadata": result.metadata,
                        "duplicate_of": result.duplicate_of,
                        "original": original,
                        "failure_reason": None,
                    },
                    guard=RecordGuard(run_id=claimed.run_id),
                    announce=self._announce(DetailType.READY),
                    audit=self._note(claimed, AuditAction.PROCESSED, {"variants": sorted(result.variants)}),
                ),
            )
        except InvalidTransition:
            self._discard_run(claimed, writer)
            return Result(Outcome.SUPERSEDED, claimed.media_id, "record changed while processing")
        self._settled(
            ready,
            ("remove the previous run", lambda: self._remove_previous_run(before, ready)),
            ("index the result", result.on_ready or (lambda: None)),
        )
        elapsed = round((time.monotonic() - (started if started is not None else time.monotonic())) * 1000)
        metrics = metrics_for(claimed.kind)
        metrics.ready(
            elapsed, bytes_in=original.size, bytes_out=sum(v.bytes for v in result.variants.values())
        )
        logger.info("media ready", media_id=claimed.media_id, variants=len(result.variants), ms=elapsed)
        return Result(Outcome.READY, claimed.media_id)

    def fail_run(self, claimed: MediaRecord, reason: str, *, before: MediaRecord | None = None) -> Result:
        """Settle a run `failed` with `reason` and remove everything it wrote (its whole prefix)."""
        self._discard_run(claimed, None)
        return self._fail(claimed, reason, before=before)

    def _discard_run(self, claimed: MediaRecord, writer: VariantWriter | None) -> None:
        if writer is not None:
            writer.discard()
        if claimed.run_id:
            prefix = f"{media_prefix(claimed.owner, claimed.media_id)}{claimed.run_id}/"
            self.store.delete_prefix(self.settings.media_bucket, prefix)

    def _size_rejection(self, record: MediaRecord, event: ObjectCreated) -> str | None:
        limit = self.settings.max_bytes(record.kind)
        if event.size > limit:
            return (
                f"too large: {human_bytes(event.size)} exceeds the {record.kind.value} limit "
                f"of {human_bytes(limit)}"
            )
        if event.size == 0:
            return "empty file (0 bytes)"
        declared = record.original.size
        if event.size != declared:
            # S3 refuses this under the POST policy and the signed part sizes; an object that got
            # past them (another writer, a store that does not check) is not what was paid for.
            return f"size mismatch: {event.size:,} bytes uploaded where {declared:,} were declared"
        return None

    @staticmethod
    def _pinned_key(record: MediaRecord, etag: str) -> str:
        extension = record.original.key.rsplit(".", 1)[-1]
        return pinned_original_key(record.owner, record.media_id, etag, extension)

    def _readable(self, record: MediaRecord, event: ObjectCreated) -> bool:
        """The event's version is still somewhere: at the inbox key, or pinned by an earlier attempt."""
        inbox = self.store.head(event.bucket, record.original.key)
        if inbox is not None and inbox.etag == event.etag:
            return True
        return self.store.head(event.bucket, self._pinned_key(record, event.etag)) is not None

    def _pin(self, claimed: MediaRecord, event: ObjectCreated) -> Original | None:
        """The claimed version, copied to its pinned key (or the copy made by an earlier attempt or
        run for this very version). None: the inbox holds another version now (its own event
        re-claims the record)."""
        pinned_key = self._pinned_key(claimed, event.etag)
        existing = self.store.head(event.bucket, pinned_key)
        if existing is None:
            try:
                existing = self.store.copy(
                    event.bucket, claimed.original.key, pinned_key, if_match=event.etag
                )
            except StorageError as err:
                if err.code in ("PreconditionFailed", "NoSuchKey", "404"):
                    logger.info("claimed version is gone from the inbox", media_id=claimed.media_id)
                    return None
                raise
            # The inbox copy is no longer needed; a later upload to it is a new version.
            self.store.delete_keys(event.bucket, [claimed.original.key])
        return claimed.original.model_copy(update={"stored_key": pinned_key, "size": existing.size})

    def _claim(self, record: MediaRecord, etag: str, attempt: Attempt) -> MediaRecord | None:
        """Move the record to `processing` for this object version, or None if that would be a
        duplicate. A retry (receive count > 1) re-claims a record left `processing` by a failed
        attempt on the same version; a new version of the object (a replacement, even one that
        arrives while the previous version is processing) is claimed anew and moderated anew."""
        changes: dict[str, object] = {}
        replacement = False
        if record.status == Status.AWAITING_UPLOAD:
            expected, guard = [Status.AWAITING_UPLOAD], None
        elif record.status in (Status.READY, Status.FAILED) and record.reprocess_requested:
            # An explicit reprocess request (POST /media/{id}/reprocess): accepted once.
            expected = [Status.READY, Status.FAILED]
            guard = RecordGuard(reprocess_token=record.reprocess_requested)
        elif record.status == Status.PROCESSING and record.original.etag == etag:
            if not attempt.is_retry:
                return None
            expected, guard = [Status.PROCESSING], RecordGuard(etag=etag)
        elif (
            record.status in (Status.READY, Status.FAILED, Status.PROCESSING) and record.original.etag != etag
        ):
            expected, guard = [record.status], RecordGuard(etag_not=etag)
            replacement = True
            changes["moderation"] = Moderation.PENDING
            changes["moderation_reason"] = None
        else:
            return None
        note = None
        if self.audit is not None and record.status == Status.AWAITING_UPLOAD:
            note = AuditNote(AuditAction.UPLOADED, record.owner, {"etag": etag})
        elif self.audit is not None and replacement:
            details = {"etag": etag, "previous_etag": record.original.etag, "moderation": "pending"}
            note = AuditNote(AuditAction.REPLACED, record.owner, details)
        run_id = uuid.uuid4().hex[:12]
        original = record.original.model_copy(update={"etag": etag, "stored_key": None})
        try:
            claimed = self.repository.transition(
                record,
                Transition(
                    Status.PROCESSING,
                    expected=expected,
                    changes={
                        "original": original,
                        "run_id": run_id,
                        "claim_attempt": attempt.number,
                        "failure_reason": None,
                        "reprocess_requested": None,
                        **changes,
                    },
                    guard=guard,
                    audit=note,
                ),
            )
        except InvalidTransition:
            return None
        return claimed

    def _fail(self, record: MediaRecord, reason: str, *, before: MediaRecord | None = None) -> Result:
        """Settle `record` (the run's claim) failed. The record keeps the pinned copy of the version
        it failed on (a reprocess reads it); `before`: the record before the claim, whose run's
        objects and pinned copy go as a ready finish's would."""
        assert record.run_id is not None
        try:
            failed = self.repository.transition(
                record,
                Transition(
                    Status.FAILED,
                    changes={
                        "failure_reason": reason,
                        "variants": {},
                        "metadata": {},
                        "original": record.original,
                    },
                    guard=RecordGuard(run_id=record.run_id),
                    announce=self._announce(DetailType.FAILED),
                    audit=self._note(record, AuditAction.FAILED, {"reason": reason}),
                ),
            )
        except InvalidTransition:
            return Result(Outcome.SUPERSEDED, record.media_id, "record changed while processing")
        metrics_for(record.kind).failed()
        self._settled(
            failed,
            ("remove the previous run", lambda: self._remove_previous_run(before or record, failed)),
        )
        logger.info("media failed", media_id=record.media_id, reason=reason)
        return Result(Outcome.FAILED, record.media_id, reason)

    def _remove_previous_run(self, before: MediaRecord, settled: MediaRecord) -> None:
        """Earlier runs' prefixes (their variants and the renditions the Transform function stored
        there), and pinned copies of versions this record no longer serves."""
        current_run = settled.run_id or ""
        stale = [v.key for v in before.variants.values() if f"/{current_run}/" not in v.key]
        prefix = media_prefix(before.owner, before.media_id)
        runs = {key[len(prefix) :].split("/", 1)[0] for key in stale if key.startswith(prefix)}
        runs |= {before.run_id} if before.run_id else set()
        for run in sorted(runs - {current_run, ""}):
            self.store.delete_prefix(self.settings.media_bucket, f"{prefix}{run}/")
        outside = [key for key in stale if not key.startswith(prefix)]
        if outside:
            self.store.delete_keys(self.settings.media_bucket, outside)
        previous = before.original.stored_key
        if previous and previous != settled.original.stored_key:
            self.store.delete_keys(self.settings.uploads_bucket, [previous])


def _run_steps(steps: list[tuple[str, Callable[[], object]]], media_id: str) -> None:
    for name, step in steps:
        try:
            step()
        except Exception:
            logger.exception("a step after settling failed; the record stands", step=name, media_id=media_id)
