"""The scheduled reaper fails records left `processing` by a stopped processor, and only those."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from media_core.dal.clients import dynamodb_table
from media_core.dal.dynamo.status_index import StatusIndex
from media_core.domain.models import MediaRecord, Status, utc_now
from media_core.domain.transitions import Transition
from media_core.services.reaper import Reaper
from media_core.settings import reaper_settings
from media_core.wiring import media_repository, object_store

from local_stack.stack import LocalStack
from tests.support.flow import start_upload
from tests.support.local_stack import running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


def reaper() -> Reaper:
    settings = reaper_settings()
    table = settings.table_name
    return Reaper(
        media_repository(table), StatusIndex(dynamodb_table(table)), object_store(), settings.media_bucket,
        settings.stuck_after(),
    )  # fmt: skip


def claimed(stack: LocalStack, filename: str, content_type: str) -> MediaRecord:
    """A record claimed by a processor run on its last delivery, that wrote one variant and was
    then stopped (no retry will come)."""
    media_id = start_upload(stack, "erin", filename, content_type, 1000)["media_id"]
    repository = media_repository(stack.tables["MediaTable"])
    record = repository.get(media_id)
    assert record is not None
    last = reaper_settings().max_receive_count
    record = repository.transition(
        record, Transition(Status.PROCESSING, changes={"run_id": "run1", "claim_attempt": last})
    )
    key = f"media/{record.owner}/{media_id}/run1/large.jpg"
    stack.client("s3").put_object(Bucket=stack.buckets["MediaBucket"], Key=key, Body=b"half")
    return record


def objects(stack: LocalStack, record: MediaRecord) -> list[str]:
    listing = stack.client("s3").list_objects_v2(
        Bucket=stack.buckets["MediaBucket"], Prefix=f"media/{record.owner}/{record.media_id}/"
    )
    return [o["Key"] for o in listing.get("Contents", [])]


def status(record: MediaRecord) -> MediaRecord:
    stored = media_repository(reaper_settings().table_name).get(record.media_id)
    assert stored is not None
    return stored


def test_a_stuck_image_is_failed_with_a_reason_and_its_run_removed(stack: LocalStack):
    # Given an image claimed by a run that never finished
    stuck = claimed(stack, "a.jpg", "image/jpeg")
    # When the reaper runs 9 minutes later (past visibility timeout + function timeout)
    report = reaper().run(now=utc_now() + timedelta(minutes=9))
    # Then the record is failed with a readable reason and the run's variants are gone
    assert stuck.media_id in report.failed
    after = status(stuck)
    assert after.status == Status.FAILED
    assert after.failure_reason is not None
    assert after.failure_reason.startswith("processing timed out: no result 9 min after it started")
    assert objects(stack, stuck) == []


def test_records_within_their_limits_are_left_alone(stack: LocalStack):
    image = claimed(stack, "b.jpg", "image/jpeg")
    video = claimed(stack, "c.mp4", "video/mp4")
    # 5 minutes: a retry may still re-claim the image; 9 minutes is nothing for a video (15-min
    # function, 90-min visibility timeout)
    assert image.media_id not in reaper().run(now=utc_now() + timedelta(minutes=5)).failed
    assert status(image).status == Status.PROCESSING
    assert video.media_id not in reaper().run(now=utc_now() + timedelta(minutes=9)).failed
    assert status(video).status == Status.PROCESSING
    # ...but after the video's limit it is reaped too
    assert video.media_id in reaper().run(now=utc_now() + timedelta(hours=2)).failed
    assert status(video).status == Status.FAILED


def test_a_record_that_finished_meanwhile_is_not_touched(stack: LocalStack):
    record = claimed(stack, "d.jpg", "image/jpeg")
    repository = media_repository(stack.tables["MediaTable"])
    repository.transition(record, Transition(Status.READY))
    assert record.media_id not in reaper().run(now=utc_now() + timedelta(minutes=30)).failed
    assert status(record).status == Status.READY


def test_the_scheduled_function_runs_the_reaper(stack: LocalStack):
    result = stack.functions["ReaperFunction"].invoke(
        {"source": "aws.events", "detail-type": "Scheduled Event"}, trigger="test:schedule"
    )
    assert set(result) == {"examined", "failed"} and result["failed"] == []


def test_a_record_whose_retry_is_still_due_is_left_alone(stack: LocalStack):
    # Given a record claimed on its first delivery (four retries are still due), then stopped
    media_id = start_upload(stack, "erin", "retry.jpg", "image/jpeg", 1000)["media_id"]
    repository = media_repository(stack.tables["MediaTable"])
    record = repository.get(media_id)
    assert record is not None
    record = repository.transition(
        record, Transition(Status.PROCESSING, changes={"run_id": "run2", "claim_attempt": 1})
    )
    single = reaper_settings().stuck_after()[record.kind]
    # When the reaper runs past one attempt's limit, Then the record is not failed
    assert media_id not in reaper().run(now=utc_now() + single * 2).failed
    assert status(record).status == Status.PROCESSING
    # And once every attempt's time has passed, it is
    assert media_id in reaper().run(now=utc_now() + single * 6).failed
    assert status(record).status == Status.FAILED
