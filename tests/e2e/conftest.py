"""End-to-end fixtures: a local stack with its pollers on (uploads are processed as on AWS) and,
for the browser tests, a Chrome/Chromium found by tools/browser.py, driven by Playwright.

A missing browser FAILS the browser tests (`make test` finds or installs one: `make browser`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack
from tools import browser

# A closed network: without these Chromium calls Google hosts (sync, updates, field trials, QUIC).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts"
WEB_VENDOR = Path(__file__).resolve().parents[2] / "web" / "vendor"  # `make web-deps` (mk/web.mk)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("e2e-stack"), pollers=True) as running:
        yield running


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    if not (WEB_VENDOR / "uppy.min.mjs").is_file():
        pytest.fail("the page's Uppy bundle is missing: run `make web-deps`", pytrace=False)
    chromium = browser.locate()
    if chromium is None:
        pytest.fail(f"no Chrome/Chromium: run `make browser` ({browser.install_hint()})", pytrace=False)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()
