"""Transform function: signed on-demand image transformations behind CloudFront.

A Lambda function URL (AuthType AWS_IAM, reached only through the distribution's Origin Access
Control) receives `GET /t/{media_id}/{options}/{signature}`; the CloudFront Function has already
normalised `Accept` to image/avif | image/webp | image/jpeg (the cache key). Locally the gateway's
`/cdn/t/...` calls this handler with the same event shape (local_stack.cdn).

403: not signed by an active key, expired, or revoked (no work is done); 400: signed but
malformed or over the caps; 404: no such image; 302: a rendition too big for a response body,
stored and redirected to."""

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.api.tracing import api_tracer
from media_core.domain.errors import MediaRejected, NotFound
from media_core.domain.transform import InvalidSignature, InvalidTransform
from media_core.services.transforms import Rendition
from media_core.settings import transform_settings
from media_core.wiring import transform_service

logger = Logger()
tracer = api_tracer()  # a CDN miss waits for this cold start: the X-Ray SDK only on request
transform_settings()  # validated at cold start
transform_service()  # signing keys read once per cold start


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        # Errors may be cached briefly at the edge (a flood of bad URLs stays cheap), never for long.
        "headers": {"Content-Type": "application/json", "Cache-Control": "public, max-age=10"},
        "body": json.dumps({"error": code, "message": message}),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or "GET").upper()
    if method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", f"{method} is not allowed; use GET")
    path = str(event.get("rawPath") or "/")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    try:
        result = transform_service().serve(path, headers.get("accept"))
    except InvalidSignature as err:
        logger.info("transform refused", reason=str(err))
        return _error(403, "forbidden", str(err))
    except InvalidTransform as err:
        return _error(400, "bad_request", str(err))
    except NotFound as err:
        return _error(404, "not_found", err.message)
    except MediaRejected as err:
        return _error(422, "unprocessable", err.message)
    if isinstance(result, Rendition):
        logger.info("transform rendered", source=result.source, bytes=len(result.data))
        return {
            "statusCode": 200,
            "headers": result.headers,
            "body": base64.b64encode(result.data).decode() if method == "GET" else "",
            "isBase64Encoded": method == "GET",
        }
    logger.info("transform redirected", key=result.key)
    return {"statusCode": 302, "headers": result.headers, "body": "", "isBase64Encoded": False}
