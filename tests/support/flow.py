"""The upload flow as a client drives it, against a running local stack: ask the API for an
upload, POST the bytes to the presigned URL, then either let the pollers work or deliver the
queued S3 events to a processor as one SQS batch (to control exactly what is in the batch)."""

from __future__ import annotations

import time
from typing import Any

import requests

from local_stack.pollers import is_s3_test_event, sqs_record
from local_stack.stack import LocalStack
from tests.support.local_stack import bearer


def start_upload(
    stack: LocalStack, user: str, filename: str, content_type: str, size: int, **extra: Any
) -> dict[str, Any]:
    response = requests.post(
        f"{stack.api_url}/uploads",
        headers=bearer(stack, user),
        json={"filename": filename, "content_type": content_type, "size": size, **extra},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def upload(stack: LocalStack, user: str, filename: str, content_type: str, data: bytes, **extra: Any) -> str:
    """Presign and POST the file; returns the media id."""
    created = start_upload(stack, user, filename, content_type, max(1, len(data)), **extra)
    post = created["upload"]
    sent = requests.post(
        post["url"], data=post["fields"], files={"file": (filename, data, content_type)}, timeout=60
    )
    assert sent.status_code in (200, 201, 204), sent.text
    return str(created["media_id"])


def queued_messages(
    stack: LocalStack, queue: str, expected: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Receive `expected` S3 notification messages (dropping s3:TestEvent) from `queue`."""
    sqs = stack.client("sqs")
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < expected and time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=stack.queues[queue],
            MaxNumberOfMessages=max(1, min(10, expected - len(found))),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            if is_s3_test_event(message.get("Body", "")):
                sqs.delete_message(QueueUrl=stack.queues[queue], ReceiptHandle=message["ReceiptHandle"])
            else:
                found.append(message)
    assert len(found) >= expected, f"only {len(found)} of {expected} messages arrived on {queue}"
    return found


def sqs_batch(stack: LocalStack, queue: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    arn = stack.queue_arns[queue]
    return {"Records": [sqs_record(m, arn, "us-east-1") for m in messages]}


def deliver(stack: LocalStack, queue: str, function: str, messages: list[dict[str, Any]]) -> Any:
    """Invoke `function` with `messages` as one SQS batch, and delete the ones it did not report
    as failed, as the event source mapping would."""
    result = stack.functions[function].invoke(sqs_batch(stack, queue, messages), trigger=f"test:{queue}")
    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    sqs = stack.client("sqs")
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=stack.queues[queue], ReceiptHandle=message["ReceiptHandle"])
    return result


def get_media(stack: LocalStack, user: str, media_id: str, admin: bool = False) -> requests.Response:
    return requests.get(f"{stack.api_url}/media/{media_id}", headers=bearer(stack, user, admin), timeout=30)


def record(stack: LocalStack, media_id: str) -> dict[str, Any]:
    """The record as an admin sees it through the API."""
    response = get_media(stack, "root", media_id, admin=True)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def media_objects(stack: LocalStack, media_id: str) -> list[str]:
    """Keys in the media bucket that belong to `media_id`."""
    listing = stack.client("s3").list_objects_v2(Bucket=stack.buckets["MediaBucket"])
    return [o["Key"] for o in listing.get("Contents", []) if f"/{media_id}/" in o["Key"]]


def wait_settled(stack: LocalStack, user: str, media_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll GET /media/{id} until the record is ready or failed (the pollers do the work)."""
    deadline = time.monotonic() + timeout
    while True:
        response = get_media(stack, user, media_id)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("ready", "failed"):
            return body
        assert time.monotonic() < deadline, f"{media_id} still {body['status']} after {timeout} s"
        time.sleep(0.3)


def download(url: str) -> bytes:
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content
