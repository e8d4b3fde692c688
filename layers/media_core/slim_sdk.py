"""Reduce the AWS SDK's data in a built layer to what the layer's code calls (Makefile,
`layer-sdk-models`; docs/cold-start.md, "The AWS SDK in the layer"). Standard library only: it
runs in `sam build`'s scratch copy of this folder, before anything is installed for it.

    python3.12 slim_sdk.py SITE sdk-services.txt

Every cold start's first clients parse their JSON models with an OrderedDict per object: the
DynamoDB resource and the S3 client read 2.6 MB (endpoints.json alone is 1.25 MB, for 400+
services). What changes, and why behaviour cannot:
- models of services not listed are removed (a client of one fails with UnknownServiceError);
- older API versions of a model are removed: a client takes the newest, and the code names none
  (a version that boto3's resource model of the service names is kept);
- examples-1.json is removed: botocore reads it only to write docstrings;
- every "documentation" string becomes "": botocore reads it only for docstrings, and some code
  indexes the key (ClientContextParameter), so the key stays;
- gzipped models are written as plain JSON, so no cold start inflates them;
- endpoints.json keeps, in every partition, the entries of the kept services' endpoint prefixes
  (the only ones botocore looks up: ClientEndpointBridge resolves `endpoint_prefix`) and all of
  each partition's own fields.
tests/infrastructure/test_layer_sdk.py checks that the models differ only in documentation and
that every kept client resolves the same endpoints, in every partition, as the full SDK.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from collections.abc import Collection
from pathlib import Path

DOCS_ONLY = ("examples-1.json",)


def listed(services_file: Path) -> set[str]:
    """The service names of sdk-services.txt: each line's first word ("xray  by aws_xray_sdk")."""
    lines = services_file.read_text().splitlines()
    return {line.split()[0] for line in lines if line.strip() and not line.startswith("#")}


def without_documentation(node: object) -> object:
    """The same JSON with every "documentation" string emptied."""
    if isinstance(node, dict):
        return {
            key: "" if key == "documentation" and isinstance(value, str) else without_documentation(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [without_documentation(value) for value in node]
    return node


def _read(path: Path) -> object:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return json.loads(raw)


def _write(path: Path, document: object) -> None:
    path.write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")


def slim_model_folder(service: Path, also_keep: Collection[str] = ()) -> str:
    """Slim one service's models in place, keeping only its newest API version (botocore's
    default, and the code names none) and `also_keep` (the versions boto3's resources build their
    clients with); its endpoint prefix."""
    versions = sorted(p.name for p in service.iterdir() if p.is_dir() and list(p.glob("service-2.json*")))
    kept = {*versions[-1:], *also_keep}
    for older in (p for p in service.iterdir() if p.is_dir() and p.name not in kept):
        shutil.rmtree(older)
    prefix = ""
    for path in sorted(service.rglob("*.json*")):
        if path.name in DOCS_ONLY:
            path.unlink()
            continue
        document = _read(path)
        if path.name.startswith("service-2.json") and isinstance(document, dict):
            prefix = document["metadata"]["endpointPrefix"]
        _write(path.with_name(path.name.removesuffix(".gz")), without_documentation(document))
        if path.suffix == ".gz":
            path.unlink()
    return prefix


def slim_endpoints(path: Path, prefixes: set[str]) -> None:
    document = _read(path)
    assert isinstance(document, dict)
    for partition in document["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k in prefixes}
    _write(path, document)


def slim(site: Path, services: set[str]) -> set[str]:
    """Slim botocore's and boto3's data under `site` (a layer's python/ folder) to `services`; the
    endpoint prefixes kept."""
    botocore_data, boto3_data = site / "botocore" / "data", site / "boto3" / "data"
    if not botocore_data.is_dir():
        raise SystemExit(f"{botocore_data}: no SDK installed")
    for folder in (botocore_data, boto3_data):
        for model in (p for p in folder.iterdir() if p.is_dir() and p.name not in services):
            shutil.rmtree(model)
    missing = services - {p.name for p in botocore_data.iterdir() if p.is_dir()}
    if missing:
        raise SystemExit(f"no botocore model for {sorted(missing)}")
    resources = {
        name: {p.parent.name for p in (boto3_data / name).glob("*/resources-1.json")} for name in services
    }
    prefixes = {slim_model_folder(botocore_data / name, resources[name]) for name in services}
    if "" in prefixes:
        raise SystemExit(f"a model of {sorted(services)} has no service-2.json")
    slim_endpoints(botocore_data / "endpoints.json", prefixes)
    return prefixes


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    slim(Path(sys.argv[1]), listed(Path(sys.argv[2])))
