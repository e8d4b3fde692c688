"""Settings for `process_document`; the handler builds one from its environment."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DocumentLimits"]


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_bytes: int = 100 * 1024 * 1024
    """Size of the upload (env DOCUMENT_MAX_BYTES); the presigned POST should enforce it first."""
    max_pdf_pages: int = 5000
    """PDFs with more pages are refused (env DOCUMENT_MAX_PDF_PAGES)."""
    preview_long_side: int = 1080
    """Longest side in pixels of the first-page render (env DOCUMENT_PREVIEW_LONG_SIDE)."""
    zip_max_entries: int = 10_000
    """Entries in a ZIP/DOCX central directory (env DOCUMENT_ZIP_MAX_ENTRIES)."""
    zip_max_uncompressed: int = 1024 * 1024 * 1024
    """Sum of declared uncompressed sizes (env DOCUMENT_ZIP_MAX_UNCOMPRESSED), 1 GiB."""
    zip_max_ratio: float = 100.0
    """Uncompressed/compressed ratio of any one entry (env DOCUMENT_ZIP_MAX_RATIO); real files
    rarely pass 20, a zip bomb's entries are ~1000."""
    zip_ratio_min_size: int = 1024 * 1024
    """Entries smaller than this (uncompressed) skip the ratio check: a 10 KB run of spaces is fine."""
