"""Document domain logic: PDF, plain text, DOC, DOCX and ZIP verified from their bytes.

The PDF preview is a PIL image; the handler renders it with
`media_core.engines.imaging.render_variants(preview, DOCUMENT_PREVIEW_PRESETS)`.
"""

from media_core.engines.documents.document_job import (
    DOCUMENT_TYPES,
    ProcessedDocument,
    document_type,
    process_document,
)
from media_core.engines.documents.limits import DocumentLimits
from media_core.engines.imaging.presets import DOCUMENT_PREVIEW_PRESETS

__all__ = [
    "DOCUMENT_PREVIEW_PRESETS",
    "DOCUMENT_TYPES",
    "DocumentLimits",
    "ProcessedDocument",
    "document_type",
    "process_document",
]
