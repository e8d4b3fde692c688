"""Inputs in every mode and container we accept become correct sRGB variants."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from media_core.engines.imaging.image_job import ProcessedImage, process_image
from media_core.engines.imaging.presets import DEFAULT_PRESETS, POSTER_PRESETS, Preset
from media_core.engines.imaging.render import render_variants
from PIL import Image, ImageCms

from tests.support import images
from tests.unit.imaging.conftest import by_name, decode, pixels


def test_default_variants_have_declared_formats(processed_corpus: Callable[[str], ProcessedImage]) -> None:
    # Given a photo
    # When it is processed
    result = processed_corpus("gps_DSCN0010.jpg")

    # Then each preset yields its format, content type and real encoded bytes
    assert [v.name for v in result.variants] == [p.name for p in DEFAULT_PRESETS]
    for variant, preset in zip(result.variants, DEFAULT_PRESETS, strict=True):
        image = decode(variant)
        assert image.format == preset.format == variant.format
        assert variant.content_type == preset.content_type
        assert image.size == (variant.width, variant.height)
    assert decode(by_name(result)["large"]).info.get("progressive") == 1


@pytest.mark.parametrize("name", ["heic/IMG_5195.HEIC", "heic/samplefilehub.heif"])
def test_heic_photos_give_correct_variants(
    processed_corpus: Callable[[str], ProcessedImage], name: str
) -> None:
    # Given an iPhone HEIC (2566x3313, Display P3) and a sample HEIF
    original = Image.open(images.CORPUS / name)
    width, height = original.size

    # When it is processed
    result = processed_corpus(name)

    # Then it is recognised as HEIF and each variant keeps the aspect ratio
    assert result.metadata["format"] == "HEIF"
    assert (result.metadata["width"], result.metadata["height"]) == (width, height)
    large = by_name(result)["large"]
    scale = min(1080 / max(width, height), 1.0)
    assert (large.width, large.height) == (round(width * scale), round(height * scale))
    original.thumbnail((large.width, large.height))
    difference = np.abs(
        pixels(large) - np.asarray(original.convert("RGB").resize((large.width, large.height)))
    )
    assert float(difference.mean()) < 12  # same picture (P3 -> sRGB shifts colours a little)


def test_png_alpha_kept_in_webp_and_avif_flattened_on_white_in_jpeg() -> None:
    # Given a PNG, left half opaque red, right half fully transparent
    data = images.rgba_png((400, 300))

    # When it is processed
    result = process_image(data, declared_content_type="image/png")
    variants = by_name(result)

    # Then WebP and AVIF keep the alpha channel, JPEG shows white where it was transparent
    assert result.metadata["has_alpha"] is True
    for name in ("webp", "avif"):
        image = decode(variants[name]).convert("RGBA")
        assert image.getpixel((10, 10))[3] == 255
        assert image.getpixel((image.width - 10, 10))[3] == 0
    medium = decode(variants["medium"])
    assert medium.mode == "RGB"
    assert medium.getpixel((medium.width - 10, 10)) == pytest.approx((255, 255, 255), abs=3)
    assert medium.getpixel((10, 10)) == pytest.approx((255, 0, 0), abs=6)


@pytest.mark.parametrize(
    ("data", "mode", "left", "right"),
    [
        (images.palette_png_with_transparency(), "P", (255, 255, 255), (0, 255, 0)),
        (images.la_png(), "LA", (255, 255, 255), (80, 80, 80)),
    ],
    ids=["palette-with-transparency", "grey-with-alpha"],
)
def test_palette_and_la_inputs(
    data: bytes, mode: str, left: tuple[int, int, int], right: tuple[int, int, int]
) -> None:
    # Given a transparent-left image in palette or grey+alpha mode
    # When it is processed
    result = process_image(data, declared_content_type="image/png")

    # Then transparency is recorded and the JPEG shows white on the transparent side
    assert result.metadata["mode"] == mode and result.metadata["has_alpha"] is True
    medium = decode(by_name(result)["medium"])
    assert medium.getpixel((10, 100)) == pytest.approx(left, abs=4)
    assert medium.getpixel((190, 100)) == pytest.approx(right, abs=4)


def test_animated_gif_uses_first_frame_and_counts_frames() -> None:
    # Given a 5-frame GIF whose first frame is red, then green, blue...
    data = images.animated_gif(frames=5)

    # When it is processed
    result = process_image(data, declared_content_type="image/gif")

    # Then it is recorded as animated with 5 frames, and the still variants show frame 1
    assert result.metadata["animated"] is True
    assert result.metadata["frames"] == 5
    assert pixels(by_name(result)["medium"]).mean(axis=(0, 1)) == pytest.approx([255, 0, 0], abs=4)


def test_cmyk_jpeg_becomes_rgb() -> None:
    # Given a CMYK JPEG of pure cyan
    # When it is processed
    result = process_image(images.cmyk_jpeg(), declared_content_type="image/jpeg")

    # Then the variants are RGB cyan
    assert result.metadata["mode"] == "CMYK"
    medium = decode(by_name(result)["medium"])
    assert medium.mode == "RGB"
    assert medium.getpixel((100, 100)) == pytest.approx((0, 255, 255), abs=6)


def test_16_bit_png_is_scaled_not_clipped() -> None:
    # Given a 16-bit greyscale ramp (Pillow's own I;16 -> L conversion would clip it to white)
    # When it is processed
    result = process_image(images.png16((300, 200)), declared_content_type="image/png")

    # Then the ramp survives: dark on the left, light on the right, mid-grey in the middle
    assert result.metadata["mode"] == "I;16"
    image = decode(by_name(result)["small"]).convert("L")
    assert image.getpixel((2, 100)) < 15
    assert image.getpixel((297, 100)) > 240
    assert image.getpixel((150, 100)) == pytest.approx(128, abs=10)


def test_non_srgb_icc_profile_is_converted_to_srgb() -> None:
    # Given a flat colour tagged with a non-sRGB profile (Apple "Generic RGB", gamma 1.8,
    # taken from a corpus photo)
    icc = Image.open(images.ORIENTATION / "landscape_2.jpg").info["icc_profile"]
    source = Image.new("RGB", (300, 200), (90, 140, 200))
    data = images.encode(source, "PNG", icc_profile=icc)
    expected = ImageCms.profileToProfile(
        source, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB")
    )
    assert expected is not None

    # When it is processed
    result = process_image(data, declared_content_type="image/png")

    # Then the variant holds the sRGB values (not the tagged ones) and carries no profile
    assert result.metadata["color_profile"] == "Generic RGB Profile"
    variant = decode(by_name(result)["small"])
    got = variant.getpixel((50, 50))
    assert got == pytest.approx(expected.getpixel((0, 0)), abs=4)
    assert got != pytest.approx((90, 140, 200), abs=4)
    assert "icc_profile" not in variant.info


def test_render_variants_works_on_any_pil_image() -> None:
    # Given a frame the lead got from a video poster (an RGB PIL image, not bytes)
    frame = images.photo_like((1920, 1080))

    # When render_variants runs with the poster presets and a custom PNG preset
    png = Preset("square_png", (64, 64), "cover", "PNG")
    rendered = render_variants(frame, (*POSTER_PRESETS, png))

    # Then every preset is encoded at its size
    assert [(v.name, v.width, v.height) for v in rendered] == [
        ("thumbnail", 150, 150),
        ("small", 320, 180),
        ("medium", 640, 360),
        ("large", 1080, 608),
        ("square_png", 64, 64),
    ]
    assert decode(rendered[-1]).format == "PNG"
