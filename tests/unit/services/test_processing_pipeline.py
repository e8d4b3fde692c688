"""ProcessingPipeline (processing/lifecycle.py) over the fakes: claim -> pin -> work -> finish,
with at-least-once delivery, replacements, rejections and crashes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from media_core.domain.audit import AuditAction
from media_core.domain.errors import MediaRejected
from media_core.domain.events import DetailType
from media_core.domain.guards import RecordGuard
from media_core.domain.keys import media_prefix, originals_prefix, pinned_original_key
from media_core.domain.models import MediaRecord, Moderation, Status
from media_core.domain.transitions import Transition
from media_core.processing.lifecycle import Outcome, ProcessingPipeline
from media_core.processing.objects import Attempt, ObjectCreated
from media_core.processing.work import WorkContext, WorkResult

from tests.unit.fakes import object_created
from tests.unit.services.conftest import ALICE, KIB, MEDIA, UPLOADS, World

FIRST = Attempt(1, 3)


@dataclass
class FakeProcessor:
    """A KindProcessor: reads the pinned original, writes two variants, reports its digest.
    `failures` are raised by the first calls, in order; `during` runs inside the first call."""

    failures: list[Exception] = field(default_factory=list)
    during: Callable[[WorkContext], None] | None = None
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    def __call__(self, context: WorkContext) -> WorkResult:
        data = context.read_original()
        self.seen.append((context.key, data))
        thumb = context.variants.put_bytes(
            "thumb", data[:16], content_type="image/webp", extension="webp", width=4, height=4
        )
        if self.during is not None:
            hook, self.during = self.during, None
            hook(context)
        if self.failures:
            raise self.failures.pop(0)
        large = context.variants.put_bytes("large", data, content_type="image/webp", extension="webp")
        return WorkResult(
            {"thumb": thumb, "large": large},
            {"bytes_seen": len(data), "duration": 2.0},
            sha256=hashlib.sha256(data).hexdigest(),
        )


def upload(world: World, record: MediaRecord, data: bytes) -> ObjectCreated:
    """The bytes arrive at the record's inbox key; S3 notifies."""
    world.store.seed(UPLOADS, record.original.key, data, content_type=record.original.content_type)
    info = world.store.head(UPLOADS, record.original.key)
    assert info is not None
    return object_created(UPLOADS, record.original.key, info)


def delivering_meanwhile(
    pipeline: ProcessingPipeline, event: ObjectCreated
) -> tuple[FakeProcessor, list[Outcome]]:
    """A processor that, while it runs, has `event` delivered to `pipeline` (a first delivery);
    the outcomes of those nested deliveries are collected."""
    outcomes: list[Outcome] = []
    processor = FakeProcessor(
        during=lambda _: outcomes.append(pipeline.handle(event, FIRST, FakeProcessor()).outcome)
    )
    return processor, outcomes


def ready_record(world: World, data: bytes, **fields: object) -> tuple[MediaRecord, ObjectCreated]:
    record = world.awaiting(size=len(data), **fields)
    event = upload(world, record, data)
    assert world.pipeline().handle(event, FIRST, FakeProcessor()).outcome == Outcome.READY
    return world.stored(record.media_id), event


def test_an_upload_is_claimed_pinned_processed_and_ready(world: World) -> None:
    # Given a record that declared 700 bytes, and its 700 bytes uploaded
    data = bytes(range(256)) * 2 + b"x" * 188
    record = world.awaiting(size=len(data))
    event = upload(world, record, data)
    processor = FakeProcessor()

    # When the processor handles the notification
    result = world.pipeline().handle(event, FIRST, processor)

    # Then the record is ready, with this run's variants and the pinned copy of the claimed version
    assert result.outcome == Outcome.READY
    ready = world.stored(record.media_id)
    assert ready.status == Status.READY
    assert ready.run_id is not None
    assert ready.original.size == 700, "the record carries the real size, not the declared one"
    assert ready.original.etag == event.etag
    assert ready.original.sha256 == hashlib.sha256(data).hexdigest()
    pinned = pinned_original_key(record.owner, record.media_id, event.etag, "png")
    assert ready.original.stored_key == pinned
    assert processor.seen == [(pinned, data)], "the work read the pinned copy only"
    assert world.store.read(UPLOADS, pinned) == data
    assert world.store.objects[(UPLOADS, pinned)].tags == {"media-state": "claimed"}
    assert world.store.head(UPLOADS, record.original.key) is None, "the inbox copy is removed"
    run_prefix = f"{media_prefix(record.owner, record.media_id)}{ready.run_id}/"
    assert sorted(v.key for v in ready.variants.values()) == world.store.keys(MEDIA)
    assert all(v.key.startswith(run_prefix) for v in ready.variants.values())
    assert world.store.read(MEDIA, ready.variants["large"].key) == data
    assert ready.metadata == {"bytes_seen": 700, "duration": 2}
    # and the counters, the audit trail and the event say so
    counters = world.records.counters("alice")
    assert counters.by_status[Status.READY] == 1 and counters.by_status[Status.AWAITING_UPLOAD] == 0
    assert counters.total_bytes == 700 + 16 + 700
    assert world.audit.actions(record.media_id) == [AuditAction.UPLOADED, AuditAction.PROCESSED]
    [announced] = world.events.of_type(DetailType.READY)
    assert announced["media_id"] == record.media_id
    assert announced["variant_keys"] == {n: v.key for n, v in ready.variants.items()}


