"""Limits checked from the header, before a single pixel is decoded."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from media_core.domain.errors import MediaRejected

__all__ = ["ImageLimits", "check_frames", "check_pixels", "frame_count"]


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Settings for `process_image`; the handler builds one from its environment."""

    max_pixels: int = 50_000_000
    """Width x height of the stored image (env IMAGE_MAX_PIXELS). 50 MP covers every phone camera."""
    max_frames: int = 1000
    """Frames of an animation (env IMAGE_MAX_FRAMES); counting them parses headers only."""
    max_bytes: int = 100 * 1024 * 1024
    """Size of the original (env IMAGE_MAX_BYTES); the presigned POST should enforce it first."""
    allow_gps: bool = False
    """Copy GPS coordinates into the metadata (env IMAGE_ALLOW_GPS). Off: location is personal data."""


def _mp(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}"


def check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    pixels = width * height
    if width <= 0 or height <= 0:
        raise MediaRejected(f"invalid image: the header declares {width}x{height} pixels")
    if pixels > limits.max_pixels:
        raise MediaRejected(
            f"too large: {_mp(pixels)} MP exceeds the {limits.max_pixels / 1_000_000:g} MP limit "
            f"({width}x{height})"
        )


def frame_count(image: Image.Image) -> int:
    # Pillow's GIF/WebP/AVIF/HEIF plugins count frames by walking frame headers (no decoding).
    return int(getattr(image, "n_frames", 1) or 1)


def check_frames(frames: int, limits: ImageLimits) -> None:
    if frames > limits.max_frames:
        raise MediaRejected(f"too many frames: {frames} exceeds the limit of {limits.max_frames}")
