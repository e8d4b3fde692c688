"""The client's models are generated from openapi.json, never kept by hand: regenerating gives the
committed file, and the pending multipart-resume contract (contract/pending.json) agrees with
openapi.json wherever openapi.json already has the same route, schema or property."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from local_stack.paths import REPO_ROOT

CLIENT = REPO_ROOT / "clients" / "python"


def generator() -> ModuleType:
    path = CLIENT / "tools" / "generate_models.py"
    spec = importlib.util.spec_from_file_location("generate_models", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_regenerating_the_models_from_openapi_json_gives_the_committed_file():
    # Given the committed models and the generator
    committed = (CLIENT / "src" / "media_pipeline_client" / "models.py").read_text(encoding="utf-8")
    # When the models are generated from the repository's openapi.json
    generated = generator().generate()
    # Then nothing differs (run `python clients/python/tools/generate_models.py` after an API change)
    assert generated == committed
    assert generator().main(["--check"]) == 0


def shape(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> Any:
    """What a client relies on: property names and JSON types (references followed, nullable
    unwrapped; constraints, titles and schema names ignored)."""
    if "$ref" in schema:
        return shape(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, depth)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            options = [shape(s, schemas, depth) for s in schema[combinator] if s.get("type") != "null"]
            return options[0] if len(options) == 1 else options
    if schema.get("type") == "array":
        return [shape(schema.get("items", {}), schemas, depth)]
    if "properties" in schema and depth < 4:
        return {name: shape(s, schemas, depth + 1) for name, s in schema["properties"].items()}
    return schema.get("type", "any")


def contained(expected: Any, actual: Any, where: str) -> list[str]:
    """Where `actual` (openapi.json) lacks or contradicts what `expected` (pending.json) needs."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: an object in pending.json, {actual!r} in openapi.json"]
        problems = []
        for name, sub in expected.items():
            if name not in actual:
                problems.append(f"{where}.{name}: missing from openapi.json")
            else:
                problems += contained(sub, actual[name], f"{where}.{name}")
        return problems
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual) == 1:
        return contained(expected[0], actual[0], f"{where}[]")
    return (
        [] if expected == actual else [f"{where}: {expected!r} in pending.json, {actual!r} in openapi.json"]
    )


def operation_schema(operation: dict[str, Any], part: str) -> dict[str, Any]:
    if part == "body":
        return dict(operation["requestBody"]["content"]["application/json"]["schema"])
    code = min(c for c in operation["responses"] if c.startswith("2"))
    return dict(operation["responses"][code]["content"]["application/json"]["schema"])


def test_the_pending_contract_agrees_with_openapi_json_where_both_have_an_entry():
    # Given the server's document and the pending contract the client also codes against
    openapi = json.loads((REPO_ROOT / "openapi.json").read_text(encoding="utf-8"))
    pending = json.loads((CLIENT / "contract" / "pending.json").read_text(encoding="utf-8"))
    server_schemas = openapi["components"]["schemas"]
    pending_schemas = {**server_schemas, **pending["components"]["schemas"]}
    problems: list[str] = []
    # When every pending route that openapi.json has is compared by shape (names may differ)
    for path, operations in pending["paths"].items():
        for method, operation in operations.items():
            served = openapi["paths"].get(path, {}).get(method)
            if served is None:
                continue  # not on the server yet: the overlay supplies it
            for part in ("body", "reply"):
                if part == "body" and "requestBody" not in operation:
                    continue
                expected = shape(operation_schema(operation, part), pending_schemas)
                actual = shape(operation_schema(served, part), server_schemas)
                problems += contained(expected, actual, f"{method.upper()} {path} {part}")
    # And every pending property of a schema openapi.json has
    for name, schema in pending["components"]["schemas"].items():
        if name in server_schemas:
            for prop, prop_schema in schema.get("properties", {}).items():
                if prop in server_schemas[name].get("properties", {}):
                    expected = shape(prop_schema, pending_schemas)
                    actual = shape(server_schemas[name]["properties"][prop], server_schemas)
                    problems += contained(expected, actual, f"{name}.{prop}")
    # Then nothing disagrees (the server's document wins; fix pending.json or the client)
    assert problems == []


def test_the_generated_models_parse_the_contract_shapes():
    from media_pipeline_client import models

    # Given a multipart upload answer in the agreed format (part_count and part sizes)
    created = models.CreateUploadReply.model_validate(
        {
            "media_id": "a" * 32,
            "kind": "video",
            "status": "awaiting_upload",
            "upload": {
                "method": "MULTIPART",
                "upload_id": "u-1",
                "part_size": 5,
                "part_count": 2,
                "parts": [{"part_number": 1, "url": "https://b/1", "size": 5}],
                "expires_at": "2026-12-01T00:00:00Z",
            },
        }
    )
    # Then the discriminated union picks the multipart model, with its fields typed
    assert isinstance(created.upload, models.MultipartUpload)
    assert (created.upload.part_count, created.upload.parts[0].size) == (2, 5)
    listed = models.ListPartsReply.model_validate(
        {
            "upload_id": "u-1",
            "part_size": 5,
            "part_count": 2,
            "parts": [{"part_number": 1, "etag": '"e"', "size": 5}],
        }
    )
    assert listed.parts[0].etag == '"e"'
    assert models.SignPartsBody(part_numbers=[2]).model_dump() == {"part_numbers": [2]}


def test_the_package_is_typed():
    assert (CLIENT / "src" / "media_pipeline_client" / "py.typed").is_file()
    assert (
        Path(CLIENT / "pyproject.toml")
        .read_text(encoding="utf-8")
        .count('media = "media_pipeline_client.cli:main"')
    )
