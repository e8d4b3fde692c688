"""`sam local invoke` / `sam local start-api` against the local stack's emulator (`make run`).

    python -m tools.sam_local_env [--port 4566] [--host host.docker.internal] [--out FILE]
                                  [--template-out FILE] [--template FILE]

Writes SAM's --env-vars file: {"<FunctionLogicalId>": {VAR: value}, "Parameters": {...}}, where
every variable of every function (Globals merged) has the value `make run` gives it: the same
table, bucket, queue and bus names, resolved by the local stack's own Resolver (local_stack/), and
AWS_ENDPOINT_URL pointing at the emulator as a Lambda container reaches it.

SAM CLI (1.170, samcli/local/lambdafn/env_vars.py) applies an --env-vars entry ONLY to a variable
the template declares for that function; AWS_ENDPOINT_URL, S3_ADDRESSING_STYLE and the Powertools
switches are not declared in template.yaml (they must not be in AWS), so SAM would drop them. Hence
--template-out: a copy of the template (the built one by default, as `sam local` would use) that
declares every variable of the file on its function, for `sam local ... -t` that file.
See docs/sam-local.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from local_stack import LOCAL_HOST
from local_stack.emulator import Emulator
from local_stack.functions import function_specs
from local_stack.paths import DEFAULT_API_PORT, DEFAULT_AWS_PORT, REPO_ROOT
from local_stack.resolve import DEFAULT_STACK_NAME, LocalContext, Resolver, parameter_overrides_from_env
from local_stack.stack import LOCAL_FUNCTION_ENV
from local_stack.template import load_template

# Docker Desktop (macOS, Windows) names the host so; on Linux use --host 127.0.0.1 with
# `sam local ... --docker-network host` (the emulator listens on 127.0.0.1 only).
DEFAULT_CONTAINER_HOST = "host.docker.internal"
DEFAULT_OUT = Path(".aws-sam") / "sam-local" / "env.json"
DEFAULT_TEMPLATE_OUT = Path(".aws-sam") / "sam-local" / "template.json"
BUILT_TEMPLATE = Path(".aws-sam") / "build" / "template.yaml"
FUNCTION_TYPE = "AWS::Serverless::Function"
# Properties holding local paths, resolved against the template's folder by SAM.
_PATH_PROPERTIES = ("CodeUri", "ContentUri")


class _ContainerEmulator(Emulator):
    """The emulator as a container sees it: the stack's own environment() with another endpoint."""

    def __init__(self, endpoint: str) -> None:
        super().__init__()
        self._container_endpoint = endpoint

    @property
    def endpoint(self) -> str:
        return self._container_endpoint


def emulator_environment(endpoint: str) -> dict[str, str]:
    """What the local stack adds to every function beyond the template: the emulator's endpoint and
    credentials, path-style S3, no X-Ray/metrics flushing."""
    return {**_ContainerEmulator(endpoint).environment(), **LOCAL_FUNCTION_ENV}


def local_resolver(
    template: Mapping[str, Any],
    endpoint: str,
    *,
    api_port: int = DEFAULT_API_PORT,
    parameter_overrides: Mapping[str, str] | None = None,
) -> Resolver:
    """The Resolver `make run` builds (local_stack/stack.py), but with queue URLs on `endpoint`."""
    context = LocalContext(aws_endpoint=endpoint, stack_name=DEFAULT_STACK_NAME)
    # The gateway adds its own origins to AllowedOrigins (local_stack.gateway.Gateway.origins).
    origins = [f"http://{LOCAL_HOST}:{api_port}", f"http://localhost:{api_port}"]
    overrides = parameter_overrides if parameter_overrides is not None else parameter_overrides_from_env()
    return Resolver(
        template, context, parameter_overrides=overrides, list_additions={"AllowedOrigins": origins}
    )


