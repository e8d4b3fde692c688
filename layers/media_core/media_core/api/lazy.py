"""An API function's entry point: its logger, its Lambda handler and its resolver.

Where the resolver is built depends on where the work is cheapest (docs/cold-start.md):
- On Lambda (AWS_LAMBDA_INITIALIZATION_TYPE is set: on-demand, provisioned-concurrency,
  snap-start), in the init phase: `import app` builds the resolver, the routes, the request
  models and Powertools' OpenAPI validation, then calls the routes module's `warm()` (its
  services and their boto3 clients). An on-demand init runs on an unthrottled vCPU, while the
  invoke phase of a 512 MB function gets about 0.29 of one, so the same work costs several times
  less there; with provisioned concurrency or SnapStart it happens before any request.
- Elsewhere (tests, tools, the local stack), on first use, so that importing an app stays cheap.

Either way the resolver is exactly `media_core.api.http.make_resolver`'s with the function's
routes (the `router` of a sibling module) included, and a malformed variable fails `import app`."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from media_core.api.tracing import api_tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from media_core.settings import CommonSettings

Handler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]
# Set by Lambda in every execution environment, absent elsewhere.
INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"


class LazyResolver:
    """`make_resolver(settings, logger)` plus `include_router(<routes module>.router)`, on first use;
    `handler` is the function's Lambda handler (request context in the logs, X-Ray on request)."""

    def __init__(self, settings: CommonSettings, routes: str) -> None:
        self._settings = settings
        self._routes = routes  # the module that declares the routes on its `router`
        self.logger = Logger()  # the routes' Logger(child=True) write through this one
        self.handler = self._handler()
        if os.environ.get(INITIALIZATION_TYPE):
            self.build()

    def build(self) -> None:
        """The resolver, then the routes module's `warm()` if it has one (its services)."""
        warm: Callable[[], object] | None = getattr(importlib.import_module(self._routes), "warm", None)
        self.resolver  # noqa: B018 - built here, cached
        if warm is not None:
            warm()

    def _handler(self) -> Handler:
        tracer = api_tracer()  # the X-Ray SDK only on request: media_core.api.tracing

        @self.logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
        @tracer.capture_lambda_handler
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            return self.resolve(event, context)

        return handler  # type: ignore[no-any-return]

    @cached_property
    def resolver(self) -> APIGatewayRestResolver:
        from media_core.api.http import make_resolver

        resolver = make_resolver(self._settings, self.logger)
        resolver.include_router(importlib.import_module(self._routes).router)
        return resolver

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self.resolver.resolve(event, context)

    def get_openapi_json_schema(self, **kwargs: Any) -> str:
        """The OpenAPI document of the routes (tools/openapi.py)."""
        return self.resolver.get_openapi_json_schema(**kwargs)