def test_a_duplicate_event_changes_nothing_and_runs_no_second_time(world: World) -> None:
    # Given an upload processed once
    data = b"\x89PNG" + b"a" * 500
    record = world.awaiting(size=len(data))
    event = upload(world, record, data)
    processor = FakeProcessor()
    pipeline = world.pipeline()
    assert pipeline.handle(event, FIRST, processor).outcome == Outcome.READY
    before = world.stored(record.media_id)

    # When the same notification is delivered again (at least once)
    again = pipeline.handle(event, FIRST, processor)

    # Then it is a duplicate: no second run, no change, no second event
    assert again.outcome == Outcome.DUPLICATE
    assert len(processor.seen) == 1
    assert world.stored(record.media_id) == before
    assert len(world.events.of_type(DetailType.READY)) == 1


def test_a_duplicate_delivery_while_processing_is_not_a_second_run(world: World) -> None:
    # Given an upload whose first delivery is being processed
    record = world.awaiting(size=300)
    event = upload(world, record, b"b" * 300)
    pipeline = world.pipeline()
    processor, outcomes = delivering_meanwhile(pipeline, event)

    # When a duplicate of the message (not a retry) arrives meanwhile
    result = pipeline.handle(event, FIRST, processor)

    # Then the duplicate does nothing and the first run finishes
    assert outcomes == [Outcome.DUPLICATE]
    assert result.outcome == Outcome.READY


def test_a_new_version_uploaded_before_the_stale_event_is_pinned_supersedes_it(world: World) -> None:
    # Given an upload, reused (presigned POSTs can be replayed) before its first event is handled
    record = world.awaiting(size=240)
    stale = upload(world, record, b"version one " * 20)
    fresh = upload(world, record, b"version two " * 20)
    assert stale.etag != fresh.etag
    pipeline, processor = world.pipeline(), FakeProcessor()

    # When the stale event arrives first, then the new one
    first = pipeline.handle(stale, FIRST, processor)
    second = pipeline.handle(fresh, FIRST, processor)

    # Then the stale one is ignored (the inbox holds another version: it is never claimed) and the
    # new one processed
    assert first.outcome == Outcome.IGNORED
    assert world.audit.actions(record.media_id) == [AuditAction.UPLOADED, AuditAction.PROCESSED]
    assert second.outcome == Outcome.READY
    ready = world.stored(record.media_id)
    assert ready.original.etag == fresh.etag
    assert processor.seen == [(ready.original.stored_key, b"version two " * 20)]
    assert world.store.keys(UPLOADS) == [ready.original.stored_key]
    assert world.store.keys(MEDIA) == sorted(v.key for v in ready.variants.values())


