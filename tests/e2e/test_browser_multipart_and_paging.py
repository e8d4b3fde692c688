"""The page's multipart path (parts a few at a time, a failed part retried) and the gallery's
"Load more" cursor pagination, in headless Chromium against a local stack whose multipart
threshold and part size are lowered to S3's 5 MiB minimum."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from local_stack.stack import LocalStack
from tests.support.flow import record, upload
from tests.support.local_stack import running_stack

pytestmark = pytest.mark.e2e

USER = "e2e-paging"
MIB = 1024 * 1024
SETTLE_MS = 90_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    params = {"MultipartThresholdBytes": str(5 * MIB), "MultipartPartBytes": str(5 * MIB)}
    with running_stack(tmp_path_factory.mktemp("e2e-paging"), pollers=True, params=params) as running:
        yield running


@pytest.fixture(scope="module")
def page(browser_context: Any, stack: LocalStack) -> Iterator[Page]:
    errors: list[str] = []
    page = browser_context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.api_url}/")
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    page.get_by_label("Username").fill(USER)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(USER)
    yield page
    assert not errors, f"uncaught errors in the page: {errors}"
    page.close()


def test_a_large_file_goes_up_in_parts_and_a_failed_part_is_retried(
    page: Page, stack: LocalStack, tmp_path: Path
):
    # Given a 12 MiB text file: above the 5 MiB threshold, so 3 parts of 5 MiB
    big = tmp_path / "minutes.txt"
    big.write_bytes(b"Minutes of the meeting, line after line.\n" * (12 * MIB // 41))
    parts_sent: list[int] = []
    failed_once: set[int] = set()

    def part(route: Route) -> None:
        number = int(parse_qs(urlsplit(route.request.url).query)["partNumber"][0])
        parts_sent.append(number)
        if number == 2 and number not in failed_once:
            failed_once.add(number)  # the bucket fails part 2 once: the page must retry it
            route.fulfill(status=503, body="SlowDown")
        else:
            route.continue_()

    page.route("**/*partNumber=*", part)
    try:
        # When it is chosen on the page
        page.locator("#file-input").set_input_files(str(big))
        card = page.locator("#uploads > li", has=page.locator("h3", has_text="minutes.txt"))
        # Then its progress reaches 100 %, every part was sent, part 2 twice, and it becomes ready
        expect(card.locator("progress")).to_have_attribute("value", "100", timeout=SETTLE_MS)
        expect(card).to_have_attribute("data-status", "ready", timeout=SETTLE_MS)
    finally:
        page.unroute("**/*partNumber=*")
    assert sorted(parts_sent) == [1, 2, 2, 3]
    media_id = card.get_attribute("data-media-id")
    assert media_id
    body = record(stack, media_id)
    assert body["original"]["size"] == big.stat().st_size
    assert body["metadata"]["line_count"] == 12 * MIB // 41


def test_load_more_pages_through_the_gallery_without_gaps_or_repeats(page: Page, stack: LocalStack):
    # Given 13 more files of this user (more than one gallery page of 12)
    uploaded = [
        upload(stack, USER, f"note-{i:02}.txt", "text/plain", f"note {i}\n".encode()) for i in range(13)
    ]
    # When the gallery is refreshed
    page.get_by_role("button", name="Refresh").click()
    cards = page.locator("#gallery > li")
    expect(cards).to_have_count(12)
    more = page.get_by_role("button", name="Load more")
    expect(more).to_be_visible()
    # Then "Load more" brings the rest: 13 notes + the multipart file, each once, newest first
    more.click()
    expect(cards).to_have_count(14)
    expect(more).to_be_hidden()
    ids = list(cards.evaluate_all("cards => cards.map(c => c.dataset.mediaId)"))
    assert len(set(ids)) == 14
    assert ids[:13] == list(reversed(uploaded))
