"""Storing Pillow-rendered variants (image presets, posters, cover art, PDF pages)."""

from __future__ import annotations

from collections.abc import Iterable

from media_core.domain.models import Variant
from media_core.engines.imaging.render import RenderedVariant
from media_core.processing.variants import VariantWriter


def store_rendered(
    writer: VariantWriter, rendered: Iterable[RenderedVariant], prefix: str = ""
) -> dict[str, Variant]:
    """Write each rendered variant; names get `prefix` (e.g. "poster_thumbnail")."""
    stored: dict[str, Variant] = {}
    for variant in rendered:
        name = f"{prefix}{variant.name}"
        stored[name] = writer.put_bytes(
            name,
            variant.data,
            content_type=variant.content_type,
            extension=variant.extension,
            width=variant.width,
            height=variant.height,
        )
    return stored
