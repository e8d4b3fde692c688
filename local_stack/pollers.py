"""SQS event source mappings: one polling thread per `Type: SQS` event, invoking the function with
batch events as Lambda does (batch size, batching window, the queue's visibility timeout, partial
batch responses). Redrive to the DLQ after maxReceiveCount is done by the emulator itself: moto
moves a message whose receive count reached maxReceiveCount when it is next received, as SQS does.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local_stack.background import Background
from local_stack.functions import FunctionError, LocalFunction

log = logging.getLogger("local_stack.pollers")

MAX_RECEIVE = 10  # SQS's per-call maximum


@dataclass(frozen=True)
class SqsSource:
    function: LocalFunction
    event_name: str
    queue_id: str  # logical id
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    batching_window: float = 0.0
    report_batch_item_failures: bool = False

    @property
    def label(self) -> str:
        return f"{self.queue_id} -> {self.function.spec.logical_id}"


def sqs_sources(
    functions: Mapping[str, LocalFunction], queue_urls_by_arn: Mapping[str, tuple[str, str]]
) -> list[SqsSource]:
    """queue_urls_by_arn: ARN -> (logical id, URL) of the provisioned queues."""
    sources = []
    for fn in functions.values():
        for event in fn.spec.events:
            if event.type != "SQS":
                continue
            props = event.properties
            where = f"{fn.spec.logical_id}.{event.name}"
            if props.get("Enabled") is False or str(props.get("Enabled")).lower() == "false":
                log.info("%s: disabled in the template; no poller", where)
                continue
            arn = str(props["Queue"])
            if arn not in queue_urls_by_arn:
                raise ValueError(f"{where}: queue {arn} is not a queue of this template")
            if props.get("FilterCriteria"):
                log.warning("%s: FilterCriteria is not emulated; every message is delivered", where)
            queue_id, url = queue_urls_by_arn[arn]
            sources.append(
                SqsSource(
                    function=fn,
                    event_name=event.name,
                    queue_id=queue_id,
                    queue_url=url,
                    queue_arn=arn,
                    batch_size=int(props.get("BatchSize", 10)),
                    batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                )
            )
    return sources


def is_s3_test_event(body: str) -> bool:
    """S3 (and moto) put an `s3:TestEvent` on a queue when notifications are configured."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("Event") == "s3:TestEvent"


def _attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType", "String"),
    }


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attrs = message.get("Attributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {
            k: str(attrs[k])
            for k in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "MessageGroupId",
                "MessageDeduplicationId",
                "SequenceNumber",
                "AWSTraceHeader",
            )
            if k in attrs
        },
        "messageAttributes": {k: _attribute(v) for k, v in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(result: Any, message_ids: list[str]) -> set[str] | None:
    """The ids a partial batch response reports; None means the whole batch failed (an invalid
    response, or an itemIdentifier that is empty or not in the batch, as Lambda treats it)."""
    if result is None or not isinstance(result, Mapping):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not ident or ident not in message_ids:
            return None
        ids.add(str(ident))
    return ids


class QueuePoller(Background):
    def __init__(self, source: SqsSource, sqs: Any, region: str, wait_seconds: int = 1) -> None:
        self.source = source
        self.sqs = sqs
        self.region = region
        self.wait_seconds = wait_seconds
        super().__init__(f"poller-{source.label}")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (BotoCoreError, ClientError) as err:
                if self._stop.is_set():
                    break
                log.warning("%s: polling failed (%s); retrying", self.source.label, err)
                self._stop.wait(1)

    def _receive(self) -> list[dict[str, Any]]:
        source = self.source
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + source.batching_window
        while len(messages) < source.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if messages and remaining <= 0:
                break
            wait = self.wait_seconds
            if messages:
                wait = max(0, min(self.wait_seconds, int(remaining + 0.999)))
            got = self.sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, source.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += got
            if source.batching_window <= 0 or (not got and not messages):
                break
        return messages

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for i in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[i : i + MAX_RECEIVE]
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
            )

    def poll_once(self) -> int:
        """Receives one batch and handles it; returns the number of records the function got."""
        messages = self._receive()
        tests = [m for m in messages if is_s3_test_event(m.get("Body", ""))]
        if tests:
            log.info("%s: deleted %d s3:TestEvent message(s) without invoking", self.source.label, len(tests))
            self._delete(tests)
        messages = [m for m in messages if m not in tests]
        if not messages:
            return 0
        source = self.source
        event = {"Records": [sqs_record(m, source.queue_arn, self.region) for m in messages]}
        trigger = f"sqs {source.queue_id} ({len(messages)} record{'s' if len(messages) != 1 else ''})"
        try:
            result = source.function.invoke(event, trigger)
        except FunctionError:
            return len(messages)  # nothing deleted: visible again after the visibility timeout
        ids = [m["MessageId"] for m in messages]
        if source.report_batch_item_failures:
            failed = failed_ids(result, ids)
            if failed is None:
                log.warning("%s: invalid batchItemFailures %r: the whole batch failed", source.label, result)
                return len(messages)
        else:
            failed = set()
            if isinstance(result, Mapping) and result.get("batchItemFailures"):
                log.warning(
                    "%s: batchItemFailures ignored: the event lacks FunctionResponseTypes: "
                    "[ReportBatchItemFailures] (Lambda ignores them too)",
                    source.label,
                )
        self._delete([m for m in messages if m["MessageId"] not in failed])
        return len(messages)
