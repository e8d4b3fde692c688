"""Cold-start benchmark: the time to `import app` for every function (functions/*/app.py), in fresh
processes, beside the baseline `import boto3, pydantic` measured in the same run.

Run with `make bench-cold-start` (or `.venv/bin/python bench/bench_cold_start.py [--runs 15]`).

Method (be honest about it):
- Each sample is a new interpreter (`python -I`, the venv's: the dependencies the layer ships)
  whose sys.path starts like Lambda's: the function's folder (/var/task), then layers/media_core
  (/opt/python). Its environment is the function's own, resolved by the local stack's code from
  template.yaml (tools/sam_local_env: Globals merged, the emulator endpoint, tracing off), so the
  settings validated at import see what `make run` gives them. Nothing is called over the network:
  the one function that reads a secret at import (transform: its signing keys, by design once per
  cold start) gets it from a Secrets Manager stub on 127.0.0.1 that this script runs, so its figure
  includes creating the client and one loopback round trip (on Lambda: a real one, not counted).
- The figure is the time around the import statement inside that process (perf_counter), not the
  interpreter's start-up, which Lambda pays with or without our code. Lambda's own bootstrap
  imports a few stdlib modules (json, http.client) first; here the import pays for them, for the
  baseline too.
- Bytecode: one warm-up round compiles everything into a private pycache (-X pycache_prefix under
  bench/out/), so samples measure loading, not compiling, and nothing is written beside the sources.
  On Lambda the dependencies' .pyc ship with the layer (pip compiles them) but the function's and
  media_core's own sources are compiled at each cold start: this benchmark does not count that.
- Rounds are interleaved (baseline, every function, again...) so load from other processes on
  this shared machine hits all of them alike; median and p90 over --runs rounds. The ratio is
  paired: the median over rounds of (the function's sample / that round's baseline sample).
- API functions get a second figure: `import app` and then one request through `app.handler` in
  the same process, one that reaches its service and DynamoDB (a read of an id nobody has, or the
  caller's limits): the routes, the request models, the validation, the service, boto3 and its
  DynamoDB client are loaded and one GetItem is made, to a stub on 127.0.0.1 run by this script
  (it answers `{}`: no such item). That is what a client waits for on a cold function, less the
  network round trip. Each function's environment has AWS_LAMBDA_INITIALIZATION_TYPE=on-demand,
  as on Lambda, so an API function builds its resolver, services and clients in the import (the
  init phase, which Lambda runs on an unthrottled vCPU) and the request itself is what is left.
  (`first_request_event(..., served=False)`, a request refused by
  validation before any AWS call, is what tests/infrastructure/test_cold_start_imports.py uses.)
  A reference row, `+GetItem`, is the floor of such a request: the baseline, a DynamoDB client
  and one GetItem to the same stub, in one statement. A second, `api-floor`, is the floor of an
  API function of this design with none of our code (bench/api_floor/app.py): Powertools' REST
  resolver with OpenAPI validation, one pydantic model, the DynamoDB table and an S3 client built
  at import, and its first request, a validated GET that reads the stub (404).
- Bytecode as Lambda gets it: `--layer DIR` runs every sample against a built layer's python/
  folder (`make -C layers/media_core build-MediaCoreLayer ARTIFACTS_DIR=/tmp/layer
  LAYER_ARCH=x86_64`, this machine's wheels) in place of layers/media_core, with no private
  pycache and nothing written (`-B`, as /opt is read-only): the layer's own
  .pyc are used, or, in a copy without its __pycache__ folders (what `BuildMethod: python3.12`
  ships), every module is compiled in every sample. The layer holds botocore (aws-xray-sdk pulls
  it in), so the baseline's botocore comes from there too. The functions' own few modules are
  compiled each time in this mode (sam ships them without bytecode as well).
- The heaviest imports come from `-X importtime` (the median of --importtime-runs runs), for the
  API functions. A module's raw cumulative time counts boto3 or pydantic under whichever module
  happens to import them first; the ranking uses "beyond": its cumulative time minus the modules
  the baseline imports too (they are paid anyway), i.e. what making that import lazy could save.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_stack.functions import function_specs  # noqa: E402
from local_stack.template import load_template  # noqa: E402
from tools import sam_local_env  # noqa: E402

TEMPLATE = ROOT / "template.yaml"
LAYER = ROOT / "layers" / "media_core"  # or a built layer's python/ folder (--layer)
SHIPPED_BYTECODE = False  # --layer: the layer's own .pyc (or none), nothing written
OUT = ROOT / "bench" / "out"
BASELINE = "import boto3, pydantic"
# The floor of any first request that reads DynamoDB: the baseline, a client, one GetItem (the stub).
READ_FLOOR = BASELINE + '; boto3.client("dynamodb").get_item(TableName="bench", Key={"pk": {"S": "x"}})'
TARGET_RATIO = 1.5  # API functions: at most this many times the baseline
# Inside the fresh process: Lambda-like sys.path, then time only the import statement.
HARNESS = """
import sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
started = time.perf_counter()
exec(sys.argv[3])
imported = time.perf_counter()
if len(sys.argv) > 4:
    import json

    class Context:
        function_name = "bench"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        aws_request_id = "bench"

    answer = sys.modules["app"].handler(json.loads(sys.argv[4]), Context())
    assert answer["statusCode"] == int(sys.argv[5]), answer
