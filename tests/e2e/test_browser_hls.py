"""The page plays a video's HLS stream with hls.js (npm, served from /web/vendor/) in headless
Chromium: playlists through the signed route (the bearer token only on API requests), segments
from presigned media-bucket URLs (CORS), `currentTime` advances, hls.js reports no error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.support.av_media import ffmpeg
from tests.support.hls_media import AAC, X264

USER = "e2e-hls"
SETTLE_MS = 90_000


@pytest.fixture(scope="module")
def page(browser_context: Any, stack: Any) -> Iterator[Page]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.api_url}/")
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    yield page
    assert not errors, f"uncaught errors in the page: {errors}"
    page.close()


def test_the_page_plays_the_hls_stream(page: Page, tmp_path: Path):
    clip = tmp_path / "lecture.mkv"  # Matroska: transcoded (HLS ladder), not remuxed
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
        *X264, *AAC, "-shortest", "-f", "matroska", str(clip),
    )  # fmt: skip
    page.get_by_label("Username").fill(USER)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(USER)
    page.locator("#file-input").set_input_files([str(clip)])
    card = page.locator("#uploads > li", has=page.locator("h3", has_text="lecture.mkv"))
    expect(card).to_have_attribute("data-status", "ready", timeout=SETTLE_MS)
    video = card.locator("video")
    # The player is hls.js, fed by the master playlist of the signed route
    expect(video).to_have_attribute("data-player", "hls")
    expect(video).to_have_attribute("data-levels", "1", timeout=20_000)
    # When it has buffered the start and plays (muted: autoplay rules)
    video.evaluate("v => { v.preload = 'auto'; }")
    page.wait_for_function("v => v.readyState >= 4", arg=video.element_handle(), timeout=30_000)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    # Then currentTime advances, and hls.js reported no error
    page.wait_for_function("v => v.currentTime > 1.0", arg=video.element_handle(), timeout=30_000)
    assert video.get_attribute("data-hls-errors") is None
    assert video.get_attribute("data-player") == "hls"
    assert video.evaluate("v => v.src").startswith("blob:")
    # And the storyboard strip has a cue per second, the preview tile shows on hover
    strip = card.locator(".storyboard")
    expect(strip).to_have_attribute("data-cues", "4")
    strip.hover()
    expect(strip.locator(".storyboard-tile")).to_be_visible()
