"""Tracing for the HTTP functions (the API and the CDN's transform origin), only where it pays.

The X-Ray SDK costs ~35-100 ms of every such cold start (bench/bench_cold_start.py), which a
client or a CDN miss waits for, while the handlers do one or two AWS calls. Lambda's active
tracing (template Globals) still records each invocation; the SDK's subsegments come back with
API_XRAY_SDK=true."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _NoSdkTracer:
    """The two decorators the handlers use, as no-ops."""

    def capture_method(self, method: F) -> F:
        return method

    def capture_lambda_handler(self, handler: F) -> F:
        return handler


def api_tracer() -> Any:
    if os.environ.get("API_XRAY_SDK", "").lower() == "true":
        from aws_lambda_powertools import Tracer

        return Tracer()
    return _NoSdkTracer()
