"""What a built layer's AWS SDK costs a cold start: `import boto3, pydantic`, then the first
clients an API function makes (the DynamoDB resource and the S3 client), for two or more layers.

    .venv/bin/python bench/bench_layer_sdk.py /tmp/before/python /tmp/after/python [--runs 15]

Each sample is a fresh `python -I -B` (nothing written, as on Lambda's read-only /opt) with the
layer's python/ folder first on sys.path and no AWS settings but dummy credentials; the layers are
interleaved round by round, so load from other processes hits them alike. Medians over --runs.
Build the layers with `make -C layers/media_core build-MediaCoreLayer ARTIFACTS_DIR=... LAYER_ARCH=x86_64`
(docs/cold-start.md, "The AWS SDK in the layer")."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

SAMPLE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
import boto3, pydantic
imported = time.perf_counter()
boto3.resource("dynamodb", region_name="us-east-1").Table("media")
boto3.client("s3", region_name="us-east-1")
print(1e3 * (imported - started), 1e3 * (time.perf_counter() - imported), boto3.__file__)
"""
ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/nonexistent",
    "AWS_ACCESS_KEY_ID": "k",
    "AWS_SECRET_ACCESS_KEY": "s",
}


def sample(site: Path) -> tuple[float, float, str]:
    command = [sys.executable, "-I", "-B", "-c", SAMPLE, str(site)]
    out = subprocess.run(command, capture_output=True, text=True, env=ENV, check=True).stdout.split()
    return float(out[0]), float(out[1]), out[2]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("layers", nargs="+", type=Path, help="built layers' python/ folders")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    imports: dict[Path, list[float]] = {site: [] for site in args.layers}
    clients: dict[Path, list[float]] = {site: [] for site in args.layers}
    origin: dict[Path, str] = {}
    for _ in range(args.runs):
        for site in args.layers:
            imported, made, origin[site] = sample(site)
            imports[site].append(imported)
            clients[site].append(made)
    print(
        f"{'layer':40} {'import boto3, pydantic ms':>26} {'DynamoDB resource + S3 client ms':>33}  boto3 from"
    )
    for site in args.layers:
        where = "the layer" if origin[site].startswith(str(site)) else origin[site]
        imported, made = statistics.median(imports[site]), statistics.median(clients[site])
        print(f"{site!s:40} {imported:26.0f} {made:33.0f}  {where}")
    print(f"(medians of {args.runs} interleaved fresh processes each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
