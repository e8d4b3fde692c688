"""`make redrive` replays a dead-letter queue to the queue it came from, unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack.pollers import is_s3_test_event
from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack
from tools.redrive import queue_pairs, redrive


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


def test_dead_letters_go_back_to_their_queue_with_body_and_attributes(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    # Given two messages in the image DLQ (processing failed on every attempt before a fix)
    dlq, source = stack.queues["ImageDeadLetterQueue"], stack.queues["ImageQueue"]
    for body in ("one", "two"):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=body,
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )
    # When the DLQs are redriven
    pairs = {p.source_url: p.dlq_url for p in queue_pairs(sqs, "media-local")}
    assert pairs[source] == dlq  # found from the queue's RedrivePolicy, every processor queue
    assert {stack.queues[q] for q in ("ImageQueue", "AvQueue", "DocumentQueue")} <= set(pairs)
    moved = redrive(sqs, next(p for p in queue_pairs(sqs, "media-local") if p.source_url == source))
    # Then both are back on the image queue, unchanged, and the DLQ is empty
    assert moved == 2
    back = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    back = [m for m in back if not is_s3_test_event(m["Body"])]  # S3's own test event was there first
    assert sorted(m["Body"] for m in back) == ["one", "two"]
    assert all(m["MessageAttributes"]["origin"]["StringValue"] == "test" for m in back)
    leftover = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert leftover["Attributes"]["ApproximateNumberOfMessages"] == "0"
