"""Near-duplicate helpers (re-exported: they live in media_core.domain.similarity, which needs no Pillow)."""

from media_core.domain.similarity import (
    DEFAULT_MAX_DISTANCE,
    HASH_BITS,
    band_layout,
    hamming,
    hash_bands,
    is_near_duplicate,
)

__all__ = ["DEFAULT_MAX_DISTANCE", "HASH_BITS", "band_layout", "hamming", "hash_bands", "is_near_duplicate"]
