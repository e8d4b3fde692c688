"""The whole local stack: emulator provisioned from the template, in-process functions, the API
gateway, SQS pollers and schedules; start()/stop() or a `with` block.

moto's state and os.environ are global to the process, so one stack runs per process at a time
(tests start several, one after another).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from local_stack.auth import Authorizer, SigningKey
from local_stack.cdn import PREFIX as CDN_PREFIX
from local_stack.cdn import TRANSFORM_FUNCTION, LocalCdn
from local_stack.emulator import Emulator
from local_stack.functions import FunctionSpec, LocalFunction, function_specs, layer_paths, merged_environment
from local_stack.gateway import Gateway, build_routes
from local_stack.log_context import keep_log_context_per_thread
from local_stack.paths import REPO_ROOT, data_dir_from_env
from local_stack.pollers import QueuePoller, sqs_sources
from local_stack.provision import Provisioned, Provisioner
from local_stack.resolve import DEFAULT_STACK_NAME, LocalContext, Resolver, parameter_overrides_from_env
from local_stack.schedules import Schedule, schedules_for
from local_stack.template import load_template
from local_stack.token import DevSignIn
from local_stack.workflows import (
    LambdaTaskRouter,
    create_state_machines,
    enable_executions,
    restore_executions,
)

log = logging.getLogger("local_stack")

# Locally the functions run in-process: no X-Ray daemon, no CloudWatch metrics to flush.
LOCAL_FUNCTION_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
# Variables that would point the functions' boto3 at anything but the emulator.
_SCRUBBED_PREFIXES = ("AWS_ENDPOINT_URL_",)
_SCRUBBED = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


class LocalStack:
    _active: ClassVar[LocalStack | None] = None
    _active_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        template_path: Path | None = None,
        repo_root: Path | None = None,
        aws_port: int = 0,
        api_port: int = 0,
        data_dir: Path | None = None,
        *,
        schedules: bool = True,
        pollers: bool = True,
        parameter_overrides: dict[str, str] | None = None,
        stack_name: str = DEFAULT_STACK_NAME,
    ) -> None:
        self.repo_root = (repo_root or REPO_ROOT).resolve()
        self.template_path = (template_path or self.repo_root / "template.yaml").resolve()
        self.data_dir = (data_dir or data_dir_from_env(self.repo_root)).resolve()
        self.aws_port, self.api_port = aws_port, api_port
        self.enable_schedules = schedules
        self.enable_pollers = pollers
        self.parameter_overrides = (
            parameter_overrides if parameter_overrides is not None else parameter_overrides_from_env()
        )
        self.stack_name = stack_name
        self.emulator = Emulator(aws_port)
        self.gateway: Gateway | None = None
        self.resolver: Resolver | None = None
        self.provisioned = Provisioned()
        self.functions: dict[str, LocalFunction] = {}
        self.pollers: list[QueuePoller] = []
        self.schedules: list[Schedule] = []
        self._saved_env: dict[str, str | None] = {}
        self._added_paths: list[str] = []
        self._layer_dirs: list[Path] = []
        self._started = False
        self.state_machines: dict[str, str] = {}  # logical id -> ARN
        self._task_router: LambdaTaskRouter | None = None
        self._executions_were: bool | None = None

    # ------------------------------------------------------------------ what tests and the banner read
    @property
    def aws_endpoint(self) -> str:
        return self.emulator.endpoint

    @property
    def api_url(self) -> str:
        assert self.gateway is not None, "start() first"
        return self.gateway.url

    @property
    def buckets(self) -> dict[str, str]:
        return self.provisioned.buckets

    @property
    def tables(self) -> dict[str, str]:
        return self.provisioned.tables

    @property
    def queues(self) -> dict[str, str]:
        return self.provisioned.queues

    @property
    def queue_arns(self) -> dict[str, str]:
        return self.provisioned.queue_arns

    def client(self, service: str) -> Any:
        """A boto3 client for the emulator (path-style S3)."""
        return self.emulator.client(service)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        with LocalStack._active_lock:
            if LocalStack._active is not None:
                raise RuntimeError("a local stack already runs in this process (moto's state is global)")
            LocalStack._active = self
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.emulator.start()
        self.gateway = Gateway(self.api_port, web_dir=self.repo_root / "web")
        template = load_template(self.template_path)
        context = LocalContext(aws_endpoint=self.emulator.endpoint, stack_name=self.stack_name)
        self.resolver = resolver = Resolver(
            template,
            context,
            parameter_overrides=self.parameter_overrides,
            list_additions={"AllowedOrigins": self.gateway.origins},
        )
        self.provisioned = Provisioner(resolver, self.emulator).run()
        self._executions_were = enable_executions()
        self.state_machines = create_state_machines(resolver, self.emulator, self.repo_root)
        specs = function_specs(resolver, self.repo_root)
        env = {**merged_environment(specs), **self.emulator.environment(), **LOCAL_FUNCTION_ENV}
        cdn = LocalCdn(self.gateway.url + CDN_PREFIX, self.emulator) if _has_transform(specs) else None
        if cdn is not None:  # the local CDN replaces the distribution the template points at
            env.update(cdn.environment(env["MEDIA_BUCKET"], self.gateway.origins))
        self._set_environment(env)
        for spec in specs:
            for layer_dir in spec.layer_dirs:
                for path in map(str, layer_paths(layer_dir)):
                    if path not in sys.path:
                        sys.path.insert(0, path)
                        self._added_paths.append(path)
        self._layer_dirs = sorted({d for spec in specs for d in spec.layer_dirs})
        _reset_layer_caches(self._layer_dirs)  # handlers validate settings at import: this stack's env
        self.functions = {spec.logical_id: LocalFunction(spec) for spec in specs}
        keep_log_context_per_thread()  # the functions' Loggers share one formatter in this process
        self._task_router = LambdaTaskRouter(self.functions)
        self._task_router.install()
        if cdn is not None:
            cdn.attach(self.functions)
            self.gateway.cdn = cdn
        authorizer = Authorizer(SigningKey.load(self.data_dir).public_pem)
        routes = build_routes(resolver, self.functions)
        by_arn = {
            arn: (lid, self.provisioned.queues[lid]) for lid, arn in self.provisioned.queue_arns.items()
        }
        for source in sqs_sources(self.functions, by_arn) if self.enable_pollers else []:
            poller = QueuePoller(source, self.emulator.client("sqs"), context.region)
            self.pollers.append(poller)
            poller.start()
        if self.enable_schedules:
            self.schedules = schedules_for(self.functions)
            for schedule in self.schedules:
                schedule.start()
        admin_group = str(resolver.parameters.get("AdminGroup") or "admin")
        self.gateway.start(routes, authorizer, DevSignIn(self.data_dir, admin_group))

    def stop(self) -> None:
        if not self._started:
            return
        try:
            workers: list[QueuePoller | Schedule] = [*self.schedules, *self.pollers]
            for worker in workers:
                worker.stop()
            for worker in workers:
                worker.join(timeout=30)
            self.schedules, self.pollers = [], []
            if self.gateway is not None:
                self.gateway.stop()
            self.emulator.stop()
        finally:
            if self._task_router is not None:
                self._task_router.uninstall()
                self._task_router = None
            if self._executions_were is not None:
                restore_executions(self._executions_were)
                self._executions_were = None
            self._restore_environment()
            for name in [m for m in sys.modules if m.startswith("_local_fn_")]:
                del sys.modules[name]
            self.functions = {}
            self._started = False
            with LocalStack._active_lock:
                if LocalStack._active is self:
                    LocalStack._active = None

    # ------------------------------------------------------------------ process environment
    def _set_environment(self, env: dict[str, str]) -> None:
        scrub = [k for k in os.environ if k in _SCRUBBED or k.startswith(_SCRUBBED_PREFIXES)]
        for key in [*env, *scrub]:
            self._saved_env.setdefault(key, os.environ.get(key))
        for key in scrub:
            del os.environ[key]
        os.environ.update(env)

    def _restore_environment(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        for path in self._added_paths:
            if path in sys.path:
                sys.path.remove(path)
        self._added_paths = []
        _reset_layer_caches(self._layer_dirs)

    # ------------------------------------------------------------------ the start-up banner
    def banner(self) -> str:
        lines = [
            "Local media stack (127.0.0.1 only)",
            f"  API            {self.api_url}",
            f"  AWS endpoint   {self.aws_endpoint}   (export AWS_ENDPOINT_URL={self.aws_endpoint})",
        ]
        lines += [f"  bucket         {name}   ({lid})" for lid, name in self.buckets.items()]
        lines += [f"  table          {name}   ({lid})" for lid, name in self.tables.items()]
        lines += [f"  queue          {url}   ({lid})" for lid, url in self.queues.items()]
        for route in self.gateway.routes if self.gateway else []:
            auth = "token" if route.authorized else "open"
            target = route.function.spec.logical_id
            lines.append(f"  route          {route.method:7} {route.path}  -> {target} ({auth})")
        for poller in self.pollers:
            s = poller.source
            lines.append(f"  poller         {s.label} (batch {s.batch_size}, window {s.batching_window:g} s)")
        for schedule in self.schedules:
            lines.append(f"  schedule       {schedule.name} every {schedule.interval:g} s")
        lines += [
            f"  data dir       {self.data_dir}   (JWT signing key)",
            f"Upload page:    {self.api_url}/   (dev sign-in: POST {self.api_url}/_local/token)",
            "Get a token:    make token USER=alice   (ADMIN=1 for an admin)",
            f'Then:           curl -H "Authorization: Bearer $TOKEN" {self.api_url}/media/<media_id>',
            "Ctrl-C stops everything.",
        ]
        return "\n".join(lines)


def _has_transform(specs: list[FunctionSpec]) -> bool:
    return any(spec.logical_id == TRANSFORM_FUNCTION for spec in specs)


def _reset_layer_caches(layer_dirs: list[Path]) -> None:
    """Forget every functools cache of the layers' modules (settings, clients, services built for
    a previous stack's environment), and call media_core.wiring.reset_caches() too."""
    roots = [str(d.resolve()) + os.sep for d in layer_dirs]
    for module in list(sys.modules.values()):
        origin = os.path.abspath(getattr(module, "__file__", None) or os.sep)  # noqa: PTH100
        if not any(origin.startswith(root) for root in roots):
            continue
        for value in list(vars(module).values()):
            if (
                callable(getattr(value, "cache_clear", None))
                and getattr(value, "__module__", None) == module.__name__
            ):
                value.cache_clear()
    services = sys.modules.get("media_core.wiring")
    reset = getattr(services, "reset_caches", None)
    if callable(reset):
        reset()
