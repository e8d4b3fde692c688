"""MediaDeleter's resumable deletes, the Cleanup job and the Reaper, over the fakes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from media_core.domain.audit import AuditAction
from media_core.domain.events import DetailType
from media_core.domain.keys import media_prefix
from media_core.domain.models import Kind, MediaRecord, Status, utc_now
from media_core.domain.transitions import Transition

from tests.unit.fakes import FakeWorkflowRuns
from tests.unit.services.conftest import ALICE, MEDIA, UPLOADS, World
from tests.unit.services.test_management import processed

STUCK_AFTER = {
    Kind.IMAGE: timedelta(minutes=8),
    Kind.DOCUMENT: timedelta(minutes=8),
    Kind.VIDEO: timedelta(minutes=110),
    Kind.AUDIO: timedelta(minutes=110),
}


# ------------------------------------------------------------------ resumable deletes
def test_a_failing_object_delete_leaves_a_pending_tombstone_and_no_event(world: World) -> None:
    # Given ready media, and an S3 that fails to delete the variants once
    ready = processed(world)
    world.store.faults.fail("delete_prefix", times=1)

    # When alice deletes it
    world.management().delete(ALICE, ready.media_id)  # accepted: the purge is left to the cleanup job

    # Then the record is a tombstone still pending its purge: out of the lists and counters,
    # findable by the cleanup job, and nobody was told it is deleted
    tombstone = world.stored(ready.media_id)
    assert tombstone.status == Status.DELETED and tombstone.purge_pending
    assert world.records.in_status_index(ready.media_id)
    assert world.records.counters("alice").count == 0
    assert world.store.keys(MEDIA), "the variants are still there"
    assert tombstone.variants == ready.variants, "and the tombstone still names them"
    assert world.events.of_type(DetailType.DELETED) == []
    assert AuditAction.DELETED not in world.audit.actions(ready.media_id)


def test_a_repeated_delete_finishes_and_announces_once(world: World) -> None:
    ready = processed(world)
    world.store.faults.fail("delete_prefix", times=1)
    world.management().delete(ALICE, ready.media_id)  # accepted: the purge is left to the cleanup job

    # When alice deletes it again (then once more)
    world.management().delete(ALICE, ready.media_id)
    world.management().delete(ALICE, ready.media_id)

    # Then every object is gone and "Media Deleted" was published exactly once
    assert world.store.keys(UPLOADS) == [] and world.store.keys(MEDIA) == []
    purged = world.stored(ready.media_id)
    assert not purged.purge_pending and purged.variants == {}
    assert not world.records.in_status_index(ready.media_id)
    [announced] = world.events.of_type(DetailType.DELETED)
    assert announced["media_id"] == ready.media_id and announced["purge_pending"] is False
    assert set(announced["variant_keys"]) == set(ready.variants)
    assert world.audit.actions(ready.media_id).count(AuditAction.DELETED) == 1


def test_the_cleanup_job_resumes_a_pending_delete(world: World) -> None:
    ready = processed(world)
    world.store.faults.fail("delete_keys", times=1)
    world.management().delete(ALICE, ready.media_id)  # accepted: the purge is left to the cleanup job

    # When the cleanup job runs (a few minutes later), then runs again
    first = world.cleanup().run(now=utc_now() + timedelta(minutes=10))
    second = world.cleanup().run(now=utc_now() + timedelta(minutes=20))

    # Then the first run finished the delete; the second found nothing to do
    assert first.purged == [ready.media_id] and second.purged == []
    assert world.store.keys(UPLOADS) == [] and world.store.keys(MEDIA) == []
    assert len(world.events.of_type(DetailType.DELETED)) == 1


def test_only_one_of_two_racing_deleters_announces(world: World) -> None:
    # Given a tombstone whose objects another deleter is removing at the same time
    ready = processed(world)
    world.store.faults.fail("delete_prefix", times=1)
    world.deleter().delete(ready, "alice")  # accepted: the purge is left to the cleanup job
    tombstone = world.stored(ready.media_id)

    # When both finish (each read the pending tombstone)
    world.deleter().delete(tombstone, "alice")
    world.deleter().delete(tombstone, "system:cleanup")

    # Then purged() let exactly one of them announce
    assert len(world.events.of_type(DetailType.DELETED)) == 1


def test_a_delete_from_a_stale_read_changes_nothing(world: World) -> None:
    record = world.awaiting()
    world.with_status(record, Status.PROCESSING)
    assert not world.deleter().delete_if_unchanged(record, "system:cleanup", "never uploaded")
    assert world.stored(record.media_id).status == Status.PROCESSING


# ------------------------------------------------------------------ cleanup
def _aged(world: World, status: Status, at: datetime, **fields: object) -> MediaRecord:
    record = world.awaiting(at=at, **fields)
    if status == Status.AWAITING_UPLOAD:
        return record
    # Moved through the state machine, then dated back (the ByStatus key is the last change).
    processing = world.records.transition(record, Transition(Status.PROCESSING))
    world.records.transition(processing, Transition(status, changes={"failure_reason": "bad"}))
    return world.records.backdate(record.media_id, at)


def test_cleanup_removes_old_uploads_never_made_and_old_failures_only(world: World) -> None:
    now = utc_now()
    # Given uploads never made (one multipart), failures, and ready media of various ages
    never = _aged(world, Status.AWAITING_UPLOAD, now - timedelta(hours=25))
    upload_id = world.store.start_multipart(UPLOADS, never.original.key, content_type="image/png")
    world.records.update(never, {"upload_id": upload_id})
    recent_awaiting = _aged(world, Status.AWAITING_UPLOAD, now - timedelta(hours=23))
    old_failure = _aged(world, Status.FAILED, now - timedelta(days=8))
    recent_failure = _aged(world, Status.FAILED, now - timedelta(days=6))
    old_ready = _aged(world, Status.READY, now - timedelta(days=30))

    # When the cleanup job runs
    report = world.cleanup(awaiting_upload_max_hours=24, failed_retention_days=7).run(now=now)

    # Then only the stale upload and the old failure are deleted (the multipart upload aborted)
    assert report.never_uploaded == [never.media_id]
    assert report.failed == [old_failure.media_id]
    assert world.store.uploads == {}
    for gone in (never, old_failure):
        assert world.stored(gone.media_id).status == Status.DELETED
    for kept, status in ((recent_awaiting, Status.AWAITING_UPLOAD), (recent_failure, Status.FAILED)):
        assert world.stored(kept.media_id).status == status
    assert world.stored(old_ready.media_id).status == Status.READY
    reasons = [e.details["reason"] for e in world.audit.entries(never.media_id)]
    assert reasons == ["never uploaded within 24 h"]
    assert world.audit.entries(never.media_id)[0].actor == "system:cleanup"


def test_cleanup_takes_at_most_its_batch_limit_per_run(world: World) -> None:
    now = utc_now()
    stale = [_aged(world, Status.AWAITING_UPLOAD, now - timedelta(hours=30 - n)) for n in range(3)]
    report = world.cleanup(cleanup_batch_limit=2).run(now=now)
    assert report.never_uploaded == [r.media_id for r in stale[:2]], "oldest first"
    assert world.cleanup(cleanup_batch_limit=2).run(now=now).never_uploaded == [stale[2].media_id]


# ------------------------------------------------------------------ reaper
def _processing(world: World, started: datetime, *, kind: Kind = Kind.IMAGE, attempt: int = 5) -> MediaRecord:
    """A record a processor claimed at `started` on delivery `attempt` (default: the last of 5, so
    no retry will come) and never finished, with one variant written."""
    record = world.awaiting(kind=kind, extension="png" if kind == Kind.IMAGE else "mp4", at=started)
    changes = {"run_id": "run1", "claim_attempt": attempt}
    world.records.transition(record, Transition(Status.PROCESSING, changes=changes))
    world.store.put(MEDIA, f"{media_prefix('alice', record.media_id)}run1/thumb.webp", b"t", content_type="x")
    return world.records.backdate(record.media_id, started)


def test_the_reaper_fails_records_stuck_processing_and_removes_their_run(world: World) -> None:
    now = utc_now()
    # Given an image stuck for 20 minutes, an image claimed 2 minutes ago, a video for 20 minutes
    stuck = _processing(world, now - timedelta(minutes=20))
    fresh = _processing(world, now - timedelta(minutes=2))
    video = _processing(world, now - timedelta(minutes=20), kind=Kind.VIDEO)

    # When the reaper runs
    report = world.reaper(STUCK_AFTER).run(now=now)

    # Then only the stuck image is failed, with a reason, and its run's objects removed
    assert report.failed == [stuck.media_id]
    assert report.examined == 2, "the fresh image is not even read (the index starts at the shortest limit)"
    failed = world.stored(stuck.media_id)
    assert failed.status == Status.FAILED
    assert failed.failure_reason == (
        "processing timed out: no result 20 min after it started "
        "(the image processor was stopped before finishing)"
    )
    assert world.store.keys(MEDIA, media_prefix("alice", stuck.media_id)) == []
    for untouched in (fresh, video):
        assert world.stored(untouched.media_id).status == Status.PROCESSING
        assert world.store.keys(MEDIA, media_prefix("alice", untouched.media_id))


def test_the_reaper_leaves_a_record_that_was_reclaimed_meanwhile(world: World) -> None:
    now = utc_now()
    stuck = _processing(world, now - timedelta(minutes=20))
    # A retry re-claims it (a new run) after the reaper read it
    world.records.transition(stuck, Transition(Status.PROCESSING, changes={"run_id": "run2"}))
    world.store.put(MEDIA, f"{media_prefix('alice', stuck.media_id)}run2/thumb.webp", b"t", content_type="x")

    class StaleIndex:
        def changed_before(self, status: Status, before: datetime) -> Iterator[MediaRecord]:
            yield stuck

    reaper = world.reaper(STUCK_AFTER)
    reaper.index = StaleIndex()
    report = reaper.run(now=now)

    assert report.failed == [] and report.examined == 1
    assert world.stored(stuck.media_id).run_id == "run2"
    assert world.store.keys(MEDIA, f"{media_prefix('alice', stuck.media_id)}run2/")


def test_the_reaper_leaves_a_record_no_run_owns(world: World) -> None:
    # (A record moved to processing without a run: nothing of it to remove, nothing to time out.)
    now = utc_now()
    record = world.awaiting(at=now - timedelta(minutes=30))
    world.records.transition(record, Transition(Status.PROCESSING))
    world.records.backdate(record.media_id, now - timedelta(minutes=30))
    report = world.reaper(STUCK_AFTER).run(now=now)
    assert report.examined == 1 and report.failed == []
    assert world.stored(record.media_id).status == Status.PROCESSING


def test_the_reaper_waits_for_the_retries_still_due(world: World) -> None:
    now = utc_now()
    # Given an image claimed 20 minutes ago on its first delivery: four retries are still due
    early = _processing(world, now - timedelta(minutes=20), attempt=1)
    # When the reaper runs, Then it is left alone until every attempt's time has passed
    assert world.reaper(STUCK_AFTER).run(now=now).failed == []
    assert world.stored(early.media_id).status == Status.PROCESSING
    later = now + STUCK_AFTER[Kind.IMAGE] * 5
    assert world.reaper(STUCK_AFTER).run(now=later).failed == [early.media_id]


def test_the_reaper_waits_for_a_running_workflow_and_reaps_it_once_it_ended(world: World) -> None:
    now = utc_now()
    # Given a video handed to the transcode workflow 3 hours ago (longer than any function limit)
    runs = FakeWorkflowRuns()
    arn = runs.start("run1", {"media_id": "x"})
    video = _processing(world, now - timedelta(hours=3), kind=Kind.VIDEO)
    metadata = {"transcode": {"mode": "parallel", "execution_arn": arn}}
    world.records.transition(
        world.stored(video.media_id), Transition(Status.PROCESSING, changes={"metadata": metadata})
    )
    world.records.backdate(video.media_id, now - timedelta(hours=3))
    reaper = world.reaper(STUCK_AFTER)
    reaper.workflows = runs
    # When the reaper runs while the execution still runs: the record is left alone
    assert reaper.run(now=now).failed == []
    assert world.stored(video.media_id).status == Status.PROCESSING
    # When the execution was aborted without settling the record: it is failed, its run removed
    runs.statuses[arn] = "ABORTED"
    assert reaper.run(now=now).failed == [video.media_id]
    failed = world.stored(video.media_id)
    assert failed.status == Status.FAILED
    assert failed.failure_reason == (
        "processing failed: the transcode workflow ended ABORTED without settling the record"
    )
    assert world.store.keys(MEDIA, media_prefix("alice", video.media_id)) == []
