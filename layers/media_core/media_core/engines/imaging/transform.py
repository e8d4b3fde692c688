"""Render one on-demand transformation from source bytes, with the processors' imaging code.

Same path as the image processor: format allowlist and pixel caps from the header
(`open_image`), JPEG DCT-scaled decode, EXIF orientation applied, 8-bit sRGB, nothing from the
source's metadata (EXIF, GPS, XMP, ICC, comments) in the output (`render_variants`).

Sizing (`w`/`h` are multiplied by `dpr` first):

- contain: fit inside the box, aspect kept; one of w/h alone bounds that side only.
- cover: fill the box, centre-cropped; aspect of the box kept.
- fill: exactly the box, aspect NOT kept (stretched).
- contain and cover never upscale: a smaller source gives a smaller output (cover keeps the
  box's aspect ratio at the largest size the source allows). fill is the one exception: its only
  purpose is an exact box, so it upscales when it must (the caps in `TransformLimits` still
  bound the output).

The source should be the largest stored variant big enough for the request (cheap to decode),
else the original; see `choose_source`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image

from media_core.domain.transform import DEFAULT_LIMITS, TransformLimits, TransformOptions, negotiate_format
from media_core.engines.imaging.decode import decode_upright
from media_core.engines.imaging.formats import open_image
from media_core.engines.imaging.guards import ImageLimits
from media_core.engines.imaging.normalize import has_alpha, oriented_size, pending_orientation
from media_core.engines.imaging.presets import MEDIA_TYPES, OutputFormat, Preset
from media_core.engines.imaging.render import preset_scale, render_variants, target_size

__all__ = [
    "DEFAULT_QUALITY",
    "MAX_INLINE_BYTES",
    "RenderedTransform",
    "choose_source",
    "output_size",
    "render_transform",
]

# Lambda returns at most 6 MiB of response payload, and a binary body travels base64-encoded
# (4/3 larger) in the JSON the function URL / API Gateway reads: ~4.7 MB of image bytes, minus
# headroom for headers. Above this the caller stores the result and redirects to it.
MAX_INLINE_BYTES = 4_500_000

DEFAULT_QUALITY: dict[str, int] = {"jpeg": 82, "webp": 80, "avif": 60, "png": 0}
# Encoder settings chosen for latency (measurements in imaging/presets.py): an on-demand
# render is on the request path.
_EXTRAS: dict[str, tuple[tuple[str, int | bool | str], ...]] = {
    "jpeg": (("progressive", True), ("optimize", True)),
    "webp": (("method", 2),),
    "avif": (("speed", 9),),
    "png": (("compress_level", 6),),
}
_PILLOW_FORMAT: dict[str, OutputFormat] = {"jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF", "png": "PNG"}


@dataclass(frozen=True, slots=True)
class RenderedTransform:
    data: bytes
    content_type: str
    format: str
    """jpeg | png | webp | avif (what `auto` resolved to)."""
    width: int
    height: int
    vary_accept: bool
    """The bytes depend on the Accept header: send `Vary: Accept` (domain.transform.VARY)."""
    must_redirect: bool
    """Too big for a Lambda response body (> max_inline_bytes): store it, answer a redirect."""

    @property
    def size(self) -> int:
        return len(self.data)


def output_size(
    options: TransformOptions,
    source: tuple[int, int],
    limits: TransformLimits = DEFAULT_LIMITS,
) -> tuple[int, int]:
    """Output dimensions for an upright source of `source` size (see the module's sizing rules)."""
    preset, _ = _plan(options, source, limits)
    return preset.box if options.fit == "fill" else target_size(preset, source)


def _plan(
    options: TransformOptions, source: tuple[int, int], limits: TransformLimits
) -> tuple[Preset, float]:
    """The preset to render with (fill: its box is the exact output) and the decode scale (<= 1)."""
    box_w, box_h = options.box
    if options.fit == "fill":
        assert box_w is not None and box_h is not None  # validated: fill needs both
        return Preset("transform", (box_w, box_h)), min(1.0, max(box_w / source[0], box_h / source[1]))
    # A missing side is bounded by the caps only: a 50 MP original is never served as is.
    box = (
        min(box_w or limits.max_width, limits.max_width),
        min(box_h or limits.max_height, limits.max_height),
    )
    preset = Preset("transform", box, "cover" if options.fit == "cover" else "contain")
    out = target_size(preset, source)
    if out[0] * out[1] > limits.max_pixels:  # only reachable without both w and h
        shrink = (limits.max_pixels / (out[0] * out[1])) ** 0.5
        preset = Preset("transform", (max(1, int(out[0] * shrink)), max(1, int(out[1] * shrink))), preset.fit)
    return preset, preset_scale(preset, source)


def choose_source(
    options: TransformOptions,
    original: tuple[int, int],
    variants: Mapping[str, tuple[int, int]],
    *,
    has_alpha: bool = False,
    limits: TransformLimits = DEFAULT_LIMITS,
) -> str | None:
    """The smallest stored variant that renders `options` exactly as the original would, or None
    (use the original). Sizes are upright (width, height), e.g. from the media record.

    Variants whose aspect ratio differs from the original's are crops (a cover thumbnail) and are
    skipped; so is everything for images with transparency (the stored variants are JPEG)."""
    if has_alpha:
        return None
    box_w, box_h = options.box
    want = output_size(options, original, limits)
    fitting: list[tuple[int, str]] = []
    for name, (w, h) in variants.items():
        if abs(w * original[1] / original[0] - h) > 1:
            continue  # a crop, not the full frame
        if options.fit == "fill":
            assert box_w is not None and box_h is not None
            usable = w >= min(box_w, original[0]) and h >= min(box_h, original[1])
        else:
            usable = output_size(options, (w, h), limits) == want
        if usable:
            fitting.append((w * h, name))
    return min(fitting)[1] if fitting else None


def render_transform(
    data: bytes,
    options: TransformOptions,
    *,
    accept: str | None = None,
    image_limits: ImageLimits = ImageLimits(),  # noqa: B008  (frozen dataclass: safe as a default)
    limits: TransformLimits = DEFAULT_LIMITS,
    max_inline_bytes: int = MAX_INLINE_BYTES,
) -> RenderedTransform:
    """Decode `data` (raises MediaRejected like the processors: not an allowed image, over the
    pixel cap, corrupt), render `options` and encode; `accept` resolves `format=auto`.

    The options must already be validated (`domain.transform.parse_path` does)."""
    image, _what = open_image(data, image_limits)
    fmt = image.format or "unknown"
    orientation = pending_orientation(image)
    upright = oriented_size(image.size, orientation)
    preset, scale = _plan(options, upright, limits)
    work, upright = decode_upright(image, orientation, scale, fmt)
    image.close()
    if options.fit == "fill":
        # Exact box, aspect not kept; render_variants then only encodes (sizes already equal).
        if work.size != preset.box:
            work = work.resize(preset.box, Image.Resampling.LANCZOS, reducing_gap=3.0)
        reference = None
    else:
        reference = upright
    # decode_upright returns RGBA only for real transparency (to_srgb drops opaque alpha).
    chosen = negotiate_format(options.format, accept, has_alpha=has_alpha(work))
    quality = options.quality or DEFAULT_QUALITY[chosen]
    preset = Preset(preset.name, preset.box, preset.fit, _PILLOW_FORMAT[chosen], quality, _EXTRAS[chosen])
    (rendered,) = render_variants(work, (preset,), reference_size=reference)
    return RenderedTransform(
        data=rendered.data,
        content_type=MEDIA_TYPES[preset.format],
        format=chosen,
        width=rendered.width,
        height=rendered.height,
        vary_accept=options.varies_by_accept,
        must_redirect=rendered.size > max_inline_bytes,
    )
