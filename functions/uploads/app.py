"""Upload API: POST /uploads, POST /uploads/{media_id}/complete, DELETE /uploads/{media_id}."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.api.http import current_caller, documented_errors, json_response, make_resolver, ok_response
from media_core.api.models import (
    CompleteRequest,
    SignedParts,
    SignPartsRequest,
    UploadCreated,
    UploadedParts,
    UploadRequest,
)
from media_core.api.params import MediaId
from media_core.settings import upload_settings
from media_core.wiring import upload_service

logger = Logger()
tracer = Tracer()
app = make_resolver(upload_settings(), logger)  # settings validated at cold start


@app.post(
    "/uploads",
    summary="Start an upload",
    description="Returns a presigned POST (or multipart part URLs) for a direct upload to the bucket.",
    responses={
        201: {"description": "Upload started", "content": {"application/json": {"model": UploadCreated}}},
        **documented_errors(401, 413, 415, 422, 429),
    },
)
@tracer.capture_method
def create_upload(request: Annotated[UploadRequest, Body()]) -> Response[UploadCreated]:
    caller = current_caller(app, upload_settings().admin_group)
    created = upload_service().create(caller, request)
    logger.info("upload started", media_id=created.media_id, kind=created.kind, method=created.upload.method)
    return json_response(HTTPStatus.CREATED, created)


@app.post(
    "/uploads/<media_id>/complete",
    summary="Complete a multipart upload",
    responses={
        202: {"description": "Completed; processing follows"},
        **documented_errors(401, 404, 409, 413, 422),
    },
)
@tracer.capture_method
def complete_upload(
    media_id: MediaId, request: Annotated[CompleteRequest, Body()]
) -> Response[dict[str, str]]:
    record = upload_service().complete(current_caller(app, upload_settings().admin_group), media_id, request)
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type="application/json",
        body={"media_id": record.media_id, "status": record.status.value},
    )


@app.get(
    "/uploads/<media_id>/parts",
    summary="The parts of a multipart upload the bucket already holds (resume from here)",
    responses={
        **ok_response(UploadedParts, "Parts uploaded so far"),
        **documented_errors(401, 404, 409, 422),
    },
)
@tracer.capture_method
def uploaded_parts(media_id: MediaId) -> Response[UploadedParts]:
    caller = current_caller(app, upload_settings().admin_group)
    return json_response(HTTPStatus.OK, upload_service().uploaded_parts(caller, media_id))


@app.post(
    "/uploads/<media_id>/parts",
    summary="Sign more part URLs of a multipart upload, each for its exact size",
    responses={**ok_response(SignedParts, "Part URLs"), **documented_errors(401, 404, 409, 422)},
)
@tracer.capture_method
def sign_parts(media_id: MediaId, request: Annotated[SignPartsRequest, Body()]) -> Response[SignedParts]:
    caller = current_caller(app, upload_settings().admin_group)
    return json_response(HTTPStatus.OK, upload_service().sign_parts(caller, media_id, request.part_numbers))


@app.delete(
    "/uploads/<media_id>",
    summary="Abort an upload that has not been processed",
    responses={204: {"description": "Aborted"}, **documented_errors(401, 404, 409, 422)},
)
@tracer.capture_method
def abort_upload(media_id: MediaId) -> Response[None]:
    upload_service().abort(current_caller(app, upload_settings().admin_group), media_id)
    return Response(status_code=HTTPStatus.NO_CONTENT.value)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
