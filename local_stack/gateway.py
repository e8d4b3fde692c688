"""An API Gateway (REST, Lambda proxy) stand-in on 127.0.0.1: routes from the functions' `Api`
events, the Cognito authorizer's checks, proxy events v1, gateway responses; plus static files
from `web/` for GET requests no route matches, and local-only dev sign-in (`POST /_local/token`,
the stand-in for Cognito's sign-in that the page in `web/` uses; never part of the template)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import mimetypes
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local_stack import LOCAL_HOST
from local_stack.auth import AuthError, Authorizer
from local_stack.functions import FunctionError, LocalFunction
from local_stack.resolve import Resolver, TemplateError
from local_stack.token import DevSignIn, DevSignInError

log = logging.getLogger("local_stack.gateway")

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
API_TYPES = ("AWS::Serverless::Api",)
# Gateway response types of the errors the local gateway makes itself.
RESPONSE_TYPES = {401: "UNAUTHORIZED", 403: "MISSING_AUTHENTICATION_TOKEN", 413: "REQUEST_TOO_LARGE"}
GATEWAY_ERROR_CODES = {401: "unauthorized", 403: "forbidden", 413: "too_large"}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
DEV_SIGN_IN_PATH = "/_local/token"


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    api_id: str
    stage: str
    default_authorizer: str | None
    authorizers: frozenset[str]
    gateway_headers: dict[str, dict[str, str]] = field(default_factory=dict)  # response type -> headers

    def error_headers(self, status: int) -> dict[str, str]:
        specific = RESPONSE_TYPES.get(status, "")
        default = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        return {**self.gateway_headers.get(default, {}), **self.gateway_headers.get(specific, {})}


@dataclass
class Route:
    path: str
    method: str  # upper case, or ANY
    function: LocalFunction
    api: ApiSpec
    authorized: bool
    segments: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.segments = [s for s in self.path.split("/") if s]
        self.resource_id = hashlib.sha256(self.path.encode()).hexdigest()[:6]

    def specificity(self) -> tuple[tuple[int, ...], int]:
        kinds = tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments)
        return kinds, 1 if self.method == "ANY" else 0

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                if i >= len(parts):
                    return None
                params[segment[1:-2]] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                params[segment[1:-1]] = parts[i]
            elif segment != parts[i]:
                return None
        return params if len(parts) == len(self.segments) else None


def api_specs(resolver: Resolver) -> dict[str, ApiSpec]:
    """Serverless::Api resources by their Ref (the id `RestApiId` resolves to)."""
    specs: dict[str, ApiSpec] = {}
    for lid, res in resolver.resources.items():
        if res.get("Type") not in API_TYPES or not resolver.enabled(lid):
            continue
        props = resolver.resolve(resolver.properties(lid))
        auth = props.get("Auth") or {}
        authorizers = auth.get("Authorizers") or {}
        for name, conf in authorizers.items():
            if "UserPoolArn" not in conf:
                raise TemplateError(f"{lid}: authorizer {name} is not a Cognito authorizer; not emulated")
        headers: dict[str, dict[str, str]] = {}
        for rtype, conf in (props.get("GatewayResponses") or {}).items():
            raw = ((conf.get("ResponseParameters") or {}).get("Headers")) or {}
            headers[rtype] = {k: str(v).strip("'") for k, v in raw.items()}
        if props.get("Cors"):
            log.warning("%s: Api-level Cors preflights are not emulated; route OPTIONS to a function", lid)
        api_id = str(resolver.ref(lid))
        specs[api_id] = ApiSpec(
            lid,
            api_id,
            str(props.get("StageName", "Prod")),
            auth.get("DefaultAuthorizer"),
            frozenset(authorizers),
            headers,
        )
    return specs


def build_routes(resolver: Resolver, functions: Mapping[str, LocalFunction]) -> list[Route]:
    apis = api_specs(resolver)
    implicit = ApiSpec("ServerlessRestApi", "local", "Prod", None, frozenset())
    routes = []
    for fn in functions.values():
        for event in fn.spec.events:
            if event.type != "Api":
                continue
            props = event.properties
            api = apis.get(str(props.get("RestApiId")), implicit) if props.get("RestApiId") else implicit
            authorizer = (props.get("Auth") or {}).get("Authorizer", api.default_authorizer)
            if authorizer not in (None, "NONE", "AWS_IAM") and authorizer not in api.authorizers:
                raise TemplateError(f"{fn.spec.logical_id}.{event.name}: unknown authorizer {authorizer}")
            if authorizer == "AWS_IAM":
                raise TemplateError(f"{fn.spec.logical_id}.{event.name}: IAM auth is not emulated")
            routes.append(
                Route(
                    str(props["Path"]),
                    str(props["Method"]).upper(),
                    fn,
                    api,
                    authorized=authorizer not in (None, "NONE"),
                )
            )
    return routes


def find_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    parts = [p for p in path.split("/") if p]
    best: tuple[Any, Route, dict[str, str]] | None = None
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        params = route.match(parts)
        if params is not None and (best is None or route.specificity() < best[0]):
            best = (route.specificity(), route, params)
    return (best[1], best[2]) if best else None


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


class Gateway:
    """Bind first (port 0 = ephemeral, so the origin is known before the template is resolved),
    set routes, then serve."""

    def __init__(self, port: int = 0, *, web_dir: Path | None = None) -> None:
        self.routes: list[Route] = []
        self.authorizer: Authorizer | None = None
        self.dev_sign_in: DevSignIn | None = None
        self.web_dir = web_dir if web_dir is not None and web_dir.is_dir() else None
        self._server = ThreadingHTTPServer((LOCAL_HOST, port), _make_handler(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}"

    @property
    def origins(self) -> list[str]:
        return [self.url, f"http://localhost:{self.port}"]

    def start(
        self, routes: list[Route], authorizer: Authorizer, dev_sign_in: DevSignIn | None = None
    ) -> None:
        self.routes, self.authorizer, self.dev_sign_in = routes, authorizer, dev_sign_in
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


def _make_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(_GatewayHandler):
        pass

    Handler.gateway = gateway
    return Handler


class _GatewayHandler(BaseHTTPRequestHandler):
    gateway: Gateway
    server_version = "local-api-gateway"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_PAYLOAD_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        names = {k.lower() for k, _ in headers}
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        if "content-type" not in names:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _gateway_error(self, status: int, message: str, api: ApiSpec | None, request_id: str) -> None:
        headers = list((api.error_headers(status) if api else {}).items())
        headers.append(("x-amzn-RequestId", request_id))
        # As the template's GatewayResponses: the documented {error, message} body.
        code = GATEWAY_ERROR_CODES.get(status, "bad_request")
        self._send(status, headers, json.dumps({"error": code, "message": message}).encode())

    def _handle(self) -> None:
        request_id = str(uuid.uuid4())
        split = urlsplit(self.path)
        path = unquote(split.path) or "/"
        method = self.command
        if path == DEV_SIGN_IN_PATH and self.gateway.dev_sign_in is not None:
            self._dev_sign_in(method, request_id)
            return
        found = find_route(self.gateway.routes, method, path)
        if found is None and method == "HEAD":
            found = find_route(self.gateway.routes, "GET", path)
        if found is None:
            if method in ("GET", "HEAD") and self._static(path):
                return
            log.info("api %s %s -> 403 (no route)", method, path)
            any_api = self.gateway.routes[0].api if self.gateway.routes else None
            self._gateway_error(403, "Missing Authentication Token", any_api, request_id)
            return
        route, params = found
        body = self._read_body()
        if body is None:
            self._gateway_error(413, "Request Too Long", route.api, request_id)
            return
        claims: dict[str, str] | None = None
        if route.authorized:
            assert self.gateway.authorizer is not None
            try:
                claims = self.gateway.authorizer.claims(self.headers.get("Authorization"))
            except AuthError as err:
                log.info("api %s %s -> 401 (authorizer: %s)", method, path, err.message)
                self._gateway_error(401, err.message, route.api, request_id)
                return
        event = proxy_event(
            route,
            params,
            method=method,
            path=path,
            query=split.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            claims=claims,
            request_id=request_id,
            protocol=self.request_version,
        )
        try:
            result = route.function.invoke(event, f"api {method} {route.path}")
        except FunctionError:
            self._gateway_error(502, "Internal server error", route.api, request_id)
            return
        self._respond(result, route, request_id)

    def _respond(self, result: Any, route: Route, request_id: str) -> None:
        if not isinstance(result, Mapping) or not isinstance(result.get("statusCode"), int | str):
            log.error("%s returned a malformed proxy response: %r", route.function.spec.logical_id, result)
            self._gateway_error(502, "Internal server error", route.api, request_id)
            return
        headers: list[tuple[str, str]] = []
        multi = result.get("multiValueHeaders") or {}
        for key, values in multi.items():
            headers += [(key, str(v)) for v in values]
        for key, value in (result.get("headers") or {}).items():
            if key not in multi:
                headers.append((key, str(value)))
        headers.append(("x-amzn-RequestId", request_id))
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        self._send(int(result["statusCode"]), headers, body)

    def _dev_sign_in(self, method: str, request_id: str) -> None:
        assert self.gateway.dev_sign_in is not None
        headers = [("x-amzn-RequestId", request_id), ("Cache-Control", "no-store")]
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        if host not in LOOPBACK_HOSTS or self.client_address[0] not in ("127.0.0.1", "::1"):
            # Admin tokens for anyone: only on this machine, and never through a rebound DNS name.
            self._send(403, headers, json.dumps({"error": "forbidden", "message": "loopback only"}).encode())
            return
        if method != "POST":
            headers.append(("Allow", "POST"))
            self._send(405, headers, json.dumps({"error": "method_not_allowed", "message": "POST"}).encode())
            return
        body = self._read_body()
        try:
            if body is None:
                raise DevSignInError("the body is too large")
            answer = self.gateway.dev_sign_in.answer(body)
        except DevSignInError as err:
            self._send(400, headers, json.dumps({"error": "validation_error", "message": str(err)}).encode())
            return
        log.info("dev sign-in: %s%s", answer["username"], " (admin)" if answer["admin"] else "")
        self._send(200, headers, json.dumps(answer).encode())

    def _static(self, path: str) -> bool:
        web = self.gateway.web_dir
        if web is None:
            return False
        if path == "/":
            relative = "index.html"
        elif path.startswith("/web/"):
            relative = path[len("/web/") :] or "index.html"
        else:
            return False
        root = web.resolve()
        file = (root / relative).resolve()
        if file.is_dir():
            file = file / "index.html"
        if not file.is_relative_to(root) or not file.is_file():
            return False
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        self._send(200, [("Content-Type", content_type), ("Cache-Control", "no-cache")], file.read_bytes())
        return True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle  # noqa: N815
