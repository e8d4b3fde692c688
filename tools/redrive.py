"""Replay a processor's dead-letter queue after a fix: move every message back to the queue it
came from, unchanged (body and attributes), so the processors see it again as a new delivery.

    make redrive                                   # the local stack (make run), every DLQ
    python -m tools.redrive --stack media-prod     # a deployed stack (queues named {stack}-...)
    python -m tools.redrive --queue ImageQueue --max 100

The DLQ of each queue is read from its RedrivePolicy, so nothing here knows the template. On AWS
the moved count is also put as the `DlqRedriven` metric (the dashboard shows it). SQS's own
StartMessageMoveTask does the same on AWS; moto (the local stack) does not implement it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

LOCAL_ENDPOINT = f"http://127.0.0.1:{os.environ.get('MEDIA_LOCAL_AWS_PORT', '4566')}"
LOCAL_STACK = "media-local"


@dataclass(frozen=True)
class Pair:
    source_url: str
    dlq_url: str


def queue_pairs(sqs: SQSClient, prefix: str) -> list[Pair]:
    """Every queue under `prefix` that has a dead-letter queue, with that queue's URL."""
    urls = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    by_arn = {
        sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]: u
        for u in urls
    }
    pairs = []
    for url in urls:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        policy = attributes.get("Attributes", {})
        if "RedrivePolicy" in policy:
            target = json.loads(policy["RedrivePolicy"])["deadLetterTargetArn"]
            if target in by_arn:
                pairs.append(Pair(url, by_arn[target]))
    return pairs


def redrive(sqs: SQSClient, pair: Pair, limit: int | None = None) -> int:
    """Move messages from the DLQ back to the source queue; a message is deleted from the DLQ
    only after the source queue accepted it (a crash in between duplicates, never loses)."""
    moved = 0
    while limit is None or moved < limit:
        batch = sqs.receive_message(
            QueueUrl=pair.dlq_url,
            MaxNumberOfMessages=10 if limit is None else max(1, min(10, limit - moved)),
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            send: dict[str, Any] = {"QueueUrl": pair.source_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                send["MessageAttributes"] = message["MessageAttributes"]
            sqs.send_message(**send)
            sqs.delete_message(QueueUrl=pair.dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="a deployed stack's name (default: the local stack)")
    parser.add_argument("--queue", help="only this queue (logical name part, e.g. ImageQueue)")
    parser.add_argument("--max", type=int, default=None, help="move at most this many per queue")
    args = parser.parse_args(argv)
    local = args.stack is None
    sqs = (
        boto3.client("sqs", endpoint_url=LOCAL_ENDPOINT, region_name="us-east-1")
        if local
        else boto3.client("sqs")
    )
    pairs = [
        p
        for p in queue_pairs(sqs, LOCAL_STACK if local else args.stack)
        if args.queue is None or args.queue in p.source_url.rsplit("/", 1)[-1]
    ]
    if not pairs:
        print("no queue with a dead-letter queue found", file=sys.stderr)
        return 1
    total = 0
    for pair in pairs:
        moved = redrive(sqs, pair, args.max)
        total += moved
        print(f"{pair.dlq_url.rsplit('/', 1)[-1]} -> {pair.source_url.rsplit('/', 1)[-1]}: {moved} moved")
    if not local and total:
        boto3.client("cloudwatch").put_metric_data(
            Namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "MediaPipeline"),
            MetricData=[{"MetricName": "DlqRedriven", "Value": total, "Unit": "Count",
                         "Dimensions": [{"Name": "service", "Value": "media-pipeline"}]}],
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
