"""The one place where domain errors become HTTP responses, and where the caller is read from
the request context. Every API function registers these on its resolver."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from media_core.api.models import ErrorBody
from media_core.domain.access import Caller, caller_from_claims
from media_core.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidRequest,
    NotFound,
    QuotaExceeded,
    TooLarge,
    Unauthorized,
    UnsupportedType,
)
from media_core.settings import CommonSettings

STATUS_BY_ERROR: tuple[tuple[type[DomainError], HTTPStatus, str], ...] = (
    (InvalidRequest, HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error"),
    (TooLarge, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large"),
    (UnsupportedType, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_type"),
    (NotFound, HTTPStatus.NOT_FOUND, "not_found"),
    (Forbidden, HTTPStatus.FORBIDDEN, "forbidden"),
    (Unauthorized, HTTPStatus.UNAUTHORIZED, "unauthorized"),
    (Conflict, HTTPStatus.CONFLICT, "conflict"),
    (QuotaExceeded, HTTPStatus.TOO_MANY_REQUESTS, "quota_exceeded"),
)


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "A malformed request (a body that is not UTF-8 JSON)",
    401: "No valid token",
    403: "For admins only",
    404: "Unknown id, or not the caller's",
    409: "The record's state does not allow this",
    413: "Larger than the kind's limit",
    415: "Type not allowed (the file's, or the request body's Content-Type)",
    422: "A field breaks a rule (the message names it)",
    429: "A quota or rate limit is reached (the message gives the limit and the use)",
}


def documented_errors(*codes: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for the error responses a route can give (all share ErrorBody)."""
    return {
        code: {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {"model": ErrorBody}}}
        for code in codes
    }


def error_response(
    status: HTTPStatus, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> Response[Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = details
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


def ok_response(model: type, description: str, status: int = 200) -> dict[int, OpenAPIResponse]:
    """The OpenAPI entry of a route's success response."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def no_content(description: str) -> dict[int, OpenAPIResponse]:
    """The OpenAPI entry of a 204 (no body: not the `null` JSON Powertools infers from `Response[None]`)."""
    return {204: {"description": description, "content": {}}}


def json_response(status: HTTPStatus, model: BaseModel) -> Response[Any]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump(mode="json"),
    )


def is_json_content_type(content_type: str) -> bool:
    """As Powertools reads a request body: no Content-Type, or application/json (any parameters)."""
    return not content_type.strip() or content_type.strip().lower().startswith("application/json")


class UnparsableBody(ValueError):
    """Valid JSON that Python's parser refuses: an integer longer than its conversion limit, or
    nesting deeper than the recursion limit. The caller's fault, as a syntax error is."""


def parse_json_body(text: str) -> Any:
    """The resolver's body parser: json.loads, with its two non-syntax failures made UnparsableBody."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError as err:
        raise UnparsableBody("the JSON nests too deeply") from err
    except ValueError as err:  # int() past sys.get_int_max_str_digits()
        raise UnparsableBody("a number in the JSON has too many digits") from err


def _field_path(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def register_error_handlers(app: APIGatewayRestResolver, logger: Logger) -> None:
    @app.exception_handler(RequestValidationError)
    def _validation(err: RequestValidationError) -> Response[Any]:
        details = [
            {"field": "body", "rule": "json_invalid", "message": "the request body is not valid JSON"}
            if e.get("type") == "json_invalid"
            else {
                "field": _field_path(e.get("loc", ())),
                "rule": e.get("type"),
                "message": e.get("msg", "invalid"),
            }
            for e in err.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", summary, details)

    @app.exception_handler(DomainError)
    def _domain(err: DomainError) -> Response[Any]:
        for error_type, status, code in STATUS_BY_ERROR:
            if isinstance(err, error_type):
                details = [{"field": err.field}] if isinstance(err, InvalidRequest) else None
                return error_response(status, code, err.message, details)
        logger.error("unmapped domain error", exc_info=err)
        return error_response(HTTPStatus.BAD_REQUEST, "bad_request", err.message)

    @app.exception_handler(UnicodeError)
    @app.exception_handler(json.JSONDecodeError)
    def _malformed_body(_: ValueError) -> Response[Any]:
        # A body that is not UTF-8 JSON never reaches validation: still the caller's fault.
        details = [{"field": "body", "rule": "json_invalid", "message": "the request body is not UTF-8 JSON"}]
        return error_response(HTTPStatus.BAD_REQUEST, "bad_request", "body: not UTF-8 JSON", details)

    @app.exception_handler(UnparsableBody)
    def _unparsable_body(err: UnparsableBody) -> Response[Any]:
        details = [{"field": "body", "rule": "json_unparsable", "message": str(err)}]
        return error_response(HTTPStatus.BAD_REQUEST, "bad_request", f"body: {err}", details)

    @app.not_found
    def _no_route(_: NotFoundError) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    def _internal_error() -> Response[Any]:
        # Never a stack trace in a response; the log has it.
        logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error")

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response[Any]:
        return _internal_error()

    @app.exception_handler(RequestUnsupportedContentType)
    @app.exception_handler(ValueError)
    def _not_json(err: Exception) -> Response[Any]:
        # Powertools parses JSON, form and multipart bodies (a multipart one without a boundary
        # raises ValueError); the API takes JSON only. Any other ValueError is a bug: 500.
        content_type = app.current_event.headers.get("content-type") or ""
        if not isinstance(err, RequestUnsupportedContentType) and is_json_content_type(content_type):
            return _internal_error()
        message = f"Content-Type {content_type[:100]!r} is not accepted: send application/json"
        details = [{"field": "Content-Type", "rule": "unsupported_content_type", "message": message}]
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_type", message, details)


def make_resolver(settings: CommonSettings, logger: Logger) -> APIGatewayRestResolver:
    """A validating REST resolver with CORS for the configured origins and the error map."""
    origins = settings.origins or ["http://localhost:3000"]
    cors = CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    app = APIGatewayRestResolver(enable_validation=True, cors=cors, json_body_deserializer=parse_json_body)
    register_error_handlers(app, logger)
    return app


def rest_event(router: BaseRouter) -> APIGatewayProxyEvent:
    """The current request (a REST resolver's, or a router's included in one)."""
    return cast(APIGatewayProxyEvent, router.current_event)


def current_caller(router: BaseRouter, admin_group: str) -> Caller:
    claims = rest_event(router).request_context.authorizer.claims
    return caller_from_claims(claims, admin_group)


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def api_base_url(router: BaseRouter) -> str:
    """This API's URL as the caller reached it: `X-Forwarded-Proto` (API Gateway sets it; http for
    a loopback host without it), the Host header, and the stage on an execute-api domain (a custom
    domain's base path mapping is assumed at its root)."""
    event = rest_event(router)
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    host = headers.get("host") or event.request_context.domain_name or "localhost"
    loopback = host.split(":")[0] in _LOOPBACK_HOSTS or host.startswith("[::1]")
    proto = headers.get("x-forwarded-proto") or ("http" if loopback else "https")
    stage = event.request_context.stage
    prefix = f"/{stage}" if ".execute-api." in host and stage else ""
    return f"{proto}://{host}{prefix}"
