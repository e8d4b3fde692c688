"""The whole flow over HTTP, without a browser, with the pollers doing the work as Lambda's event
source mappings would: presign (POST /uploads) → POST (or multipart PUTs) to the bucket → S3 event
→ SQS → processor → GET /media/{id} → every variant URL downloads and opens (Pillow, ffprobe)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import m3u8
import pytest
import requests
from media_core.engines.av.binaries import find_binaries
from PIL import Image

from local_stack.stack import LocalStack
from tests.support import images
from tests.support.av_media import AvMedia
from tests.support.flow import download, start_upload, upload, wait_settled
from tests.support.images import CORPUS
from tests.support.local_stack import bearer

pytestmark = pytest.mark.e2e

USER = "e2e-http"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> AvMedia:
    return AvMedia(tmp_path_factory.mktemp("e2e-http-media"))


def probe(data: bytes, tmp_path: Path, name: str) -> dict[str, Any]:
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(
        [
            str(find_binaries().ffprobe),
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def check_variants(record: dict[str, Any], tmp_path: Path) -> None:
    """Every variant downloads with its recorded size and opens as its content type."""
    assert record["variants"], record
    for name, variant in record["variants"].items():
        data = download(variant["url"])
        assert len(data) == variant["bytes"], name
        content_type = variant["content_type"]
        if content_type.startswith("image/"):
            with Image.open(io.BytesIO(data)) as picture:
                picture.load()
                assert Image.MIME[picture.format] == content_type, name
                assert picture.size == (variant["width"], variant["height"]), name
        elif content_type == "text/vtt":  # the storyboard
            text = data.decode("utf-8")
            assert text.startswith("WEBVTT") and "#xywh=" in text, name
        elif content_type == "application/vnd.apple.mpegurl":  # the HLS master playlist
            assert m3u8.loads(data.decode("utf-8")).playlists, name
        else:
            streams = {s["codec_type"] for s in probe(data, tmp_path, f"{name}.bin")["streams"]}
            expected = {"video/mp4": {"video", "audio"}, "audio/mpeg": {"audio"}}[content_type]
            assert expected <= streams, (name, streams)


def test_photo_video_audio_and_pdf_flow_through_presigned_posts(
    stack: LocalStack, media: AvMedia, tmp_path: Path
):
    # Given four uploads made as a client makes them: presign, then POST straight to the bucket
    uploaded = {
        upload(stack, USER, "Canon_40D.jpg", "image/jpeg", (CORPUS / "Canon_40D.jpg").read_bytes()): {
            "thumbnail",
            "small",
            "medium",
            "large",
            "webp",
            "avif",
        },
        upload(stack, USER, "clip.mp4", "video/mp4", media.landscape_mp4().read_bytes()): {"mp4", "poster"},
        upload(stack, USER, "tone.mp3", "audio/mpeg", media.mp3_with_cover().read_bytes()): {"mp3"},
        upload(stack, USER, "doc.pdf", "application/pdf", images.pdf_document()): {"thumbnail"},
    }
    # When the pollers deliver the S3 events to the processors, each record becomes ready
    for media_id, expected in uploaded.items():
        record = wait_settled(stack, USER, media_id, timeout=90)
        assert record["status"] == "ready", record
        assert expected <= set(record["variants"]), (expected, record["variants"])
        # Then each variant URL downloads and opens as what it claims to be
        check_variants(record, tmp_path)


def test_multipart_upload_parts_then_complete(stack: LocalStack, tmp_path: Path):
    # Given a photo uploaded as a multipart upload (parts PUT, ETags collected, then completed)
    data = images.jpeg_with_metadata((1200, 900))
    created = start_upload(stack, USER, "parts.jpg", "image/jpeg", len(data), multipart=True)
    plan = created["upload"]
    assert plan["method"] == "MULTIPART"
    parts = []
    for part in plan["parts"]:
        start = (part["part_number"] - 1) * plan["part_size"]
        sent = requests.put(part["url"], data=data[start : start + plan["part_size"]], timeout=60)
        assert sent.status_code == 200, sent.text
        parts.append({"part_number": part["part_number"], "etag": sent.headers["ETag"]})
    done = requests.post(
        f"{stack.api_url}/uploads/{created['media_id']}/complete",
        headers=bearer(stack, USER),
        json={"parts": parts},
        timeout=30,
    )
    assert done.status_code == 202, done.text
    # Then it is processed once, like a single POST
    record = wait_settled(stack, USER, created["media_id"], timeout=90)
    assert record["status"] == "ready", record
    assert record["metadata"]["width"] == 1200
    check_variants(record, tmp_path)


def test_a_file_lying_about_its_type_ends_failed_with_a_reason(stack: LocalStack):
    media_id = upload(stack, USER, "invoice.jpg", "image/jpeg", images.pdf_document())
    record = wait_settled(stack, USER, media_id, timeout=60)
    assert record["status"] == "failed"
    assert "not an image: the bytes are a PDF" in record["failure_reason"]
    assert record["variants"] == {}


def test_the_page_and_dev_sign_in_are_served_locally(stack: LocalStack):
    page = requests.get(f"{stack.api_url}/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert 'src="/web/js/app.js"' in page.text
    script = requests.get(f"{stack.api_url}/web/js/app.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    # Dev sign-in: a token the authorizer accepts, for that user (same sub as `make token`)
    answer = requests.post(f"{stack.api_url}/_local/token", json={"username": USER}, timeout=10)
    assert answer.status_code == 200, answer.text
    token = answer.json()["id_token"]
    created = requests.post(
        f"{stack.api_url}/uploads",
        headers={"Authorization": f"Bearer {token}"},
        json={"filename": "a.png", "content_type": "image/png", "size": 10},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    mine = requests.get(
        f"{stack.api_url}/media/{created.json()['media_id']}", headers=bearer(stack, USER), timeout=10
    )
    assert mine.status_code == 200
    # And bad requests are refused with a reason
    bad = requests.post(f"{stack.api_url}/_local/token", json={"username": "../etc"}, timeout=10)
    assert bad.status_code == 400 and "username" in bad.json()["message"]
    assert requests.get(f"{stack.api_url}/_local/token", timeout=10).status_code == 405
