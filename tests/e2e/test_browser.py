"""The upload page (web/) in headless Chromium against a local stack with pollers on: dev sign-in,
uploads with progress bars, live status until ready or failed, refusals, the gallery, delete,
phone width and keyboard use, and the README screenshot.

The tests of this module share one page, in order, as one person would use it.
UPDATE_SCREENSHOT=1 copies the screenshot (always written to tests/.artifacts/) to docs/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from local_stack.stack import LocalStack
from tests.e2e.conftest import ARTIFACTS
from tests.support import images
from tests.support.av_media import AvMedia
from tests.support.images import CORPUS
from tests.support.local_stack import bearer

pytestmark = pytest.mark.e2e

USER = "e2e-browser"
SETTLE_MS = 90_000
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> AvMedia:
    return AvMedia(tmp_path_factory.mktemp("e2e-media"))


@pytest.fixture(scope="module")
def page(browser_context: Any, stack: LocalStack) -> Iterator[Page]:
    outside: list[str] = []

    def record(request: Any) -> None:
        if urlsplit(request.url).hostname not in ("127.0.0.1", "localhost", None):
            outside.append(request.url)

    page = browser_context.new_page()
    page.on("request", record)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.api_url}/")
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    yield page
    assert not outside, f"the page fetched from outside the machine: {outside}"
    assert not errors, f"uncaught errors in the page: {errors}"
    page.close()


def take_screenshot(page: Page) -> None:
    """Always to tests/.artifacts/; copied to docs/screenshot.png with UPDATE_SCREENSHOT=1."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "screenshot.png"
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.locator("#uploads img.thumb.loaded").first.wait_for()
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOT)


def upload_card(page: Page, name: str) -> Locator:
    return page.locator("#uploads > li", has=page.locator("h3", has_text=name))


def gallery_ids(page: Page) -> list[str]:
    return list(page.locator("#gallery > li").evaluate_all("cards => cards.map(c => c.dataset.mediaId)"))


def has_route(stack: LocalStack, method: str, path: str) -> bool:
    assert stack.gateway is not None
    return any(r.method == method and r.path == path for r in stack.gateway.routes)


def test_sign_in_upload_a_photo_and_a_video_and_see_them_ready(page: Page, media: AvMedia, tmp_path: Path):
    # Given a signed-in user (dev sign-in: the local stack's token issuer)
    page.get_by_label("Username").fill(USER)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(USER)
    # And an observer of every progress value the upload rows show
    page.evaluate(
        """() => {
          window.progressSeen = {};
          new MutationObserver((changes) => {
            for (const c of changes) {
              const card = c.target;
              const name = card.querySelector('h3').textContent;
              (window.progressSeen[name] ||= []).push(Number(card.dataset.progress));
            }
          }).observe(document.querySelector('#uploads'),
                     {subtree: true, attributes: true, attributeFilter: ['data-progress']});
        }"""
    )
    photo = tmp_path / "Canon 40D.jpg"
    shutil.copy(CORPUS / "Canon_40D.jpg", photo)
    clip = tmp_path / "clip.mp4"
    shutil.copy(media.landscape_mp4(), clip)
    # When both are picked at once with the file button's input
    page.locator("#file-input").set_input_files([str(photo), str(clip)])
    # Then each row's progress bar reaches 100 %, never going backwards
    for name in ("Canon 40D.jpg", "clip.mp4"):
        card = upload_card(page, name)
        expect(card.locator("progress")).to_have_attribute("value", "100", timeout=SETTLE_MS)
        expect(card.locator(".percent")).to_have_text("100 %")
    seen = page.evaluate("window.progressSeen")
    for name, values in seen.items():
        assert values == sorted(values) and values[-1] == 100, (name, values)
    # And both become ready
    photo_card, clip_card = upload_card(page, "Canon 40D.jpg"), upload_card(page, "clip.mp4")
    expect(photo_card).to_have_attribute("data-status", "ready", timeout=SETTLE_MS)
    expect(clip_card).to_have_attribute("data-status", "ready", timeout=SETTLE_MS)
    # And the photo shows its blurhash placeholder and its thumbnail, loaded from the media bucket
    expect(photo_card.locator("canvas.blurhash")).to_be_attached()
    thumb = photo_card.locator("img.thumb")
    expect(thumb).to_have_class("thumb loaded", timeout=10_000)
    assert thumb.evaluate("img => img.naturalWidth") > 0
    expect(photo_card.locator(".variants li")).to_have_count(6)
    expect(photo_card.locator(".metadata dl")).to_contain_text("Canon")
    # And the video has a player with its poster, and the poster image loads
    video = clip_card.locator("video")
    poster = video.get_attribute("poster")
    assert poster and "poster" in poster
    assert video.get_attribute("src")
    size = page.evaluate(
        """(url) => new Promise((ok, ko) => {
             const img = new Image(); img.onload = () => ok([img.naturalWidth, img.naturalHeight]);
             img.onerror = () => ko(new Error('poster did not load')); img.src = url; })""",
        poster,
    )
    assert size == [320, 240]
    expect(clip_card.locator(".variants summary")).to_contain_text("Variants")