def test_a_reused_upload_while_processing_supersedes_the_running_version(world: World) -> None:
    # Given an upload being processed, when the client uploads other bytes to the same key
    record = world.awaiting(size=360)
    first = upload(world, record, b"version one " * 30)
    pipeline = world.pipeline()
    nested: list[Outcome] = []

    def reupload(_: WorkContext) -> None:
        second = upload(world, record, b"version two " * 30)
        nested.append(pipeline.handle(second, FIRST, FakeProcessor()).outcome)

    # When the first run finishes after the second version's event was handled
    result = pipeline.handle(first, FIRST, FakeProcessor(during=reupload))

    # Then the stale run is superseded and leaves nothing; the new version is the record's
    assert nested == [Outcome.READY]
    assert result.outcome == Outcome.SUPERSEDED
    ready = world.stored(record.media_id)
    assert ready.status == Status.READY
    assert world.store.read(UPLOADS, ready.original.stored_key or "") == b"version two " * 30
    assert world.store.keys(MEDIA) == sorted(v.key for v in ready.variants.values())
    assert all(f"/{ready.run_id}/" in key for key in world.store.keys(MEDIA))
    assert world.audit.actions(record.media_id) == [
        AuditAction.UPLOADED,
        AuditAction.REPLACED,
        AuditAction.PROCESSED,
    ]


def test_a_stale_event_of_a_replaced_version_leaves_the_ready_record_alone(world: World) -> None:
    # Given a reused upload whose second version's event was handled first: ready and approved
    record = world.awaiting(size=240)
    stale = upload(world, record, b"version one " * 20)
    fresh = upload(world, record, b"version two " * 20)
    pipeline = world.pipeline()
    assert pipeline.handle(fresh, FIRST, FakeProcessor()).outcome == Outcome.READY
    ready = world.records.update(
        world.stored(record.media_id), {"moderation": Moderation.APPROVED, "moderation_reason": "ok"}
    )

    # When the first version's event arrives late (neither the inbox nor the originals hold it)
    result = pipeline.handle(stale, FIRST, FakeProcessor())

    # Then it is ignored: the record is not claimed for a version that cannot be read
    assert result.outcome == Outcome.IGNORED
    assert "stale event" in result.detail
    assert world.stored(record.media_id) == ready
    assert world.audit.actions(record.media_id) == [AuditAction.UPLOADED, AuditAction.PROCESSED]


def test_a_stale_event_arriving_while_the_newer_version_is_processed_does_not_take_the_run(
    world: World,
) -> None:
    # Given the second version of a reused upload being processed
    record = world.awaiting(size=240)
    stale = upload(world, record, b"version one " * 20)
    fresh = upload(world, record, b"version two " * 20)
    pipeline = world.pipeline()
    processor, nested = delivering_meanwhile(pipeline, stale)

    # When the first version's event arrives meanwhile
    result = pipeline.handle(fresh, FIRST, processor)

    # Then the run of the version S3 holds finishes, and the record is ready with it
    assert nested == [Outcome.IGNORED]
    assert result.outcome == Outcome.READY
    ready = world.stored(record.media_id)
    assert ready.status == Status.READY and ready.original.etag == fresh.etag
    assert world.store.read(UPLOADS, ready.original.stored_key or "") == b"version two " * 20


