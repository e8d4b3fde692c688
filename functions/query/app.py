"""Query API: GET /media/{media_id}."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.api_models import MediaView
from media_core.http import current_caller, documented_errors, json_response, make_resolver
from media_core.services import media_queries
from media_core.settings import common_settings

logger = Logger()
tracer = Tracer()
app = make_resolver(common_settings(), logger)  # settings validated at cold start

MediaId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Media id")]


@app.get(
    "/media/<media_id>",
    summary="One media record with short-lived variant URLs",
    responses={
        200: {"description": "The record", "content": {"application/json": {"model": MediaView}}},
        **documented_errors(401, 404, 422),
    },
)
@tracer.capture_method
def get_media(media_id: MediaId) -> Response[MediaView]:
    view = media_queries().get(current_caller(app, common_settings().admin_group), media_id)
    return json_response(HTTPStatus.OK, view)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
