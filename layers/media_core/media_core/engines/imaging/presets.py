"""The variants we derive, declared in one place. Change a preset here and every kind follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_PRESETS",
    "DOCUMENT_PREVIEW_PRESETS",
    "POSTER_PRESETS",
    "Fit",
    "OutputFormat",
    "Preset",
    "preset_by_name",
]

Fit = Literal["contain", "cover"]
OutputFormat = Literal["JPEG", "WEBP", "AVIF", "PNG"]

EXTENSIONS: dict[str, str] = {"JPEG": "jpg", "WEBP": "webp", "AVIF": "avif", "PNG": "png"}
MEDIA_TYPES: dict[str, str] = {
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
    "PNG": "image/png",
}


@dataclass(frozen=True, slots=True)
class Preset:
    """One derived image.

    contain: fit inside `box` keeping the aspect ratio; cover: centre-crop to the box's aspect
    ratio, then fit. Never upscaled: a smaller source keeps its own size.
    """

    name: str
    box: tuple[int, int]
    fit: Fit = "contain"
    format: OutputFormat = "JPEG"
    quality: int = 85
    extras: tuple[tuple[str, int | bool | str], ...] = ()
    """Extra encoder keyword arguments, as pairs (a tuple keeps the dataclass hashable)."""

    @property
    def content_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


# Encoder speed settings measured on a 640 px photo (2-core dev box, medians):
# WebP method 0/2/4/6 -> 7/10/24/57 ms for +53/+1/0/-4 % bytes: method 2.
# AVIF speed 6/8/9 -> 133/49/14 ms for -5/-1/0 % bytes (quality 60): speed 9.
_JPEG = (("progressive", True), ("optimize", True))

DEFAULT_PRESETS: tuple[Preset, ...] = (
    Preset("thumbnail", (150, 150), "cover", "JPEG", 85, _JPEG),
    Preset("small", (320, 320), "contain", "JPEG", 85, _JPEG),
    Preset("medium", (640, 640), "contain", "JPEG", 85, _JPEG),
    Preset("large", (1080, 1080), "contain", "JPEG", 85, _JPEG),
    Preset("webp", (640, 640), "contain", "WEBP", 80, (("method", 2),)),
    Preset("avif", (640, 640), "contain", "AVIF", 60, (("speed", 9),)),
)


def preset_by_name(name: str, presets: tuple[Preset, ...] = DEFAULT_PRESETS) -> Preset:
    for preset in presets:
        if preset.name == name:
            return preset
    raise KeyError(name)


# First page of a PDF: small previews only.
DOCUMENT_PREVIEW_PRESETS: tuple[Preset, ...] = tuple(
    preset_by_name(n) for n in ("thumbnail", "small", "medium")
)

# Video posters and audio cover art: same JPEG ladder as photos, no WebP/AVIF.
POSTER_PRESETS: tuple[Preset, ...] = tuple(
    preset_by_name(n) for n in ("thumbnail", "small", "medium", "large")
)
