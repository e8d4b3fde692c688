"""Query API (reads): GET /media, /media/stats, /media/{media_id}, /media/{media_id}/download,
/media/{media_id}/hls/{playlist},
/media/{media_id}/activity, /entities/{type}/{id}/media, /admin/media, /openapi.json.

The routes, included in app.py's resolver when it is built (media_core.api.lazy)."""

from http import HTTPStatus
from importlib import resources
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from media_core.api.http import (
    api_base_url,
    current_caller,
    documented_errors,
    json_response,
    ok_response,
)
from media_core.api.models import Activity, MediaPage, MediaStats, MediaView
from media_core.api.params import Cursor, EntityId, EntityType, MediaId, OwnerId, PageSize
from media_core.api.tracing import api_tracer
from media_core.domain.access import Caller
from media_core.domain.models import Kind, Moderation, Status
from media_core.services.queries import MediaFilter
from media_core.settings import query_settings
from media_core.wiring import media_queries

logger = Logger(child=True)  # app.py's logger (the request context) writes its records
tracer = api_tracer()  # the X-Ray SDK only on request: media_core.api.tracing
router = Router()  # type: ignore[no-untyped-call]


def warm() -> None:
    """The services of these routes and their boto3 clients, built in Lambda's init phase
    (media_core.api.lazy): where transform keys are configured, their one Secrets Manager read
    per cold start happens there too."""
    media_queries()


def _caller() -> Caller:
    return current_caller(router, query_settings().admin_group)


@router.get(
    "/openapi.json",
    summary="This API's OpenAPI document",
    responses={
        200: {
            "description": "The OpenAPI 3 document",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **documented_errors(401),
    },
)
def openapi_document() -> Response[str]:
    text = resources.files("media_core").joinpath("openapi.json").read_text(encoding="utf-8")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=text)


# Registered before /media/<media_id>, which would otherwise take "stats" as an id.
@router.get(
    "/media/stats",
    summary="Counts by kind and status and total bytes (O(1): counters kept with every change)",
    responses={**ok_response(MediaStats, "The counters"), **documented_errors(401, 403, 422)},
)
@tracer.capture_method
def media_stats(
    scope: Annotated[
        str, Query(pattern=r"^(owner|all)$", description="`all`: everyone's (admins)")
    ] = "owner",
) -> Response[MediaStats]:
    return json_response(HTTPStatus.OK, media_queries().stats(_caller(), everyone=scope == "all"))


@router.get(
    "/media",
    summary="The caller's media, newest first",
    description="Filters combine (AND). Pagination: pass `next` back as `cursor`.",
    responses={**ok_response(MediaPage, "A page of records"), **documented_errors(401, 422)},
)
@tracer.capture_method
def list_media(
    kind: Annotated[Kind | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    moderation: Annotated[Moderation | None, Query()] = None,
    entity_type: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z][a-z0-9_-]{0,63}$",
            description="Media linked to an entity of this type (with entity_id: that one entity)",
        ),
    ] = None,
    entity_id: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9_.:-]{1,128}$",
            description="Media linked to an entity of this id, any type (with entity_type: that one entity)",
        ),
    ] = None,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response[MediaPage]:
    media_filter = MediaFilter(kind, status, tag, moderation, entity_type, entity_id)
    page = media_queries().list_mine(_caller(), media_filter, page_size=page_size, cursor=cursor)
    return json_response(HTTPStatus.OK, page)


@router.get(
    "/media/<media_id>",
    summary="One media record with variant URLs",
    description="Variant URLs are identical within a time window (CloudFront signed, or S3 "
    "presigned without a key pair or a CDN). Published public media: stable unsigned URLs under "
    "the CDN's /public/ path.",
    responses={**ok_response(MediaView, "The record"), **documented_errors(401, 404, 422)},
)
@tracer.capture_method
def get_media(media_id: MediaId) -> Response[MediaView]:
    return json_response(HTTPStatus.OK, media_queries().get(_caller(), media_id, api_base_url(router)))


@router.get(
    "/media/<media_id>/hls/<playlist>",
    summary="An HLS playlist (or the storyboard VTT) of a video, with every URI inside signed",
    description="`master.m3u8`, `{rendition}.m3u8`, `audio.m3u8` or `storyboard.vtt`, for whoever may see "
    "the media. Segment and init URIs are signed GETs of the media bucket; playlist URIs stay relative "
    "(the player asks this route again, with the same Authorization header).",
    responses={
        200: {
            "description": "The playlist (application/vnd.apple.mpegurl) or WebVTT (text/vtt)",
            "content": {"application/vnd.apple.mpegurl": {}, "text/vtt": {}},
        },
        **documented_errors(401, 404, 422),
    },
)
@tracer.capture_method
def streaming_playlist(
    media_id: MediaId,
    playlist: Annotated[
        str,
        Path(pattern=r"^([a-z0-9_]{1,32}\.m3u8|storyboard\.vtt)$", description="A playlist name"),
    ],
) -> Response[str]:
    text, content_type = media_queries().streaming_file(_caller(), media_id, playlist)
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type=content_type,
        body=text,
        headers={"Cache-Control": "private, no-store"},
    )


@router.get(
    "/media/<media_id>/download",
    summary="Redirect to a presigned GET of the original (or a variant), as an attachment",
    responses={
        302: {
            "description": "Location: the presigned URL (Content-Disposition: the sanitised file name)",
            "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
        },
        **documented_errors(401, 404, 409, 422),
    },
)
@tracer.capture_method
def download_media(
    media_id: MediaId,
    variant: Annotated[str | None, Query(pattern=r"^[a-z0-9_]{1,32}$", description="A variant name")] = None,
) -> Response[str]:
    url = media_queries().download_url(_caller(), media_id, variant)
    return Response(
        status_code=HTTPStatus.FOUND.value,
        content_type=content_types.TEXT_PLAIN,
        body="",
        headers={"Location": url, "Cache-Control": "no-store"},
    )


@router.get(
    "/media/<media_id>/activity",
    summary="The audit trail (owner and admins)",
    responses={**ok_response(Activity, "Entries, oldest first"), **documented_errors(401, 404, 422)},
)
@tracer.capture_method
def media_activity(media_id: MediaId) -> Response[Activity]:
    return json_response(HTTPStatus.OK, media_queries().activity(_caller(), media_id))


@router.get(
    "/entities/<entity_type>/<entity_id>/media",
    summary="An entity's gallery: the primary item first, then oldest first; what the caller may see",
    description="A gallery belongs to the entity's owner: the caller's by default, another user's with "
    "`owner` (then only what that user shows publicly).",
    responses={**ok_response(MediaPage, "A page of records"), **documented_errors(401, 404, 422)},
)
@tracer.capture_method
def entity_gallery(
    entity_type: EntityType,
    entity_id: EntityId,
    owner: OwnerId = None,
    page_size: PageSize = 50,
    cursor: Cursor = None,
) -> Response[MediaPage]:
    page = media_queries().gallery(
        _caller(), entity_type, entity_id, owner=owner, page_size=page_size, cursor=cursor
    )
    return json_response(HTTPStatus.OK, page)


@router.get(
    "/admin/media",
    summary="Everyone's media by moderation status, newest first (admins)",
    responses={**ok_response(MediaPage, "A page of records"), **documented_errors(401, 403, 422)},
)
@tracer.capture_method
def admin_media(
    moderation: Annotated[Moderation, Query()] = Moderation.PENDING,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response[MediaPage]:
    page = media_queries().moderation_queue(_caller(), moderation, page_size=page_size, cursor=cursor)
    return json_response(HTTPStatus.OK, page)
