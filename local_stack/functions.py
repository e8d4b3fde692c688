"""The template's functions, loaded in-process: specs (Globals merged), handlers imported from
<CodeUri>/<module>.py, and invocation with a Lambda-like context and one log line per call."""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.log_context import FunctionLogContext
from local_stack.resolve import Resolver, TemplateError

log = logging.getLogger("local_stack.invoke")

FUNCTION_TYPES = ("AWS::Serverless::Function",)
LAYER_TYPE = "AWS::Serverless::LayerVersion"


class FunctionError(Exception):
    """The handler raised (as Lambda reports an unhandled error)."""


@dataclass(frozen=True)
class EventSpec:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: dict[str, str]
    layer_dirs: list[Path]
    events: list[EventSpec] = field(default_factory=list)


def _is_intrinsic(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) in ("Ref", "Condition") or next(iter(value)).startswith("Fn::"))
    )


def merge_globals(globals_: Any, local: Any) -> Any:
    """SAM's Globals rules: maps merge, lists add (globals first), anything else is overridden."""
    if (
        isinstance(globals_, dict)
        and isinstance(local, dict)
        and not _is_intrinsic(globals_)
        and not _is_intrinsic(local)
    ):
        out = dict(globals_)
        for key, value in local.items():
            out[key] = merge_globals(globals_[key], value) if key in globals_ else value
        return out
    if isinstance(globals_, list) and isinstance(local, list):
        return globals_ + local
    return local


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        raise TemplateError(f"environment value {value!r} is a list")
    return str(value)


