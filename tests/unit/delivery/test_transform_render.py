"""Rendering transformations: sizes per fit, dpr, formats from Accept, no metadata, caps."""

from __future__ import annotations

import io

import numpy as np
import pytest
from media_core.domain.errors import MediaRejected
from media_core.domain.transform import TransformLimits, TransformOptions
from media_core.engines.imaging.guards import ImageLimits
from media_core.engines.imaging.transform import (
    RenderedTransform,
    choose_source,
    output_size,
    render_transform,
)
from PIL import Image

from tests.support import images

MAGIC = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG", "webp": b"RIFF", "avif": b"ftypavif"}
PRIVATE = (b"secret", b"GPS", b"TestCam", b"Model X", b"http://ns.adobe.com", b"xmpmeta")


def opened(result: RenderedTransform) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


def assert_no_metadata(result: RenderedTransform) -> None:
    image = opened(result)
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(image.info)
    for secret in PRIVATE:
        assert secret not in result.data, secret


@pytest.fixture(scope="module")
def rotated_photo() -> bytes:
    # Stored 800x600 with EXIF orientation 6 (display rotated 90°): upright it is 600x800.
    return images.jpeg_with_metadata((800, 600), orientation=6)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_output_is_upright_resized_in_the_format_asked_with_no_metadata(
    rotated_photo: bytes, fmt: str
) -> None:
    # Given a JPEG with EXIF orientation 6, GPS, XMP and a comment
    # When it is rendered 300 px wide in an explicit format
    result = render_transform(rotated_photo, TransformOptions(width=300, format=fmt))  # type: ignore[arg-type]
    # Then the output is upright (portrait), 300 wide, in that format, with nothing of the source's metadata
    image = opened(result)
    assert image.size == (300, 400) == (result.width, result.height)
    assert image.format == fmt.upper() and result.format == fmt
    assert MAGIC[fmt] in result.data[:12]
    assert result.content_type == f"image/{fmt}"
    assert not result.vary_accept and not result.must_redirect
    assert_no_metadata(result)


@pytest.mark.parametrize(
    ("options", "size"),
    [
        (TransformOptions(width=300), (300, 400)),
        (TransformOptions(height=200), (150, 200)),
        (TransformOptions(width=300, height=300), (225, 300)),  # contain: inside the box
        (TransformOptions(width=300, height=300, fit="cover"), (300, 300)),  # cover: cropped to the box
        (TransformOptions(width=500, height=100, fit="fill"), (500, 100)),  # fill: exact, stretched
        (TransformOptions(width=2000), (600, 800)),  # contain never upscales
        (TransformOptions(width=1200, height=600, fit="cover"), (600, 300)),  # nor cover: box aspect kept
        (TransformOptions(width=1000, height=1000, fit="fill"), (1000, 1000)),  # fill does, by design
        (TransformOptions(width=150, dpr=2), (300, 400)),  # dpr multiplies
        (TransformOptions(width=100, height=100, fit="cover", dpr=1.5), (150, 150)),
        (TransformOptions(), (600, 800)),
    ],
)
def test_sizes_per_fit(rotated_photo: bytes, options: TransformOptions, size: tuple[int, int]) -> None:
    result = render_transform(rotated_photo, options)
    assert opened(result).size == size == (result.width, result.height)
    assert output_size(options, (600, 800)) == size


def test_cover_crops_the_centre() -> None:
    # Given a 300x100 image, left third red, middle green, right third blue
    source = Image.new("RGB", (300, 100), (255, 0, 0))
    source.paste((0, 255, 0), (100, 0, 200, 100))
    source.paste((0, 0, 255), (200, 0, 300, 100))
    # When covered into a square, Then only the green middle remains
    result = render_transform(
        images.encode(source, "PNG"), TransformOptions(width=50, height=50, fit="cover", format="png")
    )
    pixels = np.asarray(opened(result).convert("RGB"), dtype=float)
    assert pixels[:, :, 1].mean() > 240 and pixels[:, :, 0].mean() < 15 and pixels[:, :, 2].mean() < 15


