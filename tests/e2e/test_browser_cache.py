"""In Chromium: a gallery of 20 images loaded twice; the second load fetches no image bytes from
the network. Counted from the browser's own network events (Chrome DevTools Protocol: every
image response and whether it came from the disk or memory cache, and the bytes each load
took off the wire), so it holds only if the API returns the same URLs within a window and the
local CDN answers them with cacheable headers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.media_api import ready_image

USER = "e2e-cache"
IMAGES = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Images are made ready by delivering their queued events directly: no pollers needed.
    with running_stack(tmp_path_factory.mktemp("e2e-cache"), pollers=False) as running:
        yield running


@dataclass
class ImageTraffic:
    """Image requests of one page load, from CDP Network events."""

    urls: dict[str, str] = field(default_factory=dict)  # requestId -> url
    cached: set[str] = field(default_factory=set)  # requestIds answered from a cache
    wire_bytes: dict[str, int] = field(default_factory=dict)  # requestId -> encodedDataLength

    def from_network(self) -> list[str]:
        return sorted(self.urls[r] for r in self.urls if r not in self.cached)

    def network_bytes(self) -> int:
        return sum(n for r, n in self.wire_bytes.items() if r in self.urls and r not in self.cached)


class Recorder:
    """Routes the CDP events into the traffic of the current load."""

    def __init__(self, cdp: Any) -> None:
        self.current = ImageTraffic()
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.requestServedFromCache", self._served_from_cache)
        cdp.on("Network.loadingFinished", self._finished)

    def next_load(self) -> ImageTraffic:
        self.current = ImageTraffic()
        return self.current

    def _response(self, event: dict[str, Any]) -> None:
        if event.get("type") == "Image" and "/cdn/" in event["response"]["url"]:
            self.current.urls[event["requestId"]] = event["response"]["url"]
            if event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache"):
                self.current.cached.add(event["requestId"])

    def _served_from_cache(self, event: dict[str, Any]) -> None:
        self.current.cached.add(event["requestId"])

    def _finished(self, event: dict[str, Any]) -> None:
        self.current.wire_bytes[event["requestId"]] = int(event.get("encodedDataLength") or 0)


def load_gallery(page: Page, stack: LocalStack) -> None:
    # The list requests this load makes, for the message if the first page is not 12 cards (seen
    # twice in CI, 20 cards before "Load more", never reproduced here: which requests made them?)
    listed: list[str] = []

    def record(response: Any) -> None:
        if "/media?" in response.url:
            listed.append(f"{response.request.method} {response.url.split('/', 3)[-1]} -> {response.status}")

    page.on("response", record)
    page.goto(f"{stack.api_url}/")
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    if page.locator("#who").text_content() != USER:
        page.get_by_label("Username").fill(USER)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#who")).to_have_text(USER)
    try:
        expect(page.locator("#gallery > li")).to_have_count(12)  # the page's first page (PAGE_SIZE)
    except AssertionError as error:
        raise AssertionError(f"{error}\nlist requests of this load: {listed}") from None
    finally:
        page.remove_listener("response", record)
    page.get_by_role("button", name="Load more").click()
    expect(page.locator("#gallery > li img.loaded")).to_have_count(IMAGES, timeout=60_000)


def test_a_gallery_seen_twice_fetches_no_image_bytes_the_second_time(browser_context: Any, stack: LocalStack):
    # Given 20 ready images of one user
    for seed in range(IMAGES):
        ready_image(stack, USER, seed=seed)
    page = browser_context.new_page()
    cdp = browser_context.new_cdp_session(page)
    cdp.send("Network.enable")
    try:
        # When the gallery is loaded a first time
        recorder = Recorder(cdp)
        first = recorder.next_load()
        load_gallery(page, stack)
        page.wait_for_load_state("networkidle")
        # Then every image came over the network, from the CDN paths (srcset renditions)
        assert len(first.from_network()) >= IMAGES, first.urls
        assert all("/cdn/t/" in url for url in first.from_network())
        assert first.network_bytes() > 0
        # When the gallery is loaded again (a new navigation, the same window)
        second = recorder.next_load()
        load_gallery(page, stack)
        page.wait_for_load_state("networkidle")
        # Then the same image URLs were used, all answered from the browser's cache
        assert set(second.urls.values()) == set(first.urls.values())
        assert len(second.urls) >= IMAGES
        assert second.from_network() == []
        assert second.network_bytes() == 0
        print(
            f"\nbrowser cache: first load {len(first.from_network())} images / {first.network_bytes()} B "
            f"from the network; second load {len(second.cached)} from cache, "
            f"{len(second.from_network())} / {second.network_bytes()} B from the network"
        )
    finally:
        page.close()
