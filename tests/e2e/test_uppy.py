"""The page's Uppy uploader (the real @uppy/core + @uppy/aws-s3 + @uppy/golden-retriever from the
`uppy` npm package, served from web/vendor/) in headless Chromium against a local stack whose
multipart threshold and part size are S3's 5 MiB minimum: a multipart upload reaches `ready`; a
reload mid-upload resumes from ListParts without re-sending the parts already there; a file over
the limit is refused with the API's message."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from local_stack.stack import LocalStack
from tests.support.flow import record, wait_settled
from tests.support.local_stack import running_stack

pytestmark = pytest.mark.e2e

USER = "e2e-uppy"
MIB = 1024 * 1024
SETTLE_MS = 90_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    params = {"MultipartThresholdBytes": str(5 * MIB), "MultipartPartBytes": str(5 * MIB)}
    with running_stack(tmp_path_factory.mktemp("e2e-uppy"), pollers=True, params=params) as running:
        yield running


@pytest.fixture
def page(browser_context: Any, stack: LocalStack) -> Iterator[Page]:
    errors: list[str] = []
    page = browser_context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.api_url}/")
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    if page.locator("#who").text_content() != USER:
        page.get_by_label("Username").fill(USER)
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(USER)
    yield page
    assert not errors, f"uncaught errors in the page: {errors}"
    page.close()


def text_file(path: Path, mib: int) -> Path:
    line = b"Minutes of the meeting, line after line.\n"
    path.write_bytes(line * (mib * MIB // len(line)))
    return path


def card_of(page: Page, name: str) -> Any:
    return page.locator("#uploads > li", has=page.locator("h3", has_text=name))


def part_number(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["partNumber"][0])


def test_uppy_is_the_npm_package_and_a_multipart_upload_becomes_ready(
    page: Page, stack: LocalStack, tmp_path: Path
):
    # The page runs the real Uppy from npm (web/vendor/, copied by `make web-deps`)
    versions = page.evaluate(
        """async () => { const m = await import('/web/vendor/uppy.min.mjs');
             return [m.Uppy.VERSION, m.AwsS3.VERSION, m.GoldenRetriever.VERSION]; }"""
    )
    assert versions[0].startswith("5.") and versions[1].startswith("5."), versions
    # Given an 11 MiB file: 3 parts of 5, 5 and 1 MiB
    big = text_file(tmp_path / "agenda.txt", 11)
    puts: list[int] = []
    page.on(
        "request",
        lambda r: puts.append(part_number(r.url)) if r.method == "PUT" and "partNumber=" in r.url else None,
    )
    calls: list[str] = []
    page.on(
        "request", lambda r: calls.append(f"{r.method} {urlsplit(r.url).path}") if "/s3/" in r.url else None
    )
    # When it is chosen on the page
    page.locator("#file-input").set_input_files(str(big))
    card = card_of(page, "agenda.txt")
    # Then it goes up in parts through the /s3 routes and becomes ready
    expect(card).to_have_attribute("data-status", "ready", timeout=SETTLE_MS)
    assert sorted(puts) == [1, 2, 3]
    assert "POST /s3/multipart" in calls and any(c.endswith("/complete") for c in calls)
    media_id = card.get_attribute("data-media-id")
    assert media_id
    body = record(stack, media_id)
    assert body["original"]["size"] == big.stat().st_size
    assert body["metadata"]["line_count"] == 11 * MIB // 41


def test_a_reload_mid_upload_resumes_without_resending_the_parts_already_uploaded(
    page: Page, stack: LocalStack, tmp_path: Path
):
    # Given a 16 MiB file (4 parts) whose part 3 hangs in the first page life
    big = text_file(tmp_path / "long-minutes.txt", 16)
    puts: list[tuple[str, int]] = []  # (page life, part number)
    life = {"now": "first"}
    stalled: list[Route] = []
    done = {1: threading.Event(), 2: threading.Event(), 4: threading.Event()}

    def on_request(request: Any) -> None:
        if request.method == "PUT" and "partNumber=" in request.url:
            puts.append((life["now"], part_number(request.url)))

    def on_response(response: Any) -> None:
        request = response.request
        if request.method == "PUT" and "partNumber=" in request.url and response.status == 200:
            number = part_number(request.url)
            if number in done:
                done[number].set()

    def hang_part_3(route: Route) -> None:
        if life["now"] == "first" and part_number(route.request.url) == 3:
            stalled.append(route)  # never answered: the reload cuts it off
        else:
            route.continue_()

    page.on("request", on_request)
    page.on("response", on_response)
    page.route("**/*partNumber=*", hang_part_3)
    page.locator("#file-input").set_input_files(str(big))
    card = card_of(page, "long-minutes.txt")
    # When parts 1, 2 and 4 are in the bucket (and Golden Retriever saved the upload id), the page reloads
    for _ in range(900):  # Playwright delivers the network events while the page waits
        if all(event.is_set() for event in done.values()):
            break
        page.wait_for_timeout(100)
    assert all(event.is_set() for event in done.values()), puts
    expect(card).to_have_attribute("data-media-id", re.compile(r"^[0-9a-f]{32}$"))
    media_id = card.get_attribute("data-media-id")
    page.wait_for_function(
        """() => Object.keys(localStorage).some(k => k.startsWith('uppyState:')
             && localStorage.getItem(k).includes('uploadId'))"""
    )
    page.wait_for_timeout(1200)  # Golden Retriever writes its state throttled (500 ms)
    assert stalled, "part 3 was never requested"
    life["now"] = "second"
    page.reload()
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    # Then Uppy resumes from ListParts: the upload finishes and the record becomes ready
    card = card_of(page, "long-minutes.txt")
    expect(card).to_have_attribute("data-status", "ready", timeout=SETTLE_MS)
    page.unroute("**/*partNumber=*")
    second = sorted(n for when, n in puts if when == "second")
    first = sorted(n for when, n in puts if when == "first")
    assert first == [1, 2, 3, 4]
    # And only part 3 was sent again: 1, 2 and 4 were already in the bucket
    assert second == [3], puts
    assert card.get_attribute("data-media-id") == media_id
    body = record(stack, media_id)
    assert body["original"]["size"] == big.stat().st_size
    assert body["status"] == "ready"


def test_a_file_over_the_limit_is_refused_with_the_message_shown(
    page: Page, stack: LocalStack, tmp_path: Path
):
    # Given a 51 MiB document (the limit is 50 MiB), sparse: nothing needs to be sent
    big = tmp_path / "archive.zip"
    with big.open("wb") as sparse:
        sparse.truncate(51 * MIB)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url}"))
    # When it is chosen
    page.locator("#file-input").set_input_files(str(big))
    # Then the card says why, in the API's words, and no byte went to the bucket
    card = card_of(page, "archive.zip")
    expect(card).to_have_attribute("data-status", "refused")
    expect(card.locator(".reason")).to_contain_text(
        "Too large: size: 51.0 MB exceeds the document limit of 50.0 MB"
    )
    assert "POST" in next(
        u for u in sent if "/s3/multipart" in u
    )  # above the threshold: refused at the start
    assert not [u for u in sent if stack.aws_endpoint in u], sent


# Uppy 6.x (`uppy-6`, a devDependency of web/package.json, the npm package uppy@6): its
# `companionEndpoint` client sends no configurable headers, so the page must add the bearer token
# to its /s3 requests itself (docs/uppy.md). Run with and without that wrapper.
UPPY_6 = """async ({ files, wrap }) => {
  const { Uppy, AwsS3 } = await import('/web/node_modules/uppy-6/dist/uppy.min.mjs');
  const token = JSON.parse(sessionStorage.getItem('media-pipeline.session')).token;
  const auth = { Authorization: `Bearer ${token}` };
  const limits = await (await fetch('/uploads/limits', { headers: auth })).json();
  const endpoint = window.location.origin;
  const plain = window.fetch.bind(window);
  const calls = [];
  window.fetch = (input, init = {}) => {
    const url = typeof input === 'string' ? input : input.url;
    if (url.startsWith(`${endpoint}/s3/`)) {
      calls.push(`${init.method || 'GET'} ${new URL(url).pathname}`);
      if (wrap) init = { ...init, headers: { ...(init.headers || {}), ...auth } };
    }
    return plain(input, init);
  };
  try {
    const uppy = new Uppy({
      id: `uppy6-${wrap}`,
      onBeforeFileAdded: (f) => ({ ...f, meta: { ...f.meta, size: f.data.size } }),
    });
    uppy.use(AwsS3, {
      companionEndpoint: endpoint,
      shouldUseMultipart: (f) => f.size > limits.multipart_threshold_bytes,
      getChunkSize: (f) =>
        Math.max(limits.multipart_part_bytes, 5 * 2 ** 20, Math.ceil(f.size / limits.max_parts)),
      allowedMetaFields: ['size'],
    });
    const line = 'Minutes of the meeting, line after line.\\n';
    for (const [name, bytes] of files) {
      const text = line.repeat(Math.floor(bytes / line.length));
      uppy.addFile({ name, type: 'text/plain', data: new File([text], name, { type: 'text/plain' }) });
    }
    const result = await uppy.upload();
    return {
      version: [Uppy.VERSION, AwsS3.VERSION],
      successful: result.successful.map((f) => [f.name, f.response.body.key]),
      failed: result.failed.map((f) => [f.name, String(f.error)]),
      calls,
    };
  } finally {
    window.fetch = plain;
  }
}"""


def test_uppy_6_companion_endpoint_needs_the_token_added_by_the_page(page: Page, stack: LocalStack):
    files = [["six-parts.txt", 11 * MIB], ["six-small.txt", 4096]]
    # Without help, 6.x's companionEndpoint sends no Authorization header: the API answers 401
    bare = page.evaluate(UPPY_6, {"files": files, "wrap": False})
    assert bare["version"][0].startswith("6.") and bare["version"][1].startswith("6."), bare
    assert bare["successful"] == [] and len(bare["failed"]) == 2, bare
    assert all("Unauthorized" in error for _, error in bare["failed"]), bare
    # With the page adding the token to its /s3 requests, both upload through the same routes
    done = page.evaluate(UPPY_6, {"files": files, "wrap": True})
    assert done["failed"] == [], done
    assert "POST /s3/multipart" in done["calls"] and "GET /s3/params" in done["calls"], done["calls"]
    keys = dict(done["successful"])
    assert set(keys) == {"six-parts.txt", "six-small.txt"}
    line = len(b"Minutes of the meeting, line after line.\n")
    for name, size in files:
        media_id = keys[name].split("/")[3]
        body = wait_settled(stack, USER, media_id)
        assert body["status"] == "ready", body
        assert body["original"]["size"] == size // line * line