def function_specs(resolver: Resolver, repo_root: Path) -> list[FunctionSpec]:
    globals_fn = (resolver.template.get("Globals") or {}).get("Function") or {}
    layer_dirs_by_arn: dict[str, Path] = {}
    for lid, res in resolver.resources.items():
        if res.get("Type") == LAYER_TYPE and resolver.enabled(lid):
            content = resolver.resolve(resolver.properties(lid).get("ContentUri"))
            if isinstance(content, str):
                layer_dirs_by_arn[resolver.arn(lid)] = repo_root / content
    specs = []
    for lid, res in resolver.resources.items():
        if res.get("Type") not in FUNCTION_TYPES or not resolver.enabled(lid):
            continue
        props = resolver.resolve(merge_globals(globals_fn, resolver.properties(lid)))
        if props.get("PackageType", "Zip") != "Zip" or "InlineCode" in props:
            log.warning("%s: only Zip functions with a local CodeUri run locally; skipped", lid)
            continue
        runtime = str(props.get("Runtime", ""))
        if not runtime.startswith("python"):
            log.warning("%s: runtime %s cannot run in-process; skipped", lid, runtime)
            continue
        code_uri = props.get("CodeUri")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{lid}: CodeUri must be a local path")
        layer_dirs = []
        for layer in props.get("Layers", []):
            if layer in layer_dirs_by_arn:
                layer_dirs.append(layer_dirs_by_arn[layer])
            else:
                log.warning("%s: layer %s is not in the template; not on the local path", lid, layer)
        env = {k: _env_value(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
        events = [
            EventSpec(name, str(ev.get("Type")), dict(ev.get("Properties") or {}))
            for name, ev in (props.get("Events") or {}).items()
        ]
        specs.append(
            FunctionSpec(
                logical_id=lid,
                name=resolver.physical_name(lid),
                arn=resolver.arn(lid),
                code_dir=repo_root / code_uri,
                handler=str(props["Handler"]),
                runtime=runtime,
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment=env,
                layer_dirs=layer_dirs,
                events=events,
            )
        )
    return specs


def merged_environment(specs: list[FunctionSpec]) -> dict[str, str]:
    """All functions share one process, so one environment: conflicting values are an error."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for spec in specs:
        for key, value in spec.environment.items():
            if key in merged and merged[key] != value:
                raise TemplateError(
                    f"environment variable {key} is {merged[key]!r} for {owner[key]} but {value!r} for "
                    f"{spec.logical_id}: in-process functions share one environment"
                )
            merged[key] = value
            owner.setdefault(key, spec.logical_id)
    return merged


def layer_paths(layer_dir: Path) -> list[Path]:
    """What a layer puts on sys.path: its python/ folder when built, else the source folder."""
    built = layer_dir / "python"
    return [built] if built.is_dir() else [layer_dir]


class LambdaContext:
    """The attributes and method Lambda's Python context object offers."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _import_handler(spec: FunctionSpec) -> Callable[[Any, Any], Any]:
    module_path, _, attribute = spec.handler.rpartition(".")
    if not module_path:
        raise TemplateError(f"{spec.logical_id}: Handler {spec.handler!r} is not module.function")
    file = spec.code_dir.joinpath(*module_path.replace("/", ".").split(".")).with_suffix(".py")
    if not file.is_file():
        raise TemplateError(f"{spec.logical_id}: no handler file {file}")
    code_dir = str(spec.code_dir)
    if code_dir not in sys.path:
        sys.path.append(code_dir)  # Lambda puts the code folder on the path (for sibling modules)
    before = set(sys.modules)
    unique = f"_local_fn_{spec.logical_id}_{module_path.replace('/', '_').replace('.', '_')}"
    module_spec = importlib.util.spec_from_file_location(unique, file)
    if module_spec is None or module_spec.loader is None:  # pragma: no cover
        raise TemplateError(f"{spec.logical_id}: cannot import {file}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[unique] = module
    module_spec.loader.exec_module(module)
    for name in set(sys.modules) - before - {unique}:
        origin = getattr(sys.modules[name], "__file__", None) or ""
        if origin.startswith(code_dir + "/"):
            log.debug("%s imported sibling module %s", spec.logical_id, name)
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise TemplateError(f"{spec.logical_id}: {file} has no callable {attribute}")
    return handler  # type: ignore[no-any-return]


def summarize(result: Any) -> str:
    if isinstance(result, Mapping):
        if "statusCode" in result:
            return f"status {result['statusCode']}"
        if "batchItemFailures" in result:
            n = len(result["batchItemFailures"] or [])
            return f"{n} batch item failure{'s' if n != 1 else ''}" if n else "ok"
    return "ok"


# Powertools' HTTP resolvers keep the current request on a class attribute
# (BaseRouter.current_event) that every resolver of the process shares. On Lambda each function
# has a process of its own; here the API functions share one, so they take turns: otherwise one
# function's request could be answered with another's query string and caller
# (tests/integration/test_local_stack_isolation.py).
_API_FUNCTIONS = threading.Lock()


class LocalFunction:
    """One function's handler, run one invocation at a time (one execution environment), and the
    API functions one at a time between them (_API_FUNCTIONS)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._handler = _import_handler(spec)
        serves_api = any(event.type.lower() == "api" for event in spec.events)
        self._lock = _API_FUNCTIONS if serves_api else threading.Lock()
        self._log_context = FunctionLogContext()

    def invoke(self, event: Any, trigger: str) -> Any:
        """Returns the handler's result; raises FunctionError if it raised. Logs one line."""
        with self._lock, self._log_context.entered():
            context = LambdaContext(self.spec)
            started = time.perf_counter()
            try:
                result = self._handler(event, context)
            except Exception as err:
                ms = (time.perf_counter() - started) * 1000
                log.error(
                    "%s <- %s | %.0f ms | error: %s: %s\n%s",
                    self.spec.logical_id,
                    trigger,
                    ms,
                    type(err).__name__,
                    err,
                    traceback.format_exc().rstrip(),
                )
                raise FunctionError(f"{type(err).__name__}: {err}") from err
            ms = (time.perf_counter() - started) * 1000
            note = ""
            if ms > self.spec.timeout * 1000:
                note = f" (over the {self.spec.timeout} s timeout: Lambda would have stopped it)"
            log.info("%s <- %s | %.0f ms | %s%s", self.spec.logical_id, trigger, ms, summarize(result), note)
            return result