def test_replacing_ready_approved_media_sends_it_back_to_moderation(world: World) -> None:
    # Given ready, approved media
    record, first = ready_record(world, b"approved bytes " * 10)
    record = world.records.update(record, {"moderation": Moderation.APPROVED, "moderation_reason": "ok"})
    old_variants = sorted(v.key for v in record.variants.values())
    old_pinned = record.original.stored_key
    # ... and a rendition the Transform function stored under its run (media/{owner}/{id}/{run}/t/)
    rendition = f"{media_prefix(record.owner, record.media_id)}{record.run_id}/t/{'0' * 32}.webp"
    world.store.seed(MEDIA, rendition, b"RIFF old rendition")

    # When new bytes are uploaded to its key and processed
    fresh = upload(world, record, b"replaced bytes " * 10)
    result = world.pipeline().handle(fresh, FIRST, FakeProcessor())

    # Then it is processed anew, pending moderation again, and the replacement is audited
    assert result.outcome == Outcome.READY
    replaced = world.stored(record.media_id)
    assert replaced.moderation == Moderation.PENDING and replaced.moderation_reason is None
    assert replaced.original.etag == fresh.etag
    entries = world.audit.entries(record.media_id)
    [replacement] = [e for e in entries if e.action == AuditAction.REPLACED]
    assert replacement.details == {"etag": fresh.etag, "previous_etag": first.etag, "moderation": "pending"}
    # and the previous run's variants, stored renditions and pinned copy are removed
    assert not set(old_variants) & set(world.store.keys(MEDIA))
    assert world.store.head(MEDIA, rendition) is None
    assert world.store.keys(MEDIA) == sorted(v.key for v in replaced.variants.values())
    assert world.store.head(UPLOADS, old_pinned or "") is None
    assert world.store.keys(UPLOADS, originals_prefix(record.owner, record.media_id)) == [
        replaced.original.stored_key
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"z" * (2 * KIB), "too large: 2.0 KB exceeds the image limit of 1.0 KB"),
        (b"", "empty file (0 bytes)"),
        # within the limit but not the 1000 bytes declared (an S3 that did not hold the POST to
        # its exact size, or a writer other than the policy's)
        (b"z" * 1001, "size mismatch: 1,001 bytes uploaded where 1,000 were declared"),
        (b"z" * 999, "size mismatch: 999 bytes uploaded where 1,000 were declared"),
    ],
)
def test_an_oversize_empty_or_mis_sized_object_is_deleted_first_and_the_record_failed(
    world: World, data: bytes, reason: str
) -> None:
    # Given an object above the kind's limit, empty or of another size than the record declared
    # (1000 bytes), at a record's inbox key
    record = world.awaiting(size=1000)
    event = upload(world, record, data)
    processor = FakeProcessor()

    # When it is handled
    result = world.pipeline(max_image_bytes=KIB).handle(event, FIRST, processor)

    # Then the object is deleted before the record is even claimed, and the record fails with the reason
    assert result.outcome == Outcome.FAILED
    deleted = world.journal.index("store", "delete", f"{UPLOADS}/{record.original.key}")
    claimed = world.journal.index("records", "transition", f"{record.media_id} processing")
    assert deleted < claimed
    assert world.store.keys(UPLOADS) == []
    failed = world.stored(record.media_id)
    assert failed.status == Status.FAILED
    assert failed.failure_reason == reason
    assert processor.seen == []
    [announced] = world.events.of_type(DetailType.FAILED)
    assert announced["failure_reason"] == reason


def test_a_crash_is_retried_then_fails_on_the_last_attempt_without_the_signature(world: World) -> None:
    # Given a processor that crashes with a message quoting a presigned URL of the original
    record = world.awaiting(size=400)
    event = upload(world, record, b"c" * 400)
    pipeline = world.pipeline(max_receive_count=3)

    def crash(context: WorkContext) -> None:
        raise RuntimeError(f"ffmpeg could not read {context.original_url()}: connection reset")

    processors = [FakeProcessor(during=crash) for _ in range(3)]

    # When the first two attempts raise (the message is retried) ...
    for number in (1, 2):
        with pytest.raises(RuntimeError, match="connection reset"):
            pipeline.handle(event, Attempt(number, 3), processors[number - 1])
        assert world.stored(record.media_id).status == Status.PROCESSING
        assert world.store.keys(MEDIA) == [], "a failed attempt leaves no variants"

    # ... and the last one fails too
    result = pipeline.handle(event, Attempt(3, 3), processors[2])

    # Then the record is failed with a reason that names the error but not the URL's credentials
    assert result.outcome == Outcome.FAILED
    failed = world.stored(record.media_id)
    assert failed.status == Status.FAILED
    reason = failed.failure_reason or ""
    assert reason.startswith(
        "processing failed after 3 attempts: RuntimeError: ffmpeg could not read https://"
    )
    assert "?<signature removed>" in reason
    assert "X-Amz-Signature" not in reason and "X-Amz-Expires" not in reason
    assert all(p.seen for p in processors), "each attempt re-claimed the record and ran"
    assert world.store.keys(MEDIA) == []
    assert [e.details for e in world.audit.entries(record.media_id) if e.action == AuditAction.FAILED] == [
        {"reason": reason}
    ]


@pytest.mark.parametrize("retry_fails", [False, True], ids=["retry-ready", "retry-rejected"])
def test_what_a_killed_attempt_wrote_is_removed_by_the_retry_however_it_ends(
    world: World, retry_fails: bool
) -> None:
    # Given an attempt killed mid-run (a Lambda timeout: no except clause ran), its variants left
    # under its run's prefix and the record still `processing` for that run
    record = world.awaiting(size=300)
    event = upload(world, record, b"k" * 300)

    def killed(context: WorkContext) -> None:
        raise SystemExit("killed")  # not an Exception: the pipeline's handlers do not see it

    with pytest.raises(SystemExit):
        world.pipeline().handle(event, FIRST, FakeProcessor(during=killed))
    killed_run = world.stored(record.media_id).run_id
    left = [k for k in world.store.keys(MEDIA) if f"/{killed_run}/" in k]
    assert left, "the killed attempt's variant is there"

    # When the retry settles the record, ready or failed
    retry = FakeProcessor(failures=[MediaRejected("not a PNG image")] if retry_fails else [])
    outcome = world.pipeline().handle(event, Attempt(2, 3), retry).outcome

    # Then nothing of the killed run is left
    assert outcome == (Outcome.FAILED if retry_fails else Outcome.READY)
    assert [k for k in world.store.keys(MEDIA) if f"/{killed_run}/" in k] == []
    if retry_fails:
        assert world.store.keys(MEDIA) == []


