"""Hostile and broken files are refused with a specific reason, and bombs are never decoded."""

from __future__ import annotations

import time

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.imaging.guards import ImageLimits
from media_core.engines.imaging.image_job import process_image

from tests.support import images


def reject(data: bytes, content_type: str = "image/jpeg", limits: ImageLimits | None = None) -> str:
    with pytest.raises(MediaRejected) as caught:
        process_image(data, declared_content_type=content_type, limits=limits or ImageLimits())
    return caught.value.message


def test_zero_bytes() -> None:
    # Given an empty upload / When processed / Then
    assert reject(b"") == "empty file (0 bytes)"


def test_truncated_jpeg() -> None:
    # Given the first half of a real JPEG
    data = images.truncated(images.corpus("gps_DSCN0010.jpg"))

    # When processed / Then the reason names the truncation (LOAD_TRUNCATED_IMAGES stays off)
    assert reject(data).startswith("truncated JPEG")


def test_truncated_png() -> None:
    assert reject(images.truncated(images.rgba_png()), "image/png").startswith("truncated PNG")


def test_pdf_named_jpg() -> None:
    # Given a PDF uploaded as photo.jpg
    # When processed / Then the reason says what it really is
    assert reject(images.pdf_document(), "image/jpeg") == "not an image: the bytes are a PDF"


def test_text_named_png() -> None:
    assert reject(b"name,price\nwidget,3\n", "image/png") == "not an image: the bytes are text"


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (images.zip_archive({"a.txt": b"x"}), "a ZIP archive"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "an SVG drawing (vector images are not supported)"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "a video (MP4/QuickTime)"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "an executable"),
        (bytes(range(256)) * 4, "an unrecognised binary format"),
    ],
    ids=["zip", "svg", "mp4", "elf", "binary"],
)
def test_other_files_are_named(data: bytes, label: str) -> None:
    assert reject(data) == f"not an image: the bytes are {label}"


def test_decompression_bomb_is_refused_from_the_header() -> None:
    # Given a valid single-colour 20000x20000 PNG of ~50 KB (400 MP once decoded)
    data = images.bomb_png(20000)
    assert len(data) < 100_000

    # When processed
    started = time.perf_counter()
    reason = reject(data, "image/png")

    # Then it is refused in milliseconds, i.e. without decoding 400 MP
    assert reason == "too large: 400.0 MP exceeds the 50 MP limit (20000x20000)"
    assert time.perf_counter() - started < 0.5


def test_pixel_cap_is_configurable_and_reports_megapixels() -> None:
    # Given an 8000x8000 header (64 MP) over a few bytes
    data = images.png_claiming(8000, 8000)

    # Then it is refused under the default cap and accepted up to the decode under a larger one
    assert reject(data, "image/png") == "too large: 64.0 MP exceeds the 50 MP limit (8000x8000)"
    assert reject(images.png_claiming(300, 300), "image/png", ImageLimits(max_pixels=50_000)) == (
        "too large: 0.1 MP exceeds the 0.05 MP limit (300x300)"
    )


@pytest.mark.parametrize(
    "data",
    [images.png_claiming(65535, 65535), images.jpeg_claiming(60000, 60000)],
    ids=["png", "jpeg"],
)
def test_header_claiming_huge_dimensions_over_tiny_data(data: bytes) -> None:
    # Given a header claiming billions of pixels over < 1 KB
    assert len(data) < 1024
    # When processed / Then refused as too large before any allocation
    assert reject(data).startswith("too large: ")


def test_gif_with_thousands_of_frames() -> None:
    # Given a 1x1 GIF with 5000 frames
    data = images.many_frames_gif(5000)

    # When processed / Then the frame cap refuses it
    assert reject(data, "image/gif") == "too many frames: 5000 exceeds the limit of 1000"


def test_header_damage_is_reported_as_corrupt() -> None:
    # Given a PNG signature followed by garbage
    data = b"\x89PNG\r\n\x1a\n" + b"\x13" * 200
    # When processed / Then
    assert reject(data, "image/png").startswith("corrupt PNG")


def test_byte_cap() -> None:
    assert reject(images.corpus("Canon_40D.jpg"), limits=ImageLimits(max_bytes=1000)).startswith(
        "too large: 7958 bytes"
    )
