"""Perceptual hashes find re-encoded copies, separate different photos; bands index them."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from itertools import combinations

import pytest
from media_core.engines.imaging.image_job import ProcessedImage, process_image
from media_core.engines.imaging.similarity import DEFAULT_MAX_DISTANCE, band_layout, hamming, hash_bands
from PIL import Image

from tests.support import images

DIFFERENT = [
    "Canon_40D.jpg",
    "gps_DSCN0010.jpg",
    "phone_HMD_Nokia_8.3_5G.jpg",
    "heic/IMG_5195.HEIC",
    "heic/samplefilehub.heif",
    "orientation/landscape_1.jpg",
    "orientation/portrait_1.jpg",
]


def test_resized_reencoded_copy_is_within_distance(processed_corpus: Callable[[str], ProcessedImage]) -> None:
    # Given a photo and a copy shrunk to 60 % and re-saved as JPEG quality 70
    original = processed_corpus("gps_DSCN0010.jpg")
    image = Image.open(io.BytesIO(images.corpus("gps_DSCN0010.jpg")))
    copy = images.encode(image.resize((384, 288)), "JPEG", quality=70)

    # When the copy is processed
    result = process_image(copy, declared_content_type="image/jpeg")

    # Then the hashes are within the duplicate distance but the files differ
    assert hamming(original.phash, result.phash) <= DEFAULT_MAX_DISTANCE
    assert original.sha256 != result.sha256
    assert set(hash_bands(original.phash)) & set(hash_bands(result.phash))


def test_identical_file_is_an_exact_match(processed_corpus: Callable[[str], ProcessedImage]) -> None:
    # Given the same bytes uploaded twice
    first = processed_corpus("Canon_40D.jpg")
    second = process_image(images.corpus("Canon_40D.jpg"), declared_content_type="image/jpeg")
    # Then the sha256 and the phash are equal
    assert (first.sha256, first.phash) == (second.sha256, second.phash)
    assert first.metadata["phash"] == f"{first.phash:016x}"
    assert len(first.sha256) == 64


def test_different_photos_are_not_duplicates(processed_corpus: Callable[[str], ProcessedImage]) -> None:
    # Given different corpus photos
    hashes = {name: processed_corpus(name).phash for name in DIFFERENT}
    # Then no pair is within the default duplicate distance
    for a, b in combinations(DIFFERENT, 2):
        assert hamming(hashes[a], hashes[b]) > DEFAULT_MAX_DISTANCE, (a, b)


def test_hamming() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, (1 << 64) - 1) == 64


@pytest.mark.parametrize("distance", [0, 1, 3, 6, 10, 15])
def test_bands_cover_all_bits_once(distance: int) -> None:
    layout = band_layout(distance)
    assert len(layout) == distance + 1
    assert sum(width for _, width in layout) == 64
    mask = 0
    for shift, width in layout:
        band = ((1 << width) - 1) << shift
        assert mask & band == 0
        mask |= band
    assert mask == (1 << 64) - 1


def test_band_keys_format() -> None:
    # Given all-ones / When banded for distance 6 (7 bands: 10,9,9,9,9,9,9 bits)
    keys = hash_bands((1 << 64) - 1, 6)
    # Then each key names the band index and its hex value
    assert keys == ["b0:3ff", "b1:1ff", "b2:1ff", "b3:1ff", "b4:1ff", "b5:1ff", "b6:1ff"]


@pytest.mark.parametrize("distance", [1, 4, 6, 8, 12])
def test_hashes_within_distance_share_a_band(distance: int) -> None:
    # Given random hashes and random variants at most `distance` bits away (seeded: reproducible)
    rng = random.Random(distance)
    for _ in range(300):
        a = rng.getrandbits(64)
        b = a
        for bit in rng.sample(range(64), rng.randint(0, distance)):
            b ^= 1 << bit
        # Then at least one band key is identical (pigeonhole), so an index lookup finds b from a
        assert hamming(a, b) <= distance
        assert set(hash_bands(a, distance)) & set(hash_bands(b, distance))


def test_bands_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="max_distance"):
        hash_bands(1, 64)
    with pytest.raises(ValueError, match="unsigned 64-bit"):
        hash_bands(-1, 6)
