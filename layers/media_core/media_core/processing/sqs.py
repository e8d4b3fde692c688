"""Adapter from SQS batches of S3 notifications to the pipeline (the only event-shaped code of
the processors). Powertools' batch processor reports partial failures, so one bad message never
fails its neighbours."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from media_core.processing.lifecycle import ProcessingPipeline, Result
from media_core.processing.objects import Attempt, ObjectCreated
from media_core.processing.work import KindProcessor

logger = Logger(child=True)


def object_events(body: str) -> list[ObjectCreated]:
    """ObjectCreated events in an S3 notification; [] for S3's test event (sent when a
    notification is configured)."""
    payload = json.loads(body)
    if payload.get("Event") == "s3:TestEvent" or "Records" not in payload:
        return []
    # S3Event (a data class, not the pydantic model) copes with records that lack
    # userIdentity & co., as the local emulator sends them.
    return [
        ObjectCreated(
            bucket=r.s3.bucket.name,
            key=r.s3.get_object.key,
            size=int(r.s3.get_object.size or 0),
            etag=(r.s3.get_object.etag or "").strip('"'),
        )
        for r in S3Event(payload).records
        if r.event_name.startswith("ObjectCreated:")
    ]


def make_sqs_handler(
    pipeline: Callable[[], ProcessingPipeline], work: KindProcessor
) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
    processor = BatchProcessor(event_type=EventType.SQS)

    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        def remaining_seconds() -> float:
            return float(context.get_remaining_time_in_millis()) / 1000.0

        def record_handler(record: SQSRecord) -> list[Result]:
            attempt = Attempt(
                number=int(record.attributes.approximate_receive_count or 1),
                maximum=pipeline().settings.max_receive_count,
            )
            results = [
                pipeline().handle(e, attempt, work, remaining_seconds) for e in object_events(record.body)
            ]
            for result in results:
                logger.info(
                    "processed", outcome=result.outcome, media_id=result.media_id, detail=result.detail
                )
            return results

        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler
