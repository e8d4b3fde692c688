"""Every EXIF orientation of the corpus photos comes out upright, at exact sizes, never upscaled."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from media_core.domain.transform import parse_options
from media_core.engines.imaging.image_job import ProcessedImage, process_image
from media_core.engines.imaging.transform import render_transform
from PIL import Image

from tests.support import images
from tests.unit.imaging.conftest import by_name, pixels

EXPECTED = {
    # the orientation photos are 600x450 (landscape) / 450x600 (portrait) once upright
    "landscape": {"thumbnail": (150, 150), "small": (320, 240), "medium": (600, 450), "large": (600, 450)},
    "portrait": {"thumbnail": (150, 150), "small": (240, 320), "medium": (450, 600), "large": (450, 600)},
}


@pytest.mark.parametrize("shape", ["landscape", "portrait"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_comes_out_upright(
    processed_corpus: Callable[[str], ProcessedImage], shape: str, orientation: int
) -> None:
    # Given the same scene saved with EXIF orientation 1..8
    reference = by_name(processed_corpus(f"orientation/{shape}_1.jpg"))

    # When it is processed
    result = processed_corpus(f"orientation/{shape}_{orientation}.jpg")

    # Then every variant has the upright size and the same pixels as the orientation-1 variant
    # (a wrong rotation or flip differs by 40+ levels on average; re-encoding by ~6)
    assert result.metadata["orientation"] == orientation
    assert (result.metadata["width"], result.metadata["height"]) == EXPECTED[shape]["large"]
    for name, variant in by_name(result).items():
        expected = EXPECTED[shape].get(name, EXPECTED[shape]["medium"])
        assert (variant.width, variant.height) == expected, name
        got = pixels(variant)
        assert got.shape[:2] == (expected[1], expected[0]), name
        difference = float(np.abs(got - pixels(reference[name])).mean())
        assert difference < 10, f"{name}: mean difference {difference:.1f}"


def test_small_image_is_never_upscaled(processed_corpus: Callable[[str], ProcessedImage]) -> None:
    # Given a 100x68 camera JPEG
    # When it is processed
    result = by_name(processed_corpus("Canon_40D.jpg"))

    # Then no variant is larger than the original; the square crop uses the short side
    assert (result["large"].width, result["large"].height) == (100, 68)
    assert (result["small"].width, result["small"].height) == (100, 68)
    assert (result["thumbnail"].width, result["thumbnail"].height) == (68, 68)


def test_large_phone_photo_gets_exact_longest_side(processed_corpus: Callable[[str], ProcessedImage]) -> None:
    # Given a 4608x1976 phone photo
    # When it is processed
    result = by_name(processed_corpus("phone_HMD_Nokia_8.3_5G.jpg"))

    # Then each variant's longest side is its box, the other side keeps the aspect ratio
    sizes = {name: (v.width, v.height) for name, v in result.items()}
    assert sizes == {
        "thumbnail": (150, 150),
        "small": (320, 137),
        "medium": (640, 274),
        "large": (1080, 463),
        "webp": (640, 274),
        "avif": (640, 274),
    }
    for name, variant in result.items():
        assert pixels(variant).shape[:2] == (sizes[name][1], sizes[name][0])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_tiff_with_an_orientation_tag_is_turned_upright_once(
    processed_corpus: Callable[[str], ProcessedImage], orientation: int
) -> None:
    # Given the landscape scene's stored pixels (as the camera wrote them) saved as a TIFF that
    # carries the same orientation tag (Pillow's TIFF decoder turns it upright on load itself)
    reference = by_name(processed_corpus("orientation/landscape_1.jpg"))
    with Image.open(io.BytesIO(images.corpus(f"orientation/landscape_{orientation}.jpg"))) as jpeg:
        stored = jpeg.convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    tiff = io.BytesIO()
    stored.save(tiff, format="TIFF", exif=exif)

    # When it is processed, and transformed on demand
    result = process_image(tiff.getvalue(), declared_content_type="image/tiff")
    rendered = render_transform(tiff.getvalue(), parse_options("f_png,w_300"))
    upright = render_transform(images.corpus("orientation/landscape_1.jpg"), parse_options("f_png,w_300"))

    # Then it is upright once, not twice: the upright size, the orientation-1 pixels
    assert result.metadata["orientation"] == orientation
    assert (result.metadata["width"], result.metadata["height"]) == EXPECTED["landscape"]["large"]
    for name, variant in by_name(result).items():
        expected = EXPECTED["landscape"].get(name, EXPECTED["landscape"]["medium"])
        assert (variant.width, variant.height) == expected, name
        difference = float(np.abs(pixels(variant) - pixels(reference[name])).mean())
        assert difference < 10, f"{name}: mean difference {difference:.1f}"
    with Image.open(io.BytesIO(rendered.data)) as got, Image.open(io.BytesIO(upright.data)) as want:
        assert got.size == want.size == (300, 225)
        difference = float(np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64)).mean())
        assert difference < 10, f"transform: mean difference {difference:.1f}"
