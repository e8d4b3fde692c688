"""Image processor: Pillow variants, metadata, fingerprints, duplicate hints.

Consumes the SQS queue of S3 ObjectCreated events for its kind; partial batch failures."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.processing.image_work import ImageWork
from media_core.processing.sqs import make_sqs_handler
from media_core.settings import image_settings
from media_core.wiring import duplicate_index, processing_pipeline

logger = Logger()
tracer = Tracer()
settings = image_settings()  # validated at cold start
process = make_sqs_handler(
    processing_pipeline, ImageWork.from_settings(settings, duplicate_index(settings.image_duplicate_distance))
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process(event, context)
