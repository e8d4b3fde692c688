"""Scheduled reaper: fails records stuck in `processing` past their processor's time limits."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.dal.clients import dynamodb_table
from media_core.dal.dynamo.status_index import StatusIndex
from media_core.services.reaper import Reaper
from media_core.settings import reaper_settings
from media_core.wiring import media_repository, object_store, workflow_runs

logger = Logger()
tracer = Tracer()
settings = reaper_settings()  # validated at cold start
reaper = Reaper(
    media_repository(settings.table_name),
    StatusIndex(dynamodb_table(settings.table_name)),
    object_store(),
    settings.media_bucket,
    settings.stuck_after(),
    workflow_runs(settings.transcode_state_machine_arn),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = reaper.run()
    logger.info("reaper run", examined=report.examined, failed=len(report.failed))
    return {"examined": report.examined, "failed": report.failed}
