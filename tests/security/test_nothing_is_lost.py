"""Nothing is lost: a delete whose object removal fails is resumed by the cleanup job, and
announced once when it is done; an event the bus refused is relayed later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from media_core.dal.events import EventBridgePublisher
from media_core.dal.s3 import ObjectStore
from media_core.domain.models import utc_now
from media_core.wiring import cleanup_job, outbox_relay

from local_stack.stack import LocalStack
from tests.support.flow import media_objects
from tests.support.local_stack import running_stack
from tests.support.media_api import call, ready_image


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


@pytest.fixture
def events(stack: LocalStack) -> Iterator[str]:
    sqs, bus_client = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="nothing-lost-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.provisioned.event_buses["MediaEventBus"]
    pattern = json.dumps({"source": ["media-pipeline"]})
    bus_client.put_rule(Name="nothing-lost", EventBusName=bus, EventPattern=pattern)
    bus_client.put_targets(Rule="nothing-lost", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    yield str(url)
    bus_client.remove_targets(Rule="nothing-lost", EventBusName=bus, Ids=["q"])
    bus_client.delete_rule(Name="nothing-lost", EventBusName=bus)


def received(stack: LocalStack, url: str) -> list[dict[str, Any]]:
    sqs, found = stack.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_delete_whose_s3_removal_fails_is_resumed_and_announced_once(
    stack: LocalStack, events: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ready media, and S3 refusing the removal of its variants once
    media_id = ready_image(stack, "olga", seed=21)
    received(stack, events)
    real = ObjectStore.delete_prefix
    calls = {"n": 0}

    def flaky(self: ObjectStore, bucket: str, prefix: str) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("S3 is unreachable")
        return real(self, bucket, prefix)

    monkeypatch.setattr(ObjectStore, "delete_prefix", flaky)
    # When the owner deletes it
    assert call(stack, "DELETE", f"/media/{media_id}", "olga").status_code == 204
    # Then it is gone for her, its objects wait for the cleanup job, and nothing is announced yet
    assert call(stack, "GET", f"/media/{media_id}", "olga").status_code == 404
    assert media_objects(stack, media_id), "the variants are still there"
    assert [e for e in received(stack, events) if e["detail-type"] == "Media Deleted"] == []
    # When the cleanup job runs after the grace period
    report = cleanup_job().run(now=utc_now() + timedelta(minutes=10))
    # Then the objects are gone and the deletion is announced once, naming the variants
    assert media_id in report.purged
    assert media_objects(stack, media_id) == []
    deleted = [e for e in received(stack, events) if e["detail-type"] == "Media Deleted"]
    assert [e["detail"]["media_id"] for e in deleted] == [media_id]
    assert deleted[0]["detail"]["variant_keys"]
    assert media_id not in cleanup_job().run(now=utc_now() + timedelta(minutes=20)).purged


def test_an_event_the_bus_refused_is_relayed_later(
    stack: LocalStack, events: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bus that refuses everything while an image becomes ready
    monkeypatch.setattr(EventBridgePublisher, "deliver", lambda self, detail_type, detail: False)
    media_id = ready_image(stack, "olga", seed=22)
    monkeypatch.undo()
    assert [e for e in received(stack, events) if e["detail"]["media_id"] == media_id] == []
    # When the scheduled relay runs, Then the event arrives, once
    assert outbox_relay().drain().published >= 1
    ready = [e for e in received(stack, events) if e["detail"]["media_id"] == media_id]
    assert [e["detail-type"] for e in ready] == ["Media Ready"]
    assert outbox_relay().drain().published == 0
