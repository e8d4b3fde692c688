"""Video and audio processor: probe by URL, poster/cover art, HLS + MP4 / MP3 renditions; long
videos start the segment-parallel transcode workflow (statemachines/transcode.asl.json).

Consumes the SQS queue of S3 ObjectCreated events for its kind; partial batch failures."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.processing.av_work import AvWork
from media_core.processing.sqs import make_sqs_handler
from media_core.settings import av_settings
from media_core.wiring import processing_pipeline, workflow_runs

logger = Logger()
tracer = Tracer()
settings = av_settings()  # validated at cold start
process = make_sqs_handler(
    processing_pipeline, AvWork.from_settings(settings, workflow_runs(settings.transcode_state_machine_arn))
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process(event, context)
