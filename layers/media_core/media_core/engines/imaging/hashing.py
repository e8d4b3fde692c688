"""Content fingerprints computed from a small upright copy: pHash, blurhash, dominant colour.

Written with numpy (scipy/imagehash would add ~100 MB to the Lambda package for three functions).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["blurhash", "dominant_color", "flatten", "phash", "phash_hex"]

_F64 = npt.NDArray[np.float64]
_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def flatten(image: Image.Image) -> Image.Image:
    """RGB copy with any transparency composited on white (what a viewer would see)."""
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


@lru_cache(maxsize=2)
def _dct_matrix(n: int) -> _F64:
    # Unnormalised DCT-II (as scipy.fftpack.dct), so hashes match imagehash.phash bit for bit
    # given the same 32x32 input.
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    matrix: _F64 = 2.0 * np.cos(np.pi * k * (2 * x + 1) / (2 * n))
    return matrix


def phash(image: Image.Image, hash_size: int = 8, highfreq_factor: int = 4) -> int:
    """64-bit DCT perceptual hash: robust to resizing, re-encoding and small colour changes."""
    size = hash_size * highfreq_factor
    grey = flatten(image).convert("L").resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    pixels = np.asarray(grey, dtype=np.float64)
    matrix = _dct_matrix(size)
    low = (matrix @ pixels @ matrix.T)[:hash_size, :hash_size]
    bits = (low > np.median(low)).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def phash_hex(value: int) -> str:
    return f"{value:016x}"


def _srgb_to_linear(values: _F64) -> _F64:
    v = values / 255.0
    out: _F64 = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return out


def _linear_to_srgb(value: float) -> int:
    v = min(1.0, max(0.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _base83(value: int, length: int) -> str:
    return "".join(_BASE83[(value // 83 ** (length - i - 1)) % 83] for i in range(length))


def blurhash(image: Image.Image, x_components: int = 4, y_components: int = 3) -> str:
    """Blurhash (https://blurha.sh) of the image: a ~28-character placeholder clients can paint."""
    if not (1 <= x_components <= 9 and 1 <= y_components <= 9):
        raise ValueError("blurhash components must be within 1..9")
    small = flatten(image).copy()
    small.thumbnail((32, 32), Image.Resampling.BILINEAR)
    linear = _srgb_to_linear(np.asarray(small, dtype=np.float64))
    h, w = linear.shape[:2]
    xs, ys = np.arange(w), np.arange(h)
    factors: list[_F64] = []
    for j in range(y_components):
        for i in range(x_components):
            basis = np.cos(np.pi * j * ys / h)[:, None] * np.cos(np.pi * i * xs / w)[None, :]
            norm = 1.0 if i == j == 0 else 2.0
            factors.append(norm * (basis[:, :, None] * linear).sum(axis=(0, 1)) / (w * h))
    dc, ac = factors[0], factors[1:]
    result = _base83((x_components - 1) + (y_components - 1) * 9, 1)
    if ac:
        actual_max = max(float(np.abs(f).max()) for f in ac)
        quantised_max = max(0, min(82, math.floor(actual_max * 166 - 0.5)))
        max_value = (quantised_max + 1) / 166
        result += _base83(quantised_max, 1)
    else:
        max_value = 1.0
        result += _base83(0, 1)
    r, g, b = (_linear_to_srgb(float(c)) for c in dc)
    result += _base83((r << 16) + (g << 8) + b, 4)
    for factor in ac:
        q = [
            max(0, min(18, math.floor(math.copysign(abs(c / max_value) ** 0.5, c) * 9 + 9.5)))
            for c in (float(v) for v in factor)
        ]
        result += _base83(q[0] * 19 * 19 + q[1] * 19 + q[2], 2)
    return result


def dominant_color(image: Image.Image) -> str:
    """#rrggbb: the mean of the most populated cell of a coarse 8x8x8 colour grid."""
    small = flatten(image).copy()
    small.thumbnail((64, 64), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.int64).reshape(-1, 3)
    cells = ((pixels[:, 0] >> 5) << 6) | ((pixels[:, 1] >> 5) << 3) | (pixels[:, 2] >> 5)
    top = int(np.bincount(cells, minlength=512).argmax())
    r, g, b = (round(float(c)) for c in pixels[cells == top].mean(axis=0))
    return f"#{r:02x}{g:02x}{b:02x}"
