"""The REST API Lambda proxy event (payload format 1.0), built as API Gateway builds it."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import parse_qsl

from local_stack.routes import Route


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value  # API Gateway keeps the last value
        multi.setdefault(key, []).append(value)
    return single, multi


def proxy_event(
    route: Route,
    params: dict[str, str],
    *,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    claims: dict[str, str] | None,
    request_id: str,
    protocol: str,
) -> dict[str, Any]:
    """The REST API Lambda proxy event (payload format 1.0), as API Gateway builds it."""
    single_headers, multi_headers = _multi(headers)
    single_query, multi_query = _multi(parse_qsl(query, keep_blank_values=True))
    now = time.time()
    text: str | None
    encoded = False
    if not body:
        text = None
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    host = (single_headers or {}).get("Host") or (single_headers or {}).get("host") or ""
    context: dict[str, Any] = {
        "accountId": route.function.spec.arn.split(":")[4],
        "apiId": route.api.api_id,
        "resourceId": route.resource_id,
        "resourcePath": route.path,
        "httpMethod": method,
        "path": f"/{route.api.stage}{path}",
        "stage": route.api.stage,
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "protocol": protocol,
        "domainName": host,
        "domainPrefix": host.split(".")[0].split(":")[0],
        "identity": {
            "sourceIp": source_ip,
            "userAgent": (single_headers or {}).get("User-Agent"),
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "user": None,
            "userArn": None,
        },
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }
