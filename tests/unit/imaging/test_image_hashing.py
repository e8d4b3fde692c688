"""Blurhash, dominant colour and pHash from small images (numpy implementations)."""

from __future__ import annotations

from media_core.engines.imaging.hashing import blurhash, dominant_color, phash
from PIL import Image

from tests.support import images

_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def _decode83(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 83 + _BASE83.index(ch)
    return value


def test_blurhash_shape_and_average_colour() -> None:
    # Given a flat orange image
    image = Image.new("RGB", (200, 100), (230, 120, 30))
    # When hashed with 4x3 components
    value = blurhash(image)
    # Then: 1 size char + 1 max-AC char + 4 DC chars + 2 per AC component, and the DC is the colour
    assert len(value) == 2 + 4 + 2 * (4 * 3 - 1)
    assert _decode83(value[0]) == (4 - 1) + (3 - 1) * 9
    dc = _decode83(value[2:6])
    assert (dc >> 16, (dc >> 8) & 255, dc & 255) == (230, 120, 30)


def test_blurhash_varies_with_content() -> None:
    assert blurhash(images.photo_like((300, 200), seed=1)) != blurhash(images.photo_like((300, 200), seed=2))


def test_dominant_colour() -> None:
    # Given an image that is 70 % blue, 30 % red
    image = Image.new("RGB", (100, 100), (20, 40, 200))
    image.paste((220, 10, 10), (0, 0, 30, 100))
    # Then the dominant colour is the blue
    assert dominant_color(image) == "#1428c8"


def test_phash_survives_downscaling() -> None:
    # Given a photo-like image and a copy at a quarter of the size
    photo = images.photo_like((640, 480), seed=3)
    # Then their hashes are within the duplicate distance, and the hash is 64-bit
    assert bin(phash(photo) ^ phash(photo.resize((160, 120)))).count("1") <= 6
    assert 0 <= phash(photo) < 1 << 64
