"""The embedded AWS emulation: a moto server on 127.0.0.1, and boto3 clients pointed at it."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from typing import Any
from urllib.parse import quote

import boto3
import requests
from botocore.config import Config

from local_stack import LOCAL_HOST

ACCESS_KEY_ID = "testing-local-stack"
SECRET_ACCESS_KEY = "testing-local-stack-secret"  # noqa: S105 - the emulator accepts any credentials


class _SerializedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time. moto's TransactWriteItems deep-copies the
    tables while other threads write to them ("dictionary changed size during iteration", 500s);
    DynamoDB calls are short, so serialising them costs little. Other services stay concurrent
    (SQS long polls must not hold a lock)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))


def answer_post_objects_as_s3() -> None:
    """S3 answers a presigned POST (browser form upload) with the object's `ETag` and its
    `Location`, with the bucket's CORS headers (ETag exposed); moto answers 204 with neither, and
    Uppy waits for the ETag forever. This wraps moto's form-upload handler to add them
    (idempotent: applied once per process)."""
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post
    if getattr(original, "answers_as_s3", False):
        return

    def post_with_etag(self: Any, request: Any, bucket_name: str) -> Any:
        status, headers, body = original(self, request, bucket_name)
        if self.data.get("Action") != "PutObject" or int(status) >= 300 or "key" not in self.querystring:
            return status, headers, body
        key = self.querystring["key"][0]
        stored = self.backend.get_object(bucket_name, key)
        if stored is None:  # pragma: no cover - moto just stored it
            return status, headers, body
        host = str(getattr(request, "host_url", "")).rstrip("/")
        location = f"{host}/{bucket_name}/{quote(key)}"
        # moto adds only Allow-Origin to this answer: the bucket's CORS rule (Expose-Headers) too.
        cors = self._get_cors_headers_other()
        return status, {**headers, **cors, "ETag": stored.etag, "Location": location}, body

    post_with_etag.answers_as_s3 = True  # type: ignore[attr-defined]
    S3Response._bucket_response_post = post_with_etag  # type: ignore[method-assign]


def _moto_server_class() -> Any:
    answer_post_objects_as_s3()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class LocalMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return LocalMotoServer


class Emulator:
    """moto in server mode, bound to 127.0.0.1 (moto's own default is 0.0.0.0).

    moto keeps its state in process-global backends: a second emulator in the same process would
    share it, so the stack resets that state when it starts and when it stops.
    """

    def __init__(self, port: int = 0, region: str = "us-east-1") -> None:
        self._requested_port = port
        self.region = region
        self._server: Any = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}"

    def start(self) -> None:
        # werkzeug logs every request at INFO; the stack logs invocations instead.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self._requested_port:
            # ThreadedMotoServer binds in its thread and would wait forever if the port is taken.
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((LOCAL_HOST, self._requested_port))
        server = _moto_server_class()(ip_address=LOCAL_HOST, port=self._requested_port, verbose=False)
        server.start()
        self._server = server
        host, self.port = server.get_host_and_port()
        if host != LOCAL_HOST:  # pragma: no cover - guards against a moto default change
            self.stop()
            raise RuntimeError(f"moto bound {host}, expected {LOCAL_HOST}")
        self.reset()

    def reset(self) -> None:
        """Forget every bucket, table and queue (moto's state is global to the process)."""
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        if self._server is None:
            return
        with contextlib.suppress(requests.RequestException):
            self.reset()
        self._server.stop()
        self._server = None

    def client(self, service: str, **config: Any) -> Any:
        cfg = Config(retries={"mode": "standard", "max_attempts": 3}, **config)
        if service == "s3":
            cfg = cfg.merge(Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=cfg,
        )

    def environment(self) -> dict[str, str]:
        """What in-process functions need to reach the emulator (and nothing else)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "S3_ADDRESSING_STYLE": "path",
        }
