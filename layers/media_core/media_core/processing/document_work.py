"""The document processor's work: verify the type, inspect, and preview a PDF's first page."""

from __future__ import annotations

from dataclasses import dataclass

from media_core.domain.keys import parse_upload_key
from media_core.engines.documents.document_job import process_document
from media_core.engines.documents.limits import DocumentLimits
from media_core.engines.imaging.presets import DOCUMENT_PREVIEW_PRESETS
from media_core.engines.imaging.render import render_variants
from media_core.processing.rendered import store_rendered
from media_core.processing.work import WorkContext, WorkResult
from media_core.settings import DocumentSettings


@dataclass
class DocumentWork:
    limits: DocumentLimits

    @classmethod
    def from_settings(cls, settings: DocumentSettings) -> DocumentWork:
        return cls(
            DocumentLimits(
                max_bytes=settings.max_document_bytes,
                max_pdf_pages=settings.document_max_pdf_pages,
                zip_max_entries=settings.document_zip_max_entries,
                zip_max_uncompressed=settings.document_zip_max_uncompressed_bytes,
                zip_max_ratio=settings.document_zip_max_ratio,
            )
        )

    def __call__(self, context: WorkContext) -> WorkResult:
        upload = parse_upload_key(context.key)
        extension = upload.extension if upload else ""
        processed = process_document(
            context.read_original(),
            declared_extension=extension,
            declared_content_type=context.record.original.content_type,
            limits=self.limits,
        )
        variants = {}
        if processed.preview is not None:
            variants = store_rendered(
                context.variants, render_variants(processed.preview, DOCUMENT_PREVIEW_PRESETS)
            )
        return WorkResult(variants, processed.metadata, processed.sha256)
