"""Resize and encode presets from an upright image, cascading from the largest variant down."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from media_core.engines.imaging import formats as _formats  # noqa: F401  (registers only the plugins we use)
from media_core.engines.imaging.normalize import to_srgb
from media_core.engines.imaging.presets import DEFAULT_PRESETS, Preset

__all__ = ["RenderedVariant", "crop_box", "preset_scale", "render_variants", "target_size"]

_WHITE = (255, 255, 255)
# reduce() by an integer factor first, then LANCZOS over the last <=3x: visually identical to a
# full LANCZOS and several times faster on big shrinks.
_REDUCING_GAP = 3.0


@dataclass(frozen=True, slots=True)
class RenderedVariant:
    name: str
    data: bytes
    content_type: str
    width: int
    height: int
    format: str
    extension: str

    @property
    def size(self) -> int:
        return len(self.data)


def crop_box(preset: Preset, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The part of an image of `size` the preset keeps (the whole image for "contain")."""
    w, h = size
    if preset.fit == "contain":
        return (0.0, 0.0, float(w), float(h))
    box_ratio = preset.box[0] / preset.box[1]
    if w / h > box_ratio:
        cw = h * box_ratio
        return ((w - cw) / 2, 0.0, (w + cw) / 2, float(h))
    ch = w / box_ratio
    return (0.0, (h - ch) / 2, float(w), (h + ch) / 2)


def preset_scale(preset: Preset, size: tuple[int, int]) -> float:
    """Scale factor (<= 1: never upscale) applied to an image of `size` for this preset."""
    x0, y0, x1, y1 = crop_box(preset, size)
    cw, ch = x1 - x0, y1 - y0
    if preset.fit == "contain":
        return min(preset.box[0] / cw, preset.box[1] / ch, 1.0)
    return min(preset.box[0] / cw, 1.0)


def target_size(preset: Preset, size: tuple[int, int]) -> tuple[int, int]:
    """Output dimensions of `preset` for a source of `size` (already upright)."""
    x0, y0, x1, y1 = crop_box(preset, size)
    scale = preset_scale(preset, size)
    return (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))


def _encode(image: Image.Image, preset: Preset) -> bytes:
    if preset.format == "JPEG" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, _WHITE)
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    options: dict[str, Any] = dict(preset.extras)
    if preset.format != "PNG":
        options["quality"] = preset.quality
    # Belt and braces: nothing in `info` (EXIF, XMP, ICC, comments) may reach an encoder.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, format=preset.format, **options)
    return buffer.getvalue()


def render_variants(
    image: Image.Image,
    presets: tuple[Preset, ...] | list[Preset] = DEFAULT_PRESETS,
    *,
    reference_size: tuple[int, int] | None = None,
) -> list[RenderedVariant]:
    """Encode every preset from an upright, loaded `image` (any mode; converted to sRGB here).

    Each resize starts from the smallest already-made full-frame intermediate that is still big
    enough (large -> medium -> small -> thumbnail), so only the first one touches many pixels.
    `reference_size` is the size targets are computed from when `image` is a pre-shrunk copy of
    a bigger original (so dimensions match what the original would give, to the pixel).
    """
    base = to_srgb(image)
    ref = reference_size or base.size
    pool: dict[tuple[int, int], Image.Image] = {base.size: base}
    rendered: dict[str, RenderedVariant] = {}
    # Small originals make several presets identical (medium == large == the original size):
    # encode each distinct output once.
    encoded: dict[tuple[object, ...], bytes] = {}
    for preset in sorted(presets, key=lambda p: preset_scale(p, ref), reverse=True):
        scale = preset_scale(preset, ref)
        need_w, need_h = ref[0] * scale, ref[1] * scale  # the full frame at this preset's scale
        fits = [im for im in pool.values() if im.width >= need_w - 1 and im.height >= need_h - 1]
        source = min(fits, key=lambda im: im.width * im.height) if fits else base
        out = target_size(preset, ref)
        if preset.fit == "contain":
            resized = (
                source
                if source.size == out
                else source.resize(out, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
            )
            pool.setdefault(out, resized)
        else:
            sx, sy = source.width / ref[0], source.height / ref[1]
            x0, y0, x1, y1 = crop_box(preset, ref)
            resized = source.resize(
                out,
                Image.Resampling.LANCZOS,
                box=(x0 * sx, y0 * sy, x1 * sx, y1 * sy),
                reducing_gap=_REDUCING_GAP,
            )
        key = (
            preset.fit,
            preset.box if preset.fit == "cover" else None,
            out,
            preset.format,
            preset.quality,
            preset.extras,
        )
        data = encoded.get(key) or encoded.setdefault(key, _encode(resized, preset))
        rendered[preset.name] = RenderedVariant(
            name=preset.name,
            data=data,
            content_type=preset.content_type,
            width=out[0],
            height=out[1],
            format=preset.format,
            extension=preset.extension,
        )
    return [rendered[p.name] for p in presets]
