"""process_image: bytes in; variants, metadata and fingerprints out. No AWS, no event shapes."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from media_core.engines.imaging.decode import decode_upright
from media_core.engines.imaging.formats import CONTENT_TYPES, open_image
from media_core.engines.imaging.guards import ImageLimits, check_frames, frame_count
from media_core.engines.imaging.hashing import blurhash, dominant_color, phash, phash_hex
from media_core.engines.imaging.metadata import camera_exif, gps
from media_core.engines.imaging.normalize import (
    exif_orientation,
    has_alpha,
    oriented_size,
    pending_orientation,
    profile_description,
)
from media_core.engines.imaging.presets import DEFAULT_PRESETS, Preset
from media_core.engines.imaging.render import RenderedVariant, preset_scale, render_variants

__all__ = ["ProcessedImage", "process_image"]


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    variants: list[RenderedVariant]
    metadata: dict[str, Any] = field(default_factory=dict)
    """JSON-safe (str, int, float, bool, nested dicts); floats need Decimal for DynamoDB."""
    sha256: str = ""
    phash: int = 0


def process_image(
    data: bytes,
    *,
    declared_content_type: str = "",
    presets: tuple[Preset, ...] = DEFAULT_PRESETS,
    limits: ImageLimits = ImageLimits(),  # noqa: B008  (frozen dataclass: safe as a default)
) -> ProcessedImage:
    """Verify, decode and render `data`; raise MediaRejected with a reason for unusable files."""
    image, _what = open_image(data, limits)
    fmt = image.format or "unknown"
    frames = frame_count(image)
    check_frames(frames, limits)
    mode, alpha = image.mode, has_alpha(image)
    orientation = pending_orientation(image)
    # pillow-heif applies HEIF rotations itself and resets EXIF orientation to 1.
    original_orientation = image.info.get("original_orientation") or exif_orientation(image)
    icc = image.info.get("icc_profile") or None
    upright = oriented_size(image.size, orientation)
    scale = max((preset_scale(p, upright) for p in presets), default=1.0)
    # Hashes need a few hundred pixels even when only a tiny preset is asked for.
    scale = max(scale, min(1.0, 256 / max(upright)))

    work, upright = decode_upright(image, orientation, scale, fmt)
    variants = render_variants(work, presets, reference_size=upright)

    digest = hashlib.sha256(data).hexdigest()
    perceptual = phash(work)
    metadata: dict[str, Any] = {
        "format": fmt,
        "content_type": CONTENT_TYPES.get(fmt, "application/octet-stream"),
        "declared_content_type": declared_content_type,
        "bytes": len(data),
        "width": upright[0],
        "height": upright[1],
        "megapixels": math.floor(upright[0] * upright[1] / 10_000) / 100,
        "mode": mode,
        "has_alpha": alpha,
        "animated": frames > 1,
        "frames": frames,
        "orientation": int(original_orientation) if isinstance(original_orientation, int) else 1,
        "color_profile": profile_description(icc),
        "exif": camera_exif(image),
        "sha256": digest,
        "phash": phash_hex(perceptual),
        "blurhash": blurhash(work),
        "dominant_color": dominant_color(work),
    }
    if limits.allow_gps:
        location = gps(image)
        if location:
            metadata["gps"] = location
    image.close()
    return ProcessedImage(variants=variants, metadata=metadata, sha256=digest, phash=perceptual)
