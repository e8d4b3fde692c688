"""Management API (writes): PATCH/DELETE /media/{media_id}, POST /media/batch-delete,
POST /media/{media_id}/reprocess, PATCH /admin/media/{media_id}/moderation.

The routes, included in app.py's resolver when it is built (media_core.api.lazy)."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from media_core.api.http import (
    current_caller,
    documented_errors,
    json_response,
    no_content,
    ok_response,
)
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

logger = Logger(child=True)  # app.py's logger (the request context) writes its records
tracer = api_tracer()  # the X-Ray SDK only on request: media_core.api.tracing
router = Router()  # type: ignore[no-untyped-call]


def warm() -> None:
    """The services of these routes and their boto3 clients, built in Lambda's init phase
    (media_core.api.lazy); no AWS call is made."""
    media_management()
    media_queries()


def _caller() -> Caller:
    return current_caller(router, manage_settings().admin_group)


@router.post(
    "/media/batch-delete",
    summary="Delete up to 100 media; each id's outcome is reported",
    responses={**ok_response(BatchDeleteResult, "Outcome per id"), **documented_errors(400, 401, 415, 422)},
)
@tracer.capture_method
def batch_delete(request: Annotated[BatchDeleteRequest, Body()]) -> Response[BatchDeleteResult]:
    outcomes = media_management().batch_delete(_caller(), request.ids)
    return json_response(HTTPStatus.OK, BatchDeleteResult(results=outcomes))


@router.patch(
    "/media/<media_id>",
    summary="Change alt_text, caption, tags, visibility, the entity link or is_primary",
    responses={
        **ok_response(MediaView, "The changed record"),
        **documented_errors(400, 401, 404, 409, 415, 422),
    },
)
@tracer.capture_method
def update_media(media_id: MediaId, request: Annotated[MediaUpdate, Body()]) -> Response[MediaView]:
    record = media_management().update(_caller(), media_id, request)
    return json_response(HTTPStatus.OK, media_queries().view(record))


@router.delete(
    "/media/<media_id>",
    summary="Delete the original, every variant and the record (idempotent for the owner)",
    responses={**no_content("Deleted (or deleted before)"), **documented_errors(401, 404, 422)},
)
@tracer.capture_method
def delete_media(media_id: MediaId) -> Response[None]:
    media_management().delete(_caller(), media_id)
    return Response(status_code=HTTPStatus.NO_CONTENT.value)


@router.post(
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


@router.patch(
    "/admin/media/<media_id>/moderation",
    summary="Approve, reject or flag media (admins)",
    description="Only ready media is moderated; with `version`, a record changed since it was "
    "reviewed is refused (409) rather than judged unseen.",
    responses={
        **ok_response(MediaView, "The moderated record"),
        **documented_errors(400, 401, 403, 404, 409, 415, 422),
    },
)
@tracer.capture_method
def moderate_media(media_id: MediaId, request: Annotated[ModerationRequest, Body()]) -> Response[MediaView]:
    record = media_management().moderate(_caller(), media_id, request)
    return json_response(HTTPStatus.OK, media_queries().view(record))
