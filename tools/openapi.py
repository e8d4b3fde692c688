"""Generate the OpenAPI document from the API functions' code (Powertools builds each part from
the route signatures and pydantic models); `--check` fails when the committed openapi.json drifts."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "openapi.json"
# The same document, shipped in the domain layer: the query function serves it at GET /openapi.json.
SERVED = ROOT / "layers" / "media_core" / "media_core" / "openapi.json"
TITLE = "Media pipeline API"
VERSION = "1.0.0"


def _api_functions() -> list[Path]:
    """Every function of the template with an Api event, in template order."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass
    found = []
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        events = (props.get("Events") or {}).values()
        if resource["Type"] == "AWS::Serverless::Function" and any(e.get("Type") == "Api" for e in events):
            module = props["Handler"].rsplit(".", 1)[0]
            found.append(ROOT / props["CodeUri"] / f"{module}.py")
    return found


def _load(path: Path) -> ModuleType:
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))  # as Lambda's: the function's sibling modules (its routes)
    spec = importlib.util.spec_from_file_location(f"openapi_{path.parent.name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build() -> dict[str, Any]:
    # The functions validate their settings at import; any well-formed values do here.
    for name, value in {
        "TABLE_NAME": "openapi",
        "UPLOADS_BUCKET": "openapi-uploads",
        "MEDIA_BUCKET": "openapi-media",
        "IMAGE_QUEUE_URL": "http://openapi/image",
        "AV_QUEUE_URL": "http://openapi/av",
        "DOCUMENT_QUEUE_URL": "http://openapi/document",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        os.environ.setdefault(name, value)
    sys.path.insert(0, str(ROOT / "layers" / "media_core"))
    document: dict[str, Any] = {}
    for path in _api_functions():
        part = json.loads(_load(path).app.get_openapi_json_schema(title=TITLE, version=VERSION))
        if not document:
            document = part
            continue
        for route, operations in part.get("paths", {}).items():  # one path, methods in several functions
            document["paths"].setdefault(route, {}).update(operations)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(part.get("components", {}).get("schemas", {}))
    document["components"]["securitySchemes"] = {
        "CognitoAuthorizer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (Cognito ID token)"}
    }
    document["security"] = [{"CognitoAuthorizer": []}]
    document["info"]["description"] = (
        "Presigned direct-to-S3 uploads and media records. Every route needs a Cognito ID token."
    )
    return document


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if openapi.json is out of date")
    parser.add_argument("--write", action="store_true", help="write openapi.json")
    args = parser.parse_args()
    text = render()
    if args.check:
        for path in (OUTPUT, SERVED):
            if not path.exists() or path.read_text() != text:
                print(
                    f"{path.relative_to(ROOT)} is out of date: run `make openapi` and commit it",
                    file=sys.stderr,
                )
                return 1
        print("openapi.json is up to date")
        return 0
    if args.write:
        for path in (OUTPUT, SERVED):
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
