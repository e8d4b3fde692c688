"""Scheduled cleanup: removes records never uploaded after a day and failed records after their
retention, with their objects."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.settings import cleanup_settings
from media_core.wiring import cleanup_job

logger = Logger()
tracer = Tracer()
cleanup_settings()  # validated at cold start


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = cleanup_job().run()
    logger.info("cleanup run", never_uploaded=len(report.never_uploaded), failed=len(report.failed))
    return {"never_uploaded": report.never_uploaded, "failed": report.failed}
