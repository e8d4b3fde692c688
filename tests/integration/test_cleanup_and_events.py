"""Media events on the EventBridge bus (asserted on what was sent: a rule on the bus delivers
to an SQS queue made by the test) and the scheduled cleanup of never-uploaded and failed media."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from media_core.domain.models import utc_now
from media_core.wiring import cleanup_job, media_repository

from local_stack.schedules import scheduled_event
from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.media_api import awaiting, call, failed_image, ready_image


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


@pytest.fixture(scope="module")
def event_queue(stack: LocalStack) -> str:
    """Every media-pipeline event on the stack's bus, copied to a queue."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="test-media-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.provisioned.event_buses["MediaEventBus"]
    events.put_rule(
        Name="all-media", EventBusName=bus, EventPattern=json.dumps({"source": ["media-pipeline"]})
    )
    events.put_targets(Rule="all-media", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return str(url)


def sent_events(stack: LocalStack, queue_url: str) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


class TestEvents:
    def test_ready_failed_and_deleted_are_published_with_the_record_and_variant_keys(
        self, stack: LocalStack, event_queue: str
    ):
        sent_events(stack, event_queue)  # start empty
        # When an image becomes ready, another fails, and the first is deleted
        ready = ready_image(stack, "alice", seed=41, tags=["launch"])
        failed = failed_image(stack, "alice")
        assert call(stack, "DELETE", f"/media/{ready}", "alice").status_code == 204
        # Then three events were sent, in order, from media-pipeline
        events = sent_events(stack, event_queue)
        assert [(e["source"], e["detail-type"], e["detail"]["media_id"]) for e in events] == [
            ("media-pipeline", "Media Ready", ready),
            ("media-pipeline", "Media Failed", failed),
            ("media-pipeline", "Media Deleted", ready),
        ]
        ready_detail, failed_detail, deleted_detail = (e["detail"] for e in events)
        # The ready one carries the record and every variant's key in the media bucket
        assert ready_detail["status"] == "ready" and ready_detail["tags"] == ["launch"]
        assert set(ready_detail["variant_keys"]) >= {"thumbnail", "small", "medium", "large"}
        assert all(
            k.startswith("media/") and f"/{ready}/" in k for k in ready_detail["variant_keys"].values()
        )
        assert ready_detail["buckets"] == {
            "original": stack.buckets["UploadsBucket"],
            "variants": stack.buckets["MediaBucket"],
        }
        assert ready_detail["original"]["key"].endswith(f"/{ready}/original.jpg")
        assert failed_detail["status"] == "failed" and failed_detail["failure_reason"]
        assert deleted_detail["status"] == "deleted"
        assert deleted_detail["variant_keys"] == ready_detail["variant_keys"]


class TestCleanup:
    def test_stale_uploads_and_old_failures_are_removed_with_their_objects(
        self, stack: LocalStack, event_queue: str
    ):
        # Given a record never uploaded, a failed one, and a ready one
        never = awaiting(stack, "bob")
        failed = failed_image(stack, "bob")
        ready = ready_image(stack, "bob", seed=42)
        repository = media_repository(stack.tables["MediaTable"])
        s3 = stack.client("s3")
        failed_key = repository.get(failed).original.key  # type: ignore[union-attr]
        sent_events(stack, event_queue)
        # When the job runs now, nothing is old enough
        job = cleanup_job()
        assert job.run().never_uploaded == [] and job.run().failed == []
        # When it runs 25 hours later: the never-uploaded record goes, the failed one stays
        later = job.run(now=utc_now() + timedelta(hours=25))
        assert later.never_uploaded == [never] and later.failed == []
        assert call(stack, "GET", f"/media/{never}", "bob").status_code == 404
        assert call(stack, "GET", f"/media/{failed}", "bob").json()["status"] == "failed"
        # When it runs 8 days later (7 days' retention): the failed record and its original go
        week = job.run(now=utc_now() + timedelta(days=8))
        assert failed in week.failed and ready not in week.failed and week.never_uploaded == []
        assert call(stack, "GET", f"/media/{failed}", "bob").status_code == 404
        assert (
            s3.list_objects_v2(Bucket=stack.buckets["UploadsBucket"], Prefix=failed_key).get("KeyCount") == 0
        )
        # The ready one is untouched, and the counters agree
        assert call(stack, "GET", f"/media/{ready}", "bob").json()["status"] == "ready"
        stats = call(stack, "GET", "/media/stats", "bob").json()
        assert stats["count"] == 1 and stats["by_status"]["ready"] == 1
        # Each removal was announced and audited as the cleanup job's
        deleted = [
            e["detail"]["media_id"]
            for e in sent_events(stack, event_queue)
            if e["detail-type"] == "Media Deleted"
        ]
        assert [d for d in deleted if d in (never, failed)] == [never, failed]
        assert len(deleted) == 1 + len(week.failed)
        trail = call(stack, "GET", f"/media/{failed}/activity", "bob").json()["entries"]
        assert (trail[-1]["action"], trail[-1]["actor"]) == ("deleted", "system:cleanup")

    def test_the_scheduled_function_runs_the_job(self, stack: LocalStack):
        function = stack.functions["CleanupFunction"]
        assert [e.type for e in function.spec.events] == ["Schedule"]
        result = function.invoke(
            scheduled_event("arn:aws:events:us-east-1:123456789012:rule/x", "123456789012", "us-east-1"),
            "test",
        )
        assert result == {"never_uploaded": [], "failed": []}