print(imported - started, time.perf_counter() - started)
"""
# A request of each API function refused by validation (422): no AWS call is made.
FIRST_REQUESTS: dict[str, tuple[str, str, str]] = {  # function: (method, path, body)
    "uploads": ("POST", "/uploads", "{}"),
    "query": ("GET", "/media/not-an-id", ""),
    "manage": ("PATCH", "/media/not-an-id", '{"alt_text": "x"}'),
}


# A request of each API function that reaches its service and DynamoDB, and its answer when the
# table has nothing (the stub's `{}`): the benchmark's first request.
UNKNOWN_ID = "0" * 32
SERVED_REQUESTS: dict[str, tuple[str, str, str, int]] = {  # function: (method, path, body, status)
    "uploads": ("GET", "/uploads/limits", "", 200),
    "query": ("GET", f"/media/{UNKNOWN_ID}", "", 404),
    "manage": ("PATCH", f"/media/{UNKNOWN_ID}", '{"alt_text": "x"}', 404),
    "api-floor": ("GET", f"/items/{UNKNOWN_ID}", "", 404),
}
# The API floor: Powertools' validated resolver, one model and the clients, none of our code.
API_FLOOR = ROOT / "bench" / "api_floor"


def first_request_event(function: str, *, served: bool = False) -> str:
    """A REST API proxy event (payload 1.0) with an authorizer's claims, as JSON: the request
    refused by validation, or (`served`) the one that reaches DynamoDB."""
    method, path, body = SERVED_REQUESTS[function][:3] if served else FIRST_REQUESTS[function]
    headers = {"Host": "127.0.0.1:3000", "Content-Type": "application/json"}
    context = {
        "authorizer": {"claims": {"sub": "bench-user", "cognito:username": "bench"}},
        "httpMethod": method,
        "path": path,
        "stage": "bench",
        "requestId": "bench",
        "identity": {"sourceIp": "127.0.0.1"},
    }
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": context,
        "body": body or None,
        "isBase64Encoded": False,
    }
    return json.dumps(event)


@dataclass(frozen=True)
class Target:
    name: str  # folder name, or "baseline"
    kind: str  # api | sqs | schedule | invoke | baseline | reference (the two floors)
    code_dir: Path
    statement: str
    env: dict[str, str]
    first_request: str = ""  # an event (JSON) for app.handler after the import; API functions only
    first_status: int = 0  # the answer it must get


class _AwsStub(BaseHTTPRequestHandler):
    """The AWS JSON protocol for what a cold start calls: Secrets Manager's GetSecretValue for any
    id (an HMAC key, as the transform function's TRANSFORM_SIGNING_KEYS_SECRET_ARN holds) and, for
    DynamoDB, `{}` (GetItem: no such item)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        secrets = self.headers.get("X-Amz-Target", "").startswith("secretsmanager.")
        body = json.dumps({"Name": "bench", "SecretString": "00" * 32} if secrets else {}).encode()
        self.send_response(200)
        protocol = "1.1" if secrets else "1.0"
        self.send_header("Content-Type", f"application/x-amz-json-{protocol}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def aws_stub() -> Iterator[str]:
    """The stub's endpoint on 127.0.0.1 (an ephemeral port), stopped on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AwsStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def targets(aws_endpoint: str = "") -> list[Target]:
    """Every functions/*/app.py with its template environment, plus the baseline; Secrets Manager
    and DynamoDB are `aws_endpoint` (the stub) when given."""
    document = sam_local_env.env_vars(TEMPLATE, host="127.0.0.1")
    resolver = sam_local_env.local_resolver(load_template(TEMPLATE), "http://127.0.0.1:4566")
    specs = {spec.code_dir.resolve(): spec for spec in function_specs(resolver, ROOT)}
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TZ": ":UTC"}
    found = [Target("baseline", "baseline", LAYER, BASELINE, dict(base))]
    if aws_endpoint:
        credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
        floor_env = {
            **base,
            **credentials,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_DYNAMODB": aws_endpoint,
        }
        found.append(Target("+GetItem", "reference", LAYER, READ_FLOOR, floor_env))
        floor_event = first_request_event("api-floor", served=True)
        found.append(Target("api-floor", "reference", API_FLOOR, "import app", floor_env, floor_event, 404))
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        spec = specs.get(app.parent.resolve())
        if spec is None:
            raise SystemExit(f"{app} is not a function of template.yaml")
        kinds = {event.type.lower() for event in spec.events}
        # No event: invoked directly (a Step Functions task, a function URL behind CloudFront).
        kind = "api" if "api" in kinds else "sqs" if "sqs" in kinds else "schedule" if kinds else "invoke"
        # Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE: an API function then builds its resolver,
        # services and clients in its import (media_core.api.lazy), as it does there.
        env = {**base, **document[spec.logical_id], "POWERTOOLS_LOG_LEVEL": "WARNING",
               "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}  # fmt: skip
        if aws_endpoint:  # the transform's import reads a secret; an API's first request, an item
            env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = env["AWS_ENDPOINT_URL_DYNAMODB"] = aws_endpoint
        served = SERVED_REQUESTS.get(app.parent.name)
        event, status = (first_request_event(app.parent.name, served=True), served[3]) if served else ("", 0)
        found.append(Target(app.parent.name, kind, app.parent, "import app", env, event, status))
    return found


def _command(target: Target, *flags: str, first_request: bool = False) -> list[str]:
    pycache = ["-B"] if SHIPPED_BYTECODE else ["-X", f"pycache_prefix={OUT / 'pycache'}"]
    event = [target.first_request, str(target.first_status)] if first_request and target.first_request else []
    return [
        sys.executable, "-I", *pycache, *flags,
        "-c", HARNESS, str(target.code_dir), str(LAYER), target.statement, *event,
    ]  # fmt: skip


def sample(target: Target, *, first_request: bool = False) -> tuple[float, float]:
    """Seconds to import, and to import and answer the first request (the same without one)."""
    result = subprocess.run(
        _command(target, first_request=first_request),
        cwd=target.code_dir, env=target.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"{target.name}: import failed\n{result.stderr[-3000:]}")
    imported, answered = result.stdout.strip().splitlines()[-1].split()
    return float(imported), float(answered)


@dataclass(frozen=True)
class Imported:
    name: str
    self_us: int
    cumulative_us: int
    beyond_us: int  # cumulative minus what the baseline imports too: what lazy imports could save
    parent: str  # the module that imported it first ("" at the top)


def parse_importtime(stderr: str, baseline: frozenset[str] = frozenset()) -> dict[str, Imported]:
    """`-X importtime` output as a tree. Its lines come children first, indented two spaces per
    level: a line at depth d adopts the pending lines deeper than d."""
    modules: dict[str, Imported] = {}
    pending: list[tuple[int, str]] = []  # (depth, name) not yet given a parent
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, raw = line[len("import time:") :].split("|", 2)
        name, depth = raw.strip(), (len(raw) - len(raw.lstrip()) - 1) // 2
        beyond = 0 if name in baseline else int(self_us)
        while pending and pending[-1][0] > depth:
            child = modules[pending.pop()[1]]
            modules[child.name] = Imported(
                child.name, child.self_us, child.cumulative_us, child.beyond_us, name
            )
            beyond += child.beyond_us
        modules[name] = Imported(name, int(self_us), int(cumulative), beyond, "")
        pending.append((depth, name))
    return modules


def importtime(target: Target, baseline: frozenset[str] = frozenset()) -> dict[str, Imported]:
    """What the import and the first request (API functions) import."""
    result = subprocess.run(
        _command(target, "-X", "importtime", first_request=True),
        cwd=target.code_dir, env=target.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return parse_importtime(result.stderr, baseline)


def heaviest(target: Target, runs: int, baseline: frozenset[str], top: int) -> list[dict[str, object]]:
    """The modules costing most beyond the baseline (median over runs), `app` itself left out."""
    per_run = [importtime(target, baseline) for _ in range(runs)]
    rows: list[dict[str, object]] = []
    for name, first in per_run[0].items():
        if name == "app":
            continue
        seen = [run[name] for run in per_run if name in run]
        rows.append(
            {
                "module": name,
                "beyond_baseline_ms": round(statistics.median(m.beyond_us for m in seen) / 1000, 1),
                "cumulative_ms": round(statistics.median(m.cumulative_us for m in seen) / 1000, 1),
                "self_ms": round(statistics.median(m.self_us for m in seen) / 1000, 1),
                "imported_by": first.parent,
                "in_baseline": name in baseline,
            }
        )
    rows.sort(key=lambda row: (row["beyond_baseline_ms"], row["cumulative_ms"]), reverse=True)
    return rows[:top]


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per function (default 15)")
    parser.add_argument("--importtime-runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", type=Path, default=OUT / "cold_start.json")
    parser.add_argument("--layer", type=Path, help="a built layer's python/ folder (bytecode as shipped)")
    parser.add_argument("--only", default="", help="comma-separated functions (the baseline always runs)")
    args = parser.parse_args()
    if args.layer:
        global LAYER, SHIPPED_BYTECODE
        LAYER, SHIPPED_BYTECODE = args.layer.resolve(), True
    with aws_stub() as endpoint:
        chosen = [t for t in targets(endpoint) if not args.only or t.kind in ("baseline", "reference")
                  or t.name in args.only.split(",")]  # fmt: skip
        return run(args, chosen)


def paired_ratio(values: list[float], baseline: list[float]) -> float:
    """The median over rounds of each round's sample over the same round's baseline sample."""
    return statistics.median(v / b for v, b in zip(values, baseline, strict=True))


def run(args: argparse.Namespace, all_targets: list[Target]) -> int:
    for target in all_targets:  # warm-up: compile into the private pycache
        sample(target, first_request=True)
    samples: dict[str, list[float]] = {t.name: [] for t in all_targets}
    answered: dict[str, list[float]] = {t.name: [] for t in all_targets}
    for _ in range(args.runs):
        for target in all_targets:
            imported, first_answer = sample(target, first_request=True)
            samples[target.name].append(imported * 1000)
            answered[target.name].append(first_answer * 1000)

    # A shared machine: the load says how far to trust the absolute figures (the ratios hold better).
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Cold start: time to import, {args.runs} fresh processes each "
        f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}; "
        f"layer {LAYER if SHIPPED_BYTECODE else 'sources, private pycache'})"
    )
    print(
        f"{'function':<10} {'kind':<9} {'median ms':>10} {'p90 ms':>8} {'x baseline':>11}  {'target':<14}"
        f"{'+1st request ms':>16} {'x baseline':>11}"
    )
    results = []
    for target in all_targets:
        values = samples[target.name]
        median, p90 = statistics.median(values), quantile(values, 0.9)
        # Paired: each round's sample over the same round's baseline, so load swings cancel out.
        ratio = paired_ratio(values, samples["baseline"])
        verdict, first = "", ""
        row: dict[str, object] = {"function": target.name, "kind": target.kind, "median_ms": round(median, 1),
                                  "p90_ms": round(p90, 1), "ratio": round(ratio, 2)}  # fmt: skip
        if target.kind == "api":
            verdict = f"<= {TARGET_RATIO}x " + ("ok" if ratio <= TARGET_RATIO else "OVER")
        if target.first_request:
            first_median = statistics.median(answered[target.name])
            first_ratio = paired_ratio(answered[target.name], samples["baseline"])
            first = f"{first_median:>16.0f} {first_ratio:>10.2f}x"
            row |= {
                "first_request_median_ms": round(first_median, 1),
                "first_request_ratio": round(first_ratio, 2),
            }
        label = "baseline" if target.kind == "baseline" else target.name
        print(
            f"{label:<10} {target.kind:<9} {median:>10.0f} {p90:>8.0f} {ratio:>10.2f}x  {verdict:<14}{first}"
        )
        results.append(row)
    print(f"(baseline = `{BASELINE}` in the same harness; +1st request: the import, then one request "
          "through the service to a DynamoDB stub on 127.0.0.1, in the same process)")  # fmt: skip

    baseline = frozenset(importtime(all_targets[0]))
    tops: dict[str, list[dict[str, object]]] = {}
    for target in (t for t in all_targets if t.kind == "api"):
        rows = tops[target.name] = heaviest(target, args.importtime_runs, baseline, args.top)
        heading = f"Top {args.top} imports of {target.name}, import and first request"
        print(f"\n{heading} (-X importtime, median of {args.importtime_runs}; "
              "by cumulative ms beyond the baseline's modules)")  # fmt: skip
        print(f"  {'beyond ms':>9} {'cumul. ms':>9} {'self ms':>8}  module  <- imported by")
        for row in rows:
            print(f"  {row['beyond_baseline_ms']:>9} {row['cumulative_ms']:>9} {row['self_ms']:>8}  "
                  f"{row['module']}  <- {row['imported_by'] or '(top)'}")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"runs": args.runs, "load_average": load, "results": results, "heaviest": tops}
    args.json.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
