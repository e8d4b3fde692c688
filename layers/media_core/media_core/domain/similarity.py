"""Near-duplicate helpers for 64-bit perceptual hashes (pure Python, no Pillow: the API functions
import it through the duplicate index, and media_core.engines.imaging would import Pillow)."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_DISTANCE", "HASH_BITS", "band_layout", "hamming", "hash_bands", "is_near_duplicate"]

HASH_BITS = 64
DEFAULT_MAX_DISTANCE = 6
"""Hamming distance at or below which two pHashes count as the same picture (env IMAGE_DUPLICATE_DISTANCE)."""


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two hashes."""
    return (a ^ b).bit_count()


def is_near_duplicate(a: int, b: int, max_distance: int = DEFAULT_MAX_DISTANCE) -> bool:
    return hamming(a, b) <= max_distance


def band_layout(max_distance: int) -> list[tuple[int, int]]:
    """(shift, width) of each of the max_distance + 1 contiguous bands, most significant first.

    Widths differ by at most one bit (64 = 9 bands of 7 bits + 1 spare bit for d = 8, ...).
    """
    if not 0 <= max_distance < HASH_BITS:
        raise ValueError(f"max_distance must be within 0..{HASH_BITS - 1}")
    count = max_distance + 1
    base, extra = divmod(HASH_BITS, count)
    layout: list[tuple[int, int]] = []
    end = HASH_BITS
    for index in range(count):
        width = base + (1 if index < extra else 0)
        end -= width
        layout.append((end, width))
    return layout


def hash_bands(phash: int, max_distance: int = DEFAULT_MAX_DISTANCE) -> list[str]:
    """Index keys "b{index}:{hex}" for the max_distance + 1 bands of `phash`.

    Pigeonhole: d differing bits touch at most d bands, so two hashes within distance d agree
    exactly on at least one of the d + 1 bands. Look up every key, then confirm with `hamming`.
    Keys only compare between hashes banded with the same max_distance.
    """
    if not 0 <= phash < 1 << HASH_BITS:
        raise ValueError("phash must be an unsigned 64-bit integer")
    keys = []
    for index, (shift, width) in enumerate(band_layout(max_distance)):
        value = (phash >> shift) & ((1 << width) - 1)
        keys.append(f"b{index}:{value:0{(width + 3) // 4}x}")
    return keys