def test_a_step_failing_after_the_ready_write_keeps_neither_the_others_nor_the_message_back(
    world: World,
) -> None:
    # Given ready media replaced by new bytes, and S3 failing to remove the old run's objects
    record, _ = ready_record(world, b"first bytes " * 10)
    old_run = record.run_id
    fresh = upload(world, record, b"other bytes " * 10)
    world.store.faults.fail("delete_prefix")
    reconciled: list[str] = []
    pipeline = world.pipeline()
    pipeline.on_settled = lambda settled: reconciled.append(settled.media_id)

    # When the replacement is processed
    result = pipeline.handle(fresh, FIRST, FakeProcessor())

    # Then it is ready and the message is done with (a retry would be a duplicate and redo
    # nothing); the steps after the failed one still ran: the audit entry, the publication
    assert result.outcome == Outcome.READY
    assert [e.action for e in world.audit.entries(record.media_id)][-1] == AuditAction.PROCESSED
    assert reconciled == [record.media_id]
    # and the old run's objects are what is left over (logged; nothing sweeps them yet)
    assert any(f"/{old_run}/" in k for k in world.store.keys(MEDIA))


def test_a_retried_delivery_of_a_settled_version_reconciles_the_publication_again(world: World) -> None:
    # Given a delivery that settled the record ready but whose publication step failed (or that
    # died before it)
    record = world.awaiting(size=120)
    event = upload(world, record, b"p" * 120)
    calls: list[str] = []

    def reconcile(settled: MediaRecord) -> None:
        calls.append(settled.status.value)
        if len(calls) == 1:
            raise RuntimeError("CloudFront unreachable")

    pipeline = world.pipeline()
    pipeline.on_settled = reconcile
    assert pipeline.handle(event, FIRST, FakeProcessor()).outcome == Outcome.READY
    # When SQS delivers the message again (a retry), Then it is a duplicate that reconciles again
    assert pipeline.handle(event, Attempt(2, 3), FakeProcessor()).outcome == Outcome.DUPLICATE
    assert calls == ["ready", "ready"]
    # while a duplicate S3 event (first delivery of another message) does not
    assert pipeline.handle(event, FIRST, FakeProcessor()).outcome == Outcome.DUPLICATE
    assert calls == ["ready", "ready"]


@pytest.mark.parametrize("rejected", [False, True], ids=["ready", "failed"])
def test_the_audit_entries_are_written_with_the_claim_and_the_settling_write(
    world: World, rejected: bool
) -> None:
    # Given an audit trail whose separate writes all fail (as a write after the change could)
    world.audit.faults.fail("record", times=10)
    record = world.awaiting(size=100)
    event = upload(world, record, b"a" * 100)
    processor = FakeProcessor(failures=[MediaRejected("not a PNG image")] if rejected else [])

    # When the upload is processed
    outcome = world.pipeline().handle(event, FIRST, processor).outcome

    # Then the entries are there all the same: each went with its record write
    assert outcome == (Outcome.FAILED if rejected else Outcome.READY)
    entries = world.audit.entries(record.media_id)
    settled = AuditAction.FAILED if rejected else AuditAction.PROCESSED
    assert [e.action for e in entries] == [AuditAction.UPLOADED, settled]
    assert entries[1].actor == "system:image-processor"
    assert entries[1].details == (
        {"reason": "not a PNG image"} if rejected else {"variants": ["large", "thumb"]}
    )


