"""Scheduled event relay: puts on the bus every event still in the outbox (a write's own relay
normally does it at once; this catches what it missed, so every event is delivered at least once)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.settings import common_settings
from media_core.wiring import outbox_relay

logger = Logger()
common_settings()  # validated at cold start


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = outbox_relay().drain()
    logger.info("outbox relayed", published=report.published, failed=report.failed)
    return {"published": report.published, "failed": report.failed}