def test_refusals_and_a_hostile_file_are_explained(page: Page, stack: LocalStack, tmp_path: Path):
    # When a disallowed type, an oversized photo and a PDF pretending to be a JPEG are picked
    big = tmp_path / "huge.jpg"
    with big.open("wb") as sparse:
        sparse.truncate(21 * 1024 * 1024)  # a sparse file: the API refuses it before any byte is sent
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00" * 64)
    pdf = tmp_path / "holiday.jpg"
    pdf.write_bytes(images.pdf_document())
    page.locator("#file-input").set_input_files([str(exe), str(big), str(pdf)])
    # Then the refusals say why, and nothing was uploaded for them
    refused = upload_card(page, "setup.exe")
    expect(refused).to_have_attribute("data-status", "refused")
    expect(refused.locator(".reason")).to_contain_text("Type not allowed")
    expect(refused.locator(".reason")).to_contain_text("is not allowed")
    too_big = upload_card(page, "huge.jpg")
    expect(too_big).to_have_attribute("data-status", "refused")
    expect(too_big.locator(".reason")).to_contain_text("Too large")
    # And the hostile file uploads, then fails with the processor's reason
    hostile = upload_card(page, "holiday.jpg")
    expect(hostile).to_have_attribute("data-status", "failed", timeout=SETTLE_MS)
    expect(hostile.locator(".reason")).to_contain_text("not an image: the bytes are a PDF")
    expect(hostile.locator(".badge")).to_have_text("failed")
    # The screenshot for the README: this session's uploads, ready, refused and failed
    take_screenshot(page)


def test_an_invalid_session_is_signed_out_with_a_message(page: Page, stack: LocalStack):
    # Given a saved session whose token the authorizer does not accept (expired, other key…)
    page.evaluate(
        """() => sessionStorage.setItem('media-pipeline.session', JSON.stringify(
             {token: 'not-a-token', username: 'mallory', admin: false, expires_at: Date.now() + 3600e3}))"""
    )
    # When the page is opened and calls the API with it
    page.reload()
    if not has_route(stack, "GET", "/media"):  # no gallery call to refuse it: an upload is refused
        page.locator("#file-input").set_input_files(
            [{"name": "note.txt", "mimeType": "text/plain", "buffer": b"hello\n"}]
        )
        expect(upload_card(page, "note.txt").locator(".reason")).to_contain_text("Signed out")
    # Then the API's 401 signs the page out, and it says so
    expect(page.locator("#notice")).to_contain_text("You are signed out")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Choose files…")).to_be_disabled()
    # And a file dropped while signed out is refused with the same message, nothing is sent
    page.locator("#file-input").set_input_files(
        [{"name": "later.txt", "mimeType": "text/plain", "buffer": b"hello\n"}]
    )
    expect(page.locator("#notice")).to_contain_text("sign in to upload")
    expect(upload_card(page, "later.txt")).to_have_count(0)
    # And signing in again works
    page.get_by_label("Username").fill(USER)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(USER)
    expect(page.locator("#notice")).to_be_hidden()


def test_gallery_lists_newest_first_filters_and_deletes(page: Page, stack: LocalStack):
    assert has_route(stack, "GET", "/media") and has_route(stack, "DELETE", "/media/{media_id}")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#gallery > li")).to_have_count(3, timeout=10_000)
    # Then the gallery lists the three uploads newest first
    ids = gallery_ids(page)
    created = {
        i: requests.get(f"{stack.api_url}/media/{i}", headers=bearer(stack, USER), timeout=30).json()[
            "created_at"
        ]
        for i in ids
    }
    assert ids == sorted(ids, key=lambda i: created[i], reverse=True)
    # And a filter narrows it to the video
    page.get_by_label("Kind").select_option("video")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#gallery > li")).to_have_count(1)
    expect(page.locator("#gallery > li video")).to_have_count(1)
    page.get_by_label("Kind").select_option("")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#gallery > li")).to_have_count(3)
    # When the photo is deleted (two presses: delete, confirm)
    card = page.locator("#gallery > li", has=page.locator("h3", has_text="Canon 40D.jpg"))
    media_id = card.get_attribute("data-media-id")
    card.get_by_role("button", name="Delete Canon 40D.jpg").click()
    card.get_by_role("button", name="Confirm: delete Canon 40D.jpg").click()
    # Then it is gone from the page, from a fresh listing and from the API
    expect(page.locator(f"#g-{media_id}")).to_have_count(0)
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#gallery > li")).to_have_count(2)
    assert media_id not in gallery_ids(page)
    gone = requests.get(f"{stack.api_url}/media/{media_id}", headers=bearer(stack, USER), timeout=30)
    assert gone.status_code == 404 or gone.json()["status"] == "deleted"


def test_keyboard_and_phone_width(page: Page):
    # Every control has an accessible name (labels, not placeholders)
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, button')]
             .filter(el => !el.closest('[hidden]'))
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.textContent.trim())
             .map(el => el.outerHTML)"""
    )
    assert unnamed == []
    # Keyboard: from the top, Tab reaches the file button, and Enter on it opens the file chooser
    page.locator("body").focus()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "pick-button":
            break
    assert page.evaluate("() => document.activeElement.id") == "pick-button"
    page.evaluate(
        """() => document.querySelector('#file-input')
             .addEventListener('click', () => { window.inputOpened = true; }, {once: true})"""
    )
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.inputOpened === true")
    # At phone width (375 px) nothing overflows sideways
    page.set_viewport_size({"width": 375, "height": 800})
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 375, overflow
    page.screenshot(path=str(ARTIFACTS / "screenshot-375.png"), full_page=True)
