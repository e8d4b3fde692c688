"""An API Gateway (REST, Lambda proxy) stand-in on 127.0.0.1: the HTTP server. Routing is in
local_stack.routes, the proxy event in local_stack.proxy_event; requests no route takes go to the
page's static files (local_stack.static_files) or the dev sign-in (local_stack.dev_sign_in)."""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from local_stack import LOCAL_HOST
from local_stack.auth import AuthError, Authorizer
from local_stack.cdn import LocalCdn
from local_stack.dev_sign_in import DEV_SIGN_IN_PATH, sign_in_answer
from local_stack.functions import FunctionError
from local_stack.proxy_event import proxy_event
from local_stack.routes import ApiSpec, Route, build_routes, find_route
from local_stack.static_files import static_file
from local_stack.token import DevSignIn

__all__ = ["Gateway", "Route", "build_routes", "find_route"]

log = logging.getLogger("local_stack.gateway")

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit
GATEWAY_ERROR_CODES = {401: "unauthorized", 403: "forbidden", 413: "too_large"}


class Gateway:
    """Bind first (port 0 = ephemeral, so the origin is known before the template is resolved),
    set routes, then serve."""

    def __init__(self, port: int = 0, *, web_dir: Path | None = None) -> None:
        self.routes: list[Route] = []
        self.authorizer: Authorizer | None = None
        self.dev_sign_in: DevSignIn | None = None
        self.cdn: LocalCdn | None = None  # /cdn/... (local_stack.cdn)
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
        if self.gateway.cdn is not None and self.gateway.cdn.serves(path):
            self._send(
                *self.gateway.cdn.respond(
                    method, self.path, list(self.headers.items()), self.client_address[0]
                )
            )
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
        if method != "POST":
            headers.append(("Allow", "POST"))
        status, body = sign_in_answer(
            self.gateway.dev_sign_in,
            method=method,
            host_header=self.headers.get("Host") or "",
            client_ip=self.client_address[0],
            body=self._read_body() if method == "POST" else b"",
        )
        self._send(status, headers, body)

    def _static(self, path: str) -> bool:
        found = static_file(self.gateway.web_dir, path)
        if found is None:
            return False
        content_type, data = found
        self._send(200, [("Content-Type", content_type), ("Cache-Control", "no-cache")], data)
        return True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle  # noqa: N815