def test_a_file_failed_after_it_was_pinned_keeps_its_original_and_can_be_reprocessed(world: World) -> None:
    # Given a replacement of ready media whose new bytes the processor rejects (after the pin)
    ready, _ = ready_record(world, b"good bytes---- " * 10)
    fresh = upload(world, ready, b"rejected bytes " * 10)
    rejecting = FakeProcessor(failures=[MediaRejected("not a PNG image")])
    assert world.pipeline().handle(fresh, FIRST, rejecting).outcome == Outcome.FAILED

    # Then the failed record names the pinned copy of the version it failed on, which is kept,
    # and the copy of the version it replaced is removed
    failed = world.stored(ready.media_id)
    pinned = pinned_original_key(ready.owner, ready.media_id, fresh.etag, "png")
    assert failed.original.stored_key == pinned
    assert world.store.read(UPLOADS, pinned) == b"rejected bytes " * 10
    assert world.store.keys(UPLOADS) == [pinned]

    # and when its owner asks for it to be reprocessed, the run reads that copy
    world.management().reprocess(ALICE, ready.media_id)
    [sent] = world.queue.sent
    processor = FakeProcessor()
    assert world.pipeline().handle(sent.as_event(), FIRST, processor).outcome == Outcome.READY
    assert processor.seen == [(pinned, b"rejected bytes " * 10)]


def test_a_rejected_file_fails_at_once_without_retry(world: World) -> None:
    # Given a processor that rejects the bytes
    record = world.awaiting(size=12)
    event = upload(world, record, b"not an image")

    # When the first attempt handles it
    result = world.pipeline().handle(event, FIRST, FakeProcessor(failures=[MediaRejected("not a PNG image")]))

    # Then the record fails with the message and nothing it wrote remains
    assert result.outcome == Outcome.FAILED
    assert world.stored(record.media_id).failure_reason == "not a PNG image"
    assert world.store.keys(MEDIA) == []


def test_an_event_for_an_unknown_or_foreign_key_is_ignored(world: World) -> None:
    # Given an object with no record, and an object outside the upload scheme
    record = world.awaiting()
    other_owner_key = record.original.key.replace("/alice/", "/mallory/")
    events = [
        ObjectCreated(UPLOADS, other_owner_key, 10, "e1"),
        ObjectCreated(UPLOADS, "uploads/image/alice/not-an-id/original.png", 10, "e2"),
    ]

    # When they are handled, Then nothing happens to the record
    for event in events:
        assert world.pipeline().handle(event, FIRST, FakeProcessor()).outcome == Outcome.IGNORED
    assert world.stored(record.media_id).status == Status.AWAITING_UPLOAD


def test_media_deleted_while_processing_leaves_nothing_and_is_not_announced_ready(world: World) -> None:
    # Given an upload being processed, when its owner deletes it mid-run
    record = world.awaiting(size=300)
    event = upload(world, record, b"d" * 300)
    deleted: list[str] = []

    def delete(_: WorkContext) -> None:
        world.deleter().delete(world.stored(record.media_id), "alice")
        deleted.append(record.media_id)

    # When the run finishes
    result = world.pipeline().handle(event, FIRST, FakeProcessor(during=delete))

    # Then it is superseded: no object of it remains, and only the deletion was announced
    assert deleted == [record.media_id]
    assert result.outcome == Outcome.SUPERSEDED
    assert world.stored(record.media_id).status == Status.DELETED
    assert world.store.keys(UPLOADS) == [] and world.store.keys(MEDIA) == []
    assert [t for t, _ in world.events.published] == [DetailType.DELETED]


def test_a_workflow_step_that_read_the_record_before_the_hand_off_keeps_what_the_hand_off_wrote(
    world: World,
) -> None:
    # Given a run handed to a workflow whose first step read the record before the hand-off wrote
    # its execution and the pinned copy it replaces (the execution starts before that write)
    record = world.awaiting()
    claimed = world.with_status(record, Status.PROCESSING, run_id="run-1")
    handed_off = {"transcode": {"mode": "parallel", "execution_arn": "arn:exec", "previous_original": "old"}}
    world.records.transition(
        claimed,
        Transition(Status.PROCESSING, changes={"metadata": handed_off}, guard=RecordGuard(run_id="run-1")),
    )

    # When that step records its plan from its stale copy
    world.pipeline().update_run(claimed, {"segments": 3, "fan_out": "inline"})

    # Then the record holds both: nothing the hand-off wrote was written over
    assert world.stored(record.media_id).metadata["transcode"] == {
        "mode": "parallel",
        "execution_arn": "arn:exec",
        "previous_original": "old",
        "segments": 3,
        "fan_out": "inline",
    }
