"""An API function's entry point: its logger, its Lambda handler and its resolver, the last built
on first use (cold start, docs/cold-start.md).

`import app` of an API function builds the logger and reads the settings (a malformed variable
still fails the cold start); the event handler, the routes, the request models and Powertools'
OpenAPI validation are loaded by the first request (or the first OpenAPI document) instead. The
resolver is then exactly `media_core.api.http.make_resolver`'s with the function's routes (the
`router` of a sibling module) included, so requests get the answers they got when all of it was
built at import. Where the init phase is the cheaper place for that work (provisioned
concurrency, SnapStart), reading `.resolver` at import builds it there."""

from __future__ import annotations

import importlib
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


class LazyResolver:
    """`make_resolver(settings, logger)` plus `include_router(<routes module>.router)`, on first use;
    `handler` is the function's Lambda handler (request context in the logs, X-Ray on request)."""

    def __init__(self, settings: CommonSettings, routes: str) -> None:
        self._settings = settings
        self._routes = routes  # the module that declares the routes on its `router`
        self.logger = Logger()  # the routes' Logger(child=True) write through this one
        self.handler = self._handler()

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
