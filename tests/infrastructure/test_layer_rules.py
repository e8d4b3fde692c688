"""The layer's import rules, enforced (the README's "Layout" states them):

- domain/ imports nothing else of media_core but domain/, and no AWS SDK, HTTP or Powertools;
- only dal/ imports boto3/botocore (wiring.py builds its objects through dal.clients);
- services/ and processing/ depend on ports, never on dal/ or api/http;
- engines/ does media work on bytes and files: no AWS, no HTTP, no services;
- only api/ (and functions/) knows the event handler (HTTP);
- dal/ never imports services, processing, engines or api;
- the package root keeps at most 8 modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "media_core" / "media_core"


def _modules() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(("media_core", *path.relative_to(PACKAGE).with_suffix("").parts))
        imports: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imports += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports.append(node.module)
        found[name.removesuffix(".__init__")] = imports
    return found


MODULES = _modules()
AWS_SDK = ("boto3", "botocore", "mypy_boto3")
HTTP = ("aws_lambda_powertools.event_handler", "http.server", "requests")


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} imports {imported}"
        for module, imports in MODULES.items()
        if _layer(module) == layer
        for imported in imports
        if any(imported == f or imported.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        (
            "domain",
            (
                *AWS_SDK,
                *HTTP,
                "aws_lambda_powertools",
                "media_core.dal",
                "media_core.services",
                "media_core.processing",
                "media_core.engines",
                "media_core.api",
                "media_core.wiring",
                "media_core.settings",
            ),
        ),
        ("services", (*AWS_SDK, *HTTP, "media_core.dal", "media_core.api.http", "media_core.api.params")),
        ("processing", (*AWS_SDK, *HTTP, "media_core.dal", "media_core.api", "media_core.services")),
        ("engines", (*AWS_SDK, *HTTP, "media_core.dal", "media_core.api", "media_core.services")),
        (
            "dal",
            (*HTTP, "media_core.services", "media_core.processing", "media_core.engines", "media_core.api"),
        ),
        ("ports", (*AWS_SDK, *HTTP, "media_core.dal")),
        ("observability", (*AWS_SDK, *HTTP, "media_core.dal")),
    ],
)
def test_a_layer_imports_only_what_its_rules_allow(layer: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(layer, forbidden) == []


def test_only_the_data_layer_imports_the_aws_sdk() -> None:
    users = {
        module for module, imports in MODULES.items() if any(i.split(".")[0] in AWS_SDK for i in imports)
    }
    assert {m for m in users if _layer(m) != "dal"} == set()


def test_only_api_knows_http() -> None:
    users = {m for m, imports in MODULES.items() if any(i.startswith(HTTP[0]) for i in imports)}
    assert {m for m in users if _layer(m) != "api"} == set()


def test_no_condition_expression_is_written_outside_the_data_layer() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "dal" not in path.relative_to(PACKAGE).parts
        and any(marker in path.read_text(encoding="utf-8") for marker in ("attribute_exists(", "= :", "#pk"))
    ]
    assert offenders == []


def test_the_package_root_keeps_at_most_eight_modules() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= 8, root
