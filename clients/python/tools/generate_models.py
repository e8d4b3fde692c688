"""Generate the client's pydantic models from the repository's openapi.json.

    python clients/python/tools/generate_models.py          # write src/media_pipeline_client/models.py
    python clients/python/tools/generate_models.py --check  # exit 1 if the committed file differs

Every component schema becomes a model (or an enum); the routes the client calls get aliases
(`CreateUploadBody`, `ListPartsReply`, …) resolved through the document's paths, so the client
never names a schema the server could rename. contract/pending.json (routes agreed with the
server side but not in openapi.json yet) is overlaid only where openapi.json lacks a path, a schema
or a property: the server's document always wins. Standard library only, so it runs anywhere.
"""

from __future__ import annotations

import argparse
import difflib
import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any

CLIENT = Path(__file__).resolve().parent.parent
ROOT = CLIENT.parent.parent
OPENAPI = ROOT / "openapi.json"
PENDING = CLIENT / "contract" / "pending.json"
OUTPUT = CLIENT / "src" / "media_pipeline_client" / "models.py"

# alias → (method, path, "body" | "reply"): the request body or the first 2xx JSON response.
ROUTES: dict[str, tuple[str, str, str]] = {
    "CreateUploadBody": ("post", "/uploads", "body"),
    "CreateUploadReply": ("post", "/uploads", "reply"),
    "CompleteUploadBody": ("post", "/uploads/{media_id}/complete", "body"),
    "CompleteUploadReply": ("post", "/uploads/{media_id}/complete", "reply"),
    "ListPartsReply": ("get", "/uploads/{media_id}/parts", "reply"),
    "SignPartsBody": ("post", "/uploads/{media_id}/parts", "body"),
    "SignPartsReply": ("post", "/uploads/{media_id}/parts", "reply"),
    "GetMediaReply": ("get", "/media/{media_id}", "reply"),
    "ListMediaReply": ("get", "/media", "reply"),
    "BatchDeleteBody": ("post", "/media/batch-delete", "body"),
    "BatchDeleteReply": ("post", "/media/batch-delete", "reply"),
    "ErrorReply": ("post", "/uploads", "error"),
}


