"""Management API (writes): PATCH/DELETE /media/{media_id}, POST /media/batch-delete,
POST /media/{media_id}/reprocess, PATCH /admin/media/{media_id}/moderation."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.api.http import current_caller, documented_errors, json_response, make_resolver, ok_response
from media_core.api.models import (
    BatchDeleteRequest,
    BatchDeleteResult,
    MediaUpdate,
    MediaView,
    ModerationRequest,
    ReprocessAccepted,
)
from media_core.api.params import MediaId
from media_core.api.tracing import api_tracer
from media_core.domain.access import Caller
from media_core.settings import manage_settings
from media_core.wiring import media_management, media_queries

logger = Logger()
tracer = api_tracer()  # the X-Ray SDK only on request: media_core.api.tracing
app = make_resolver(manage_settings(), logger)  # settings validated at cold start


def _caller() -> Caller:
    return current_caller(app, manage_settings().admin_group)


@app.post(
    "/media/batch-delete",
    summary="Delete up to 100 media; each id's outcome is reported",
    responses={**ok_response(BatchDeleteResult, "Outcome per id"), **documented_errors(401, 422)},
)
@tracer.capture_method
def batch_delete(request: Annotated[BatchDeleteRequest, Body()]) -> Response[BatchDeleteResult]:
    outcomes = media_management().batch_delete(_caller(), request.ids)
    return json_response(HTTPStatus.OK, BatchDeleteResult(results=outcomes))


@app.patch(
    "/media/<media_id>",
    summary="Change alt_text, caption, tags, visibility, the entity link or is_primary",
    responses={**ok_response(MediaView, "The changed record"), **documented_errors(401, 404, 409, 422)},
)
@tracer.capture_method
def update_media(media_id: MediaId, request: Annotated[MediaUpdate, Body()]) -> Response[MediaView]:
    record = media_management().update(_caller(), media_id, request)
    return json_response(HTTPStatus.OK, media_queries().view(record))


@app.delete(
    "/media/<media_id>",
    summary="Delete the original, every variant and the record (idempotent for the owner)",
    responses={204: {"description": "Deleted (or deleted before)"}, **documented_errors(401, 404, 422)},
)
@tracer.capture_method
def delete_media(media_id: MediaId) -> Response[None]:
    media_management().delete(_caller(), media_id)
    return Response(status_code=HTTPStatus.NO_CONTENT.value)


@app.post(
    "/media/<media_id>/reprocess",
    summary="Run processing again, through the same queue an upload takes",
    responses={
        **ok_response(ReprocessAccepted, "Queued", status=202),
        **documented_errors(401, 404, 409, 422),
    },
)
@tracer.capture_method
def reprocess_media(media_id: MediaId) -> Response[ReprocessAccepted]:
    record = media_management().reprocess(_caller(), media_id)
    return json_response(
        HTTPStatus.ACCEPTED, ReprocessAccepted(media_id=record.media_id, status=record.status)
    )


@app.patch(
    "/admin/media/<media_id>/moderation",
    summary="Approve, reject or flag media (admins)",
    responses={**ok_response(MediaView, "The moderated record"), **documented_errors(401, 403, 404, 422)},
)
@tracer.capture_method
def moderate_media(media_id: MediaId, request: Annotated[ModerationRequest, Body()]) -> Response[MediaView]:
    record = media_management().moderate(_caller(), media_id, request)
    return json_response(HTTPStatus.OK, media_queries().view(record))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
