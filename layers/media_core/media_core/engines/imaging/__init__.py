"""Image domain logic: verify, decode safely, normalise, render presets, fingerprint.

Handlers call `process_image` (uploaded photos) and `render_variants` (posters, cover art, PDF
previews). Importing this package imports Pillow: keep it out of the API function.
"""

from media_core.engines.imaging.guards import ImageLimits
from media_core.engines.imaging.image_job import ProcessedImage, process_image
from media_core.engines.imaging.presets import (
    DEFAULT_PRESETS,
    DOCUMENT_PREVIEW_PRESETS,
    POSTER_PRESETS,
    Preset,
    preset_by_name,
)
from media_core.engines.imaging.render import RenderedVariant, render_variants
from media_core.engines.imaging.similarity import DEFAULT_MAX_DISTANCE, hamming, hash_bands, is_near_duplicate

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "DEFAULT_PRESETS",
    "DOCUMENT_PREVIEW_PRESETS",
    "POSTER_PRESETS",
    "ImageLimits",
    "Preset",
    "ProcessedImage",
    "RenderedVariant",
    "hamming",
    "hash_bands",
    "is_near_duplicate",
    "preset_by_name",
    "process_image",
    "render_variants",
]