def merged_document(openapi: dict[str, Any], pending: dict[str, Any]) -> dict[str, Any]:
    """openapi.json with pending.json's paths, schemas and properties added where missing."""
    document = json.loads(json.dumps(openapi))
    paths = document.setdefault("paths", {})
    for path, operations in pending.get("paths", {}).items():
        for method, operation in operations.items():
            paths.setdefault(path, {}).setdefault(method, operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in pending.get("components", {}).get("schemas", {}).items():
        if name not in schemas:
            schemas[name] = schema
            continue
        properties = schemas[name].setdefault("properties", {})
        for prop, prop_schema in schema.get("properties", {}).items():
            properties.setdefault(prop, prop_schema)  # optional: an older server omits it
    return document


def _str(value: Any) -> str:
    """A Python literal as ruff format writes it (double quotes)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_str(v) for v in value) + "]"
    return repr(value)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _member(value: str) -> str:
    name = re.sub(r"\W", "_", value).upper()
    return f"_{name}" if not name or name[0].isdigit() or keyword.iskeyword(name) else name


def _field(prop: str) -> str:
    """A snake_case attribute for a property (aliased when it differs: `uploadId` -> `upload_id`)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", prop).lower() if not prop.islower() else prop
    return name if name.isidentifier() and not keyword.iskeyword(name) else f"{name}_"


class Generator:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]

    def is_enum(self, name: str) -> bool:
        schema = self.schemas[name]
        return "enum" in schema and schema.get("type") == "string"

    def annotation(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            return _ref_name(schema["$ref"])
        if "const" in schema:
            return f"Literal[{_str(schema['const'])}]"
        if "enum" in schema:
            return "Literal[" + ", ".join(_str(v) for v in schema["enum"]) + "]"
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                union = " | ".join(dict.fromkeys(self.annotation(s) for s in schema[combinator]))
                discriminator = schema.get("discriminator", {}).get("propertyName")
                if discriminator:
                    return f"Annotated[{union}, Field(discriminator={_str(discriminator)})]"
                return union
        kind = schema.get("type")
        if kind == "string":
            return "datetime" if schema.get("format") == "date-time" else "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "null":
            return "None"
        if kind == "array":
            return f"list[{self.annotation(schema.get('items', {}))}]"
        if kind == "object" or "additionalProperties" in schema:
            extra = schema.get("additionalProperties", True)
            value = self.annotation(extra) if isinstance(extra, dict) else "Any"
            return f"dict[str, {value}]"
        return "Any"

    def default(self, schema: dict[str, Any]) -> str:
        value = schema["default"]
        if "$ref" in schema and self.is_enum(_ref_name(schema["$ref"])):
            return f"{_ref_name(schema['$ref'])}.{_member(value)}"
        if isinstance(value, list | dict):
            return f"Field(default_factory=lambda: {_str(value)})"
        return _str(value)

    def enum(self, name: str, schema: dict[str, Any]) -> list[str]:
        lines = [f"class {name}(StrEnum):"]
        lines += [f"    {_member(v)} = {_str(v)}" for v in schema["enum"]]
        return lines

    def model(self, name: str, schema: dict[str, Any]) -> list[str]:
        lines = [f"class {name}(BaseModel):"]
        if schema.get("description"):
            lines += [f"    {_str(schema['description'])}", ""]
        # Requests are closed (the server refuses unknown fields); replies tolerate fields added later.
        extra = "forbid" if schema.get("additionalProperties") is False else "allow"
        lines.append(f'    model_config = ConfigDict(extra="{extra}", populate_by_name=True)')
        required = set(schema.get("required", []))
        for prop, prop_schema in sorted(schema.get("properties", {}).items()):
            annotation = self.annotation(prop_schema)
            field = _field(prop)
            alias = f"alias={_str(prop)}" if field != prop else ""
            if prop in required:
                value = f" = Field({alias})" if alias else ""
            elif "default" in prop_schema:
                default = self.default(prop_schema)
                value = f" = Field({default}, {alias})" if alias else f" = {default}"
            else:
                if "None" not in annotation.split(" | "):
                    annotation = f"{annotation} | None"
                value = f" = Field(None, {alias})" if alias else " = None"
            lines.append(f"    {field}: {annotation}{value}")
        if len(lines) == 2 + 2 * bool(schema.get("description")):
            lines.append("    pass")
        return lines

    def route(self, alias: str, method: str, path: str, part: str) -> str:
        operation = self.document["paths"].get(path, {}).get(method)
        if operation is None:
            raise SystemExit(f"{alias}: {method.upper()} {path} is in neither openapi.json nor pending.json")
        if part == "body":
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
        else:
            codes = sorted(
                c for c in operation["responses"] if (c.startswith("2") if part == "reply" else c >= "4")
            )
            content = operation["responses"][codes[0]].get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
        return f"{alias} = {self.annotation(schema)}"

    def render(self) -> str:
        out = [
            '"""Generated from openapi.json by clients/python/tools/generate_models.py: do not edit.',
            "Regenerate with `python clients/python/tools/generate_models.py`; a test fails on drift.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "from datetime import datetime",
            "from enum import StrEnum",
            "from typing import Annotated, Any, Literal",
            "",
            "from pydantic import BaseModel, ConfigDict, Field",
        ]
        # Enums first: model defaults refer to their members.
        names = sorted(self.schemas, key=lambda n: (not self.is_enum(n), n))
        for name in names:
            schema = self.schemas[name]
            out += ["", "", *(self.enum(name, schema) if self.is_enum(name) else self.model(name, schema))]
        out += ["", "", "# The routes the client calls → their request bodies and replies."]
        out += [self.route(alias, *spec) for alias, spec in ROUTES.items()]
        out += ["", "", "for _model in list(globals().values()):"]
        out += [
            "    if isinstance(_model, type) and issubclass(_model, BaseModel) and _model is not BaseModel:"
        ]
        out += ["        _model.model_rebuild()", ""]
        return "\n".join(out)


def generate(openapi_path: Path = OPENAPI, pending_path: Path = PENDING) -> str:
    openapi = json.loads(openapi_path.read_text(encoding="utf-8"))
    pending = json.loads(pending_path.read_text(encoding="utf-8")) if pending_path.exists() else {}
    return Generator(merged_document(openapi, pending)).render()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed models drift")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), "committed", "generated", lineterm=""
            )
            print("\n".join(diff), file=sys.stderr)
            print(f"{OUTPUT} is stale: run python {Path(__file__).relative_to(ROOT)}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
