"""API Gateway routing as the template declares it: the Serverless::Api resources (stage,
authorizers, gateway response headers) and each function's `Api` events, matched by specificity
like API Gateway (static segments before {param} before {proxy+})."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local_stack.functions import LocalFunction
from local_stack.resolve import Resolver, TemplateError

log = logging.getLogger("local_stack.gateway")

API_TYPES = ("AWS::Serverless::Api",)
# Gateway response types of the errors the local gateway makes itself.
RESPONSE_TYPES = {401: "UNAUTHORIZED", 403: "MISSING_AUTHENTICATION_TOKEN", 413: "REQUEST_TOO_LARGE"}


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