def env_vars(
    template_path: Path,
    *,
    port: int = DEFAULT_AWS_PORT,
    host: str = DEFAULT_CONTAINER_HOST,
    api_port: int = DEFAULT_API_PORT,
    repo_root: Path = REPO_ROOT,
    parameter_overrides: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """The --env-vars document. "Parameters" (SAM applies it to every function) holds what all
    functions share; each function's entry holds its full environment, so each stands alone."""
    endpoint = f"http://{host}:{port}"
    resolver = local_resolver(
        load_template(template_path), endpoint, api_port=api_port, parameter_overrides=parameter_overrides
    )
    extra = emulator_environment(endpoint)
    # The distribution is not emulated: functions that name the CDN get the local gateway's
    # /cdn paths, as `make run` gives them (local_stack/cdn.py).
    cdn = {"CDN_BASE_URL": f"http://{host}:{api_port}/cdn"}
    resources = load_template(template_path).get("Resources") or {}

    def declared(lid: str) -> set[str]:
        props = (resources.get(lid) or {}).get("Properties") or {}
        return set((props.get("Environment") or {}).get("Variables") or {})

    per_function = {
        spec.logical_id: {
            **spec.environment,
            **{k: v for k, v in cdn.items() if k in declared(spec.logical_id)},
            **extra,
        }
        for spec in function_specs(resolver, repo_root)
    }
    shared = dict(extra)
    if per_function:
        first, *rest = per_function.values()
        shared = {k: v for k, v in first.items() if all(other.get(k) == v for other in rest)}
    return {**dict(sorted(per_function.items())), "Parameters": dict(sorted(shared.items()))}


def sam_local_template(template_path: Path, document: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """template_path with every variable of `document` declared on its function (SAM applies
    --env-vars only to declared variables; values the template sets stay as they are), and local
    paths made absolute so the copy can live anywhere. Declaring all of them, not only the
    emulator's, also covers a build older than template.yaml."""
    template = load_template(template_path)
    base = template_path.resolve().parent
    for lid, resource in (template.get("Resources") or {}).items():
        props = resource.setdefault("Properties", {})
        if resource.get("Type") == FUNCTION_TYPE and lid in document:
            variables = props.setdefault("Environment", {}).setdefault("Variables", {})
            for key, value in document[lid].items():
                variables.setdefault(key, value)
        for prop in _PATH_PROPERTIES:
            uri = props.get(prop)
            if isinstance(uri, str) and "://" not in uri and not Path(uri).is_absolute():
                props[prop] = str((base / uri).resolve())
    return template


def template_source(template: Path, repo_root: Path = REPO_ROOT) -> tuple[Path, str]:
    """The built template when there is one (its layers are laid out for Lambda), else the source;
    and a note for the user when that choice needs one."""
    built = repo_root / BUILT_TEMPLATE
    if not built.is_file():
        return template, " (not built: run `make build` first, the layers need it)"
    if built.stat().st_mtime < template.stat().st_mtime:
        return built, f" (older than {template.name}: run `make build` again)"
    return built, ""


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".partial")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _port(raw: str) -> int:
    port = int(raw)
    if not 0 < port <= 65535:
        raise argparse.ArgumentTypeError(f"{raw} is not a port")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write `sam local --env-vars` for the local stack.")
    parser.add_argument(
        "--port",
        type=_port,
        default=int(os.environ.get("MEDIA_LOCAL_AWS_PORT") or DEFAULT_AWS_PORT),
        help="the emulator's port (`make run`: MEDIA_LOCAL_AWS_PORT, default 4566)",
    )
    parser.add_argument("--host", default=DEFAULT_CONTAINER_HOST, help="the host as the container sees it")
    parser.add_argument(
        "--api-port", type=_port, default=int(os.environ.get("MEDIA_LOCAL_API_PORT") or DEFAULT_API_PORT)
    )
    parser.add_argument("--template", type=Path, default=REPO_ROOT / "template.yaml")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / DEFAULT_OUT)
    parser.add_argument(
        "--template-out",
        type=Path,
        default=None,
        help=f"also write the template for `sam local -t` (from {BUILT_TEMPLATE} when built)",
    )
    parser.add_argument("--template-source", type=Path, default=None, help="derive --template-out from this")
    args = parser.parse_args(argv)
    document = env_vars(args.template, port=args.port, host=args.host, api_port=args.api_port)
    _write_json(args.out, document)
    print(
        f"wrote {args.out} ({len(document) - 1} functions, AWS_ENDPOINT_URL=http://{args.host}:{args.port})"
    )
    if args.template_out is not None:
        source, note = (args.template_source, "") if args.template_source else template_source(args.template)
        _write_json(args.template_out, sam_local_template(source, document))
        print(f"wrote {args.template_out} from {source}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
