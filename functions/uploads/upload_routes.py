"""Upload API: POST /uploads, POST /uploads/{media_id}/complete, DELETE /uploads/{media_id}, the
parts routes, GET /uploads/limits, and Uppy's S3 contract under /s3 (docs/uppy.md).

The routes, included in app.py's resolver when it is built (media_core.api.lazy)."""

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from media_core.api.http import (
    current_caller,
    documented_errors,
    json_response,
    no_content,
    ok_response,
)
from media_core.api.models import (
    CompleteRequest,
    SignedParts,
    SignPartsRequest,
    UploadCreated,
    UploadedParts,
    UploadLimits,
    UploadRequest,
    UppyCompleted,
    UppyCompleteRequest,
    UppyMultipartCreated,
    UppyMultipartRequest,
    UppyPart,
    UppySignedPart,
    UppyUploadParameters,
)
from media_core.api.params import MediaId, PartNumber, UploadId, UploadKey
from media_core.api.tracing import api_tracer
from media_core.domain.access import Caller
from media_core.settings import upload_settings
from media_core.wiring import upload_service, uppy_service

logger = Logger(child=True)  # app.py's logger (the request context) writes its records
tracer = api_tracer()  # the X-Ray SDK only on request: media_core.api.tracing
router = Router()  # type: ignore[no-untyped-call]


def warm() -> None:
    """The services of these routes and their boto3 clients, built in Lambda's init phase
    (media_core.api.lazy); no AWS call is made."""
    uppy_service()  # and the upload service it wraps


@router.post(
    "/uploads",
    summary="Start an upload",
    description="Returns a presigned POST (or multipart part URLs) for a direct upload to the bucket.",
    responses={
        201: {"description": "Upload started", "content": {"application/json": {"model": UploadCreated}}},
        **documented_errors(400, 401, 413, 415, 422, 429),
    },
)
@tracer.capture_method
def create_upload(request: Annotated[UploadRequest, Body()]) -> Response[UploadCreated]:
    caller = current_caller(router, upload_settings().admin_group)
    created = upload_service().create(caller, request)
    logger.info("upload started", media_id=created.media_id, kind=created.kind, method=created.upload.method)
    return json_response(HTTPStatus.CREATED, created)


@router.post(
    "/uploads/<media_id>/complete",
    summary="Complete a multipart upload",
    responses={
        202: {"description": "Completed; processing follows"},
        **documented_errors(400, 401, 404, 409, 413, 415, 422),
    },
)
@tracer.capture_method
def complete_upload(
    media_id: MediaId, request: Annotated[CompleteRequest, Body()]
) -> Response[dict[str, str]]:
    caller = current_caller(router, upload_settings().admin_group)
    record = upload_service().complete(caller, media_id, request)
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type="application/json",
        body={"media_id": record.media_id, "status": record.status.value},
    )


@router.get(
    "/uploads/<media_id>/parts",
    summary="The parts of a multipart upload the bucket already holds (resume from here)",
    responses={
        **ok_response(UploadedParts, "Parts uploaded so far"),
        **documented_errors(401, 404, 409, 422),
    },
)
@tracer.capture_method
def uploaded_parts(media_id: MediaId) -> Response[UploadedParts]:
    caller = current_caller(router, upload_settings().admin_group)
    return json_response(HTTPStatus.OK, upload_service().uploaded_parts(caller, media_id))


@router.post(
    "/uploads/<media_id>/parts",
    summary="Sign more part URLs of a multipart upload, each for its exact size",
    responses={**ok_response(SignedParts, "Part URLs"), **documented_errors(400, 401, 404, 409, 415, 422)},
)
@tracer.capture_method
def sign_parts(media_id: MediaId, request: Annotated[SignPartsRequest, Body()]) -> Response[SignedParts]:
    caller = current_caller(router, upload_settings().admin_group)
    return json_response(HTTPStatus.OK, upload_service().sign_parts(caller, media_id, request.part_numbers))


@router.delete(
    "/uploads/<media_id>",
    summary="Abort an upload that has not been processed",
    responses={**no_content("Aborted"), **documented_errors(401, 404, 409, 422)},
)
@tracer.capture_method
def abort_upload(media_id: MediaId) -> Response[None]:
    upload_service().abort(current_caller(router, upload_settings().admin_group), media_id)
    return Response(status_code=HTTPStatus.NO_CONTENT.value)


@router.get(
    "/uploads/limits",
    summary="The upload limits: size per kind, multipart threshold and part size",
    responses={**ok_response(UploadLimits, "Limits"), **documented_errors(401)},
)
@tracer.capture_method
def upload_limits() -> Response[UploadLimits]:
    current_caller(router, upload_settings().admin_group)
    return json_response(HTTPStatus.OK, upload_service().limits())