def test_every_exif_orientation_renders_the_same_upright_image() -> None:
    reference = render_transform(
        images.corpus("orientation/landscape_1.jpg"), TransformOptions(width=200, format="png")
    )
    want = np.asarray(opened(reference).convert("L"), dtype=float)
    for n in range(2, 9):
        result = render_transform(
            images.corpus(f"orientation/landscape_{n}.jpg"), TransformOptions(width=200, format="png")
        )
        got = np.asarray(opened(result).convert("L"), dtype=float)
        assert got.shape == want.shape, n
        assert np.abs(got - want).mean() < 8, n


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "avif"),
        ("image/webp,*/*", "webp"),
        ("*/*", "jpeg"),
        (None, "jpeg"),
        ("avif", "avif"),  # what the CloudFront Function forwards
        ("image/webp", "webp"),
    ],
)
def test_auto_bytes_follow_accept(rotated_photo: bytes, accept: str | None, fmt: str) -> None:
    result = render_transform(rotated_photo, TransformOptions(width=200), accept=accept)
    assert result.format == fmt and opened(result).format == fmt.upper()
    assert MAGIC[fmt] in result.data[:12]
    assert result.vary_accept  # the caller sends Vary: Accept
    assert_no_metadata(result)


@pytest.mark.parametrize(
    ("accept", "fmt", "mode"),
    [(None, "png", "RGBA"), ("image/webp", "webp", "RGBA"), ("image/avif", "avif", "RGBA")],
)
def test_auto_keeps_transparency(accept: str | None, fmt: str, mode: str) -> None:
    # Given a PNG whose right half is transparent, When rendered with format auto
    result = render_transform(images.rgba_png(), TransformOptions(width=200), accept=accept)
    # Then a format with alpha is chosen (PNG rather than JPEG) and the alpha survives
    image = opened(result)
    assert result.format == fmt and image.mode == mode
    assert image.getchannel("A").getextrema() == (0, 255)


def test_explicit_jpeg_flattens_transparency_on_white() -> None:
    result = render_transform(images.rgba_png(), TransformOptions(width=200, format="jpeg"))
    image = opened(result)
    assert image.mode == "RGB"
    assert np.asarray(image)[:, -10:].mean() > 245  # the transparent half became white


def test_quality_changes_the_bytes(rotated_photo: bytes) -> None:
    low = render_transform(rotated_photo, TransformOptions(width=400, format="webp", quality=30))
    high = render_transform(rotated_photo, TransformOptions(width=400, format="webp", quality=95))
    assert low.size < high.size


def test_large_outputs_ask_to_store_and_redirect(rotated_photo: bytes) -> None:
    result = render_transform(rotated_photo, TransformOptions(format="png"), max_inline_bytes=50_000)
    assert result.must_redirect and result.size > 50_000
    assert result.data  # the bytes to store are there


def test_no_dimensions_still_respects_the_output_caps(rotated_photo: bytes) -> None:
    limits = TransformLimits(max_width=4096, max_height=4096, max_pixels=100_000)
    result = render_transform(rotated_photo, TransformOptions(format="jpeg"), limits=limits)
    assert result.width * result.height <= 100_000
    assert abs(result.width / result.height - 0.75) < 0.01


@pytest.mark.parametrize(
    "data",
    [images.bomb_png(), b"%PDF-1.4 not an image", images.truncated(images.jpeg_with_metadata(), 0.3)],
    ids=["pixel-bomb", "not-an-image", "truncated"],
)
def test_hostile_sources_are_rejected_like_in_the_processors(data: bytes) -> None:
    with pytest.raises(MediaRejected):
        render_transform(data, TransformOptions(width=100), image_limits=ImageLimits(max_pixels=50_000_000))


def test_choose_source_prefers_the_smallest_variant_giving_the_same_output() -> None:
    original = (4000, 3000)
    variants = {"thumbnail": (150, 150), "small": (320, 240), "medium": (640, 480), "large": (1080, 810)}
    assert choose_source(TransformOptions(width=640), original, variants) == "medium"
    assert choose_source(TransformOptions(width=320, dpr=2), original, variants) == "medium"
    assert choose_source(TransformOptions(width=700), original, variants) == "large"
    assert choose_source(TransformOptions(width=100, height=100, fit="cover"), original, variants) == "small"
    assert choose_source(TransformOptions(width=1280), original, variants) is None
    assert choose_source(TransformOptions(), original, variants) is None
    assert choose_source(TransformOptions(width=320), original, variants, has_alpha=True) is None
    # A source smaller than the request: every full-frame variant that is the source's size works
    assert choose_source(TransformOptions(width=900), (640, 480), {"medium": (640, 480)}) == "medium"
