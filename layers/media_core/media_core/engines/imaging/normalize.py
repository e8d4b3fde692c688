"""Bring any decoded image to 8-bit sRGB RGB/RGBA, upright, with no metadata attached."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms

__all__ = [
    "RESIZABLE_MODES",
    "apply_orientation",
    "exif_orientation",
    "has_alpha",
    "oriented_size",
    "pending_orientation",
    "profile_description",
    "to_srgb",
]

# EXIF orientation -> the transpose that makes the image upright (same table as ImageOps.exif_transpose).
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Modes Pillow resizes natively (RGBA/LA are premultiplied internally, so no dark fringes):
# shrinking these before colour conversion saves converting millions of pixels.
RESIZABLE_MODES = frozenset({"RGB", "RGBA", "L", "LA", "CMYK", "RGBX"})

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


def exif_orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112)
    except Exception:  # malformed EXIF must not fail an otherwise good image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def pending_orientation(image: Image.Image) -> int:
    """The EXIF orientation still to apply after decoding: Pillow's TIFF decoder turns the image
    upright itself on load (and reports the upright size before it), as pillow-heif does for
    HEIF (which resets the tag to 1); applying the tag again would turn it twice."""
    return 1 if image.format == "TIFF" else exif_orientation(image)


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Size after applying `orientation` (5-8 swap width and height)."""
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return image if method is None else image.transpose(method)


def has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or (image.mode in ("P", "L", "RGB") and "transparency" in image.info)


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=16)
def _transform(icc: bytes, mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    """Cached per profile: phones embed the same few profiles (Display P3, ...)."""
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(src) or "").lower()
        if "srgb" in description:
            return None  # already sRGB: converting would only cost time
        return ImageCms.buildTransform(src, _srgb(), mode, out_mode, ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # unusable profile: treat the pixels as sRGB, as browsers do


def profile_description(icc: bytes | None) -> str | None:
    if not icc:
        return None
    try:
        text = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return text.strip()[:100] or None


def _sixteen_to_eight(image: Image.Image) -> Image.Image:
    # Pillow's I;16 -> L conversion clips at 255 (a white image); scale instead. numpy only
    # here: importing it costs ~115 ms of a cold start that the transform, document and video
    # paths would otherwise pay for 16-bit input alone.
    import numpy as np

    array = np.asarray(image)
    if array.dtype.kind == "f":
        top = float(array.max()) or 1.0
        scaled = np.clip(array / top * 255.0, 0, 255)
    else:
        scaled = np.clip(array.astype(np.int64) >> 8, 0, 255)
    return Image.fromarray(scaled.astype(np.uint8))


def to_srgb(image: Image.Image, icc: bytes | None = None) -> Image.Image:
    """8-bit sRGB "RGB" or "RGBA" copy of a loaded image; `info` (EXIF, XMP, ICC...) is dropped.

    `icc` defaults to the image's embedded profile. A fully opaque alpha channel is dropped.
    """
    if icc is None:
        icc = image.info.get("icc_profile") or None
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image, mode = _sixteen_to_eight(image), "L"
    elif mode in ("P", "PA", "1", "LA", "La", "RGBa", "RGBX", "YCbCr", "LAB", "HSV") or (
        mode in ("L", "RGB") and "transparency" in image.info
    ):
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
        mode = image.mode
    out_mode = "RGBA" if mode == "RGBA" else "RGB"
    transform = _transform(icc, mode, out_mode) if icc and mode in ("RGB", "RGBA", "CMYK", "L") else None
    converted = ImageCms.applyTransform(image, transform) if transform is not None else None
    if converted is not None:
        image = converted
    elif image.mode != out_mode:
        image = image.convert(out_mode)
    elif image.info:
        image = image.copy()  # never strip the caller's own image
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    image.info = {}
    return image
