"""Scheduled reaper: fails records stuck in `processing` past their processor's time limits."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.settings import reaper_settings
from media_core.wiring import reaper

logger = Logger()
tracer = Tracer()
reaper_settings()  # validated at cold start


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = reaper().run()
    logger.info("reaper run", examined=report.examined, failed=len(report.failed))
    return {"examined": report.examined, "failed": report.failed}