# ---------------------------------------------------------------- Uppy's S3 contract (docs/uppy.md)
UPPY_TAG = ["Uppy S3 contract"]


def _caller() -> Caller:
    return current_caller(router, upload_settings().admin_group)


def _metadata_query() -> dict[str, str]:
    """Uppy sends the file's meta as `metadata[name]=value` query parameters."""
    query = router.current_event.query_string_parameters or {}
    return {
        k[len("metadata[") : -1]: v for k, v in query.items() if k.startswith("metadata[") and k.endswith("]")
    }


@router.get(
    "/s3/params",
    summary="Uppy: a presigned POST for a single upload",
    description="`metadata[size]` (bytes) is required; other `metadata[...]` fields: entity_type, "
    "entity_id, visibility, tags (comma-separated), alt_text, caption.",
    tags=UPPY_TAG,
    responses={
        **ok_response(UppyUploadParameters, "Send every field, then the file as `file`"),
        **documented_errors(401, 413, 415, 422, 429),
    },
)
@tracer.capture_method
def uppy_params(
    filename: Annotated[str, Query(min_length=1, max_length=255)],
    type: Annotated[str, Query(min_length=3, max_length=255)],
) -> Response[UppyUploadParameters]:
    return json_response(HTTPStatus.OK, uppy_service().params(_caller(), filename, type, _metadata_query()))


@router.post(
    "/s3/multipart",
    summary="Uppy: start a multipart upload (`metadata.size` required)",
    tags=UPPY_TAG,
    responses={
        **ok_response(UppyMultipartCreated, "The server-made key and the upload id"),
        **documented_errors(401, 413, 415, 422, 429),
    },
)
@tracer.capture_method
def uppy_create_multipart(request: Annotated[UppyMultipartRequest, Body()]) -> Response[UppyMultipartCreated]:
    created = uppy_service().create_multipart(_caller(), request)
    logger.info("uppy multipart upload started", key=created.key)
    return json_response(HTTPStatus.OK, created)


@router.get(
    "/s3/multipart/<uploadId>",
    summary="Uppy: the parts the bucket already holds (ListParts, every page)",
    tags=UPPY_TAG,
    responses={
        200: {
            "description": "Parts uploaded so far",
            "content": {
                "application/json": {
                    # Inline: a bare list return type registers no component for the item model.
                    "schema": {"type": "array", "items": UppyPart.model_json_schema()}
                }
            },
        },
        **documented_errors(401, 404, 409, 422),
    },
)
@tracer.capture_method
def uppy_list_parts(uploadId: UploadId, key: UploadKey) -> Response[list[dict[str, Any]]]:  # noqa: N803
    parts = uppy_service().list_parts(_caller(), uploadId, key)
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type="application/json",
        body=[p.model_dump(mode="json") for p in parts],
    )


@router.get(
    "/s3/multipart/<uploadId>/<partNumber>",
    summary="Uppy: sign one part's PUT, for its exact Content-Length",
    tags=UPPY_TAG,
    responses={**ok_response(UppySignedPart, "The part URL"), **documented_errors(401, 404, 409, 422)},
)
@tracer.capture_method
def uppy_sign_part(uploadId: UploadId, partNumber: PartNumber, key: UploadKey) -> Response[UppySignedPart]:  # noqa: N803
    return json_response(HTTPStatus.OK, uppy_service().sign_part(_caller(), uploadId, key, partNumber))


@router.post(
    "/s3/multipart/<uploadId>/complete",
    summary="Uppy: complete a multipart upload (the parts must add up to the declared size)",
    tags=UPPY_TAG,
    responses={
        **ok_response(UppyCompleted, "Completed; processing follows"),
        **documented_errors(401, 404, 409, 413, 422),
    },
)
@tracer.capture_method
def uppy_complete(
    uploadId: UploadId,  # noqa: N803
    key: UploadKey,
    request: Annotated[UppyCompleteRequest, Body()],
) -> Response[UppyCompleted]:
    return json_response(HTTPStatus.OK, uppy_service().complete(_caller(), uploadId, key, request))


@router.delete(
    "/s3/multipart/<uploadId>",
    summary="Uppy: abort a multipart upload (its parts and its record are removed)",
    tags=UPPY_TAG,
    responses={
        200: {"description": "Aborted (an empty JSON object, as Uppy reads JSON)"},
        **documented_errors(401, 404, 409, 422),
    },
)
@tracer.capture_method
def uppy_abort(uploadId: UploadId, key: UploadKey) -> Response[dict[str, str]]:  # noqa: N803
    uppy_service().abort(_caller(), uploadId, key)
    return Response(status_code=HTTPStatus.OK.value, content_type="application/json", body={})
