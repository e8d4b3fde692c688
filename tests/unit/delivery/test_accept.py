"""The Python Accept normaliser and the CloudFront Function agree, on one shared table."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from media_core.domain.transform import VARY, accept_header_for, normalize_accept

CLOUDFRONT = Path(__file__).resolve().parents[3] / "cloudfront"
CASES: list[dict[str, Any]] = json.loads((CLOUDFRONT / "accept_cases.json").read_text())


def node_binary() -> str:
    """node on PATH, else the one Playwright ships (requirements/dev.txt), so CI needs no extra tool."""
    found = shutil.which("node")
    if found:
        return found
    import playwright

    bundled = Path(playwright.__file__).parent / "driver" / "node"
    if not bundled.exists():
        pytest.fail("node is required to test cloudfront/normalize_accept.js")
    return str(bundled)


@pytest.mark.parametrize("case", CASES, ids=[c["note"] for c in CASES])
def test_python_normaliser_matches_the_table(case: dict[str, Any]) -> None:
    # Given an Accept header from the table, Then it maps to the expected cache key
    token = normalize_accept(case["accept"])
    assert token == case["expected"]
    # And normalising what the CDN forwards changes nothing (the origin may see either)
    assert normalize_accept(accept_header_for(token)) == token
    assert normalize_accept(token) == token


def test_vary_header() -> None:
    assert VARY == "Accept"


def test_cloudfront_function_agrees_on_every_case() -> None:
    # Given the CloudFront Function run by node on the same table
    node = node_binary()
    script = """
const vm = require('node:vm'); const fs = require('node:fs');
const ctx = vm.createContext({}); vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), ctx);
const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const event = c => ({request: {headers: c.accept === null ? {} : {accept: {value: c.accept}}}});
const out = cases.map(c => ctx.handler(event(c)).headers.accept.value);
process.stdout.write(JSON.stringify(out));
"""
    run = subprocess.run(
        [node, "-e", script, str(CLOUDFRONT / "normalize_accept.js"), str(CLOUDFRONT / "accept_cases.json")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    js = json.loads(run.stdout)
    # Then every forwarded value is exactly what the Python side would forward
    python = [accept_header_for(normalize_accept(c["accept"])) for c in CASES]
    assert js == python
