"""The image processor's work: Pillow variants, metadata, fingerprints and duplicate hints."""

from __future__ import annotations

from dataclasses import dataclass

from media_core.engines.imaging.guards import ImageLimits
from media_core.engines.imaging.image_job import process_image
from media_core.ports import DuplicateFinder
from media_core.processing.rendered import store_rendered
from media_core.processing.work import WorkContext, WorkResult
from media_core.settings import ImageSettings


@dataclass
class ImageWork:
    limits: ImageLimits
    duplicates: DuplicateFinder

    @classmethod
    def from_settings(cls, settings: ImageSettings, duplicates: DuplicateFinder) -> ImageWork:
        limits = ImageLimits(
            max_pixels=settings.image_max_pixels,
            max_frames=settings.image_max_frames,
            max_bytes=settings.max_image_bytes,
            allow_gps=settings.image_allow_gps,
        )
        return cls(limits, duplicates)

    def __call__(self, context: WorkContext) -> WorkResult:
        record = context.record
        processed = process_image(
            context.read_original(), declared_content_type=record.original.content_type, limits=self.limits
        )
        variants = store_rendered(context.variants, processed.variants)
        previous = record.original.sha256
        if previous:
            # A replacement (or a reprocess): the fingerprint of the bytes it held no longer
            # describes this record, so it must not make later uploads "duplicates" of it.
            phash = record.metadata.get("phash")
            self.duplicates.unregister(
                record.owner, record.media_id, previous, int(str(phash), 16) if phash else None
            )
        duplicate_of = self.duplicates.find(record.owner, record.media_id, processed.sha256, processed.phash)

        def register() -> None:
            # Only once this run is the record's: a superseded or deleted run leaves no entries.
            self.duplicates.register(record.owner, record.media_id, processed.sha256, processed.phash)

        return WorkResult(variants, processed.metadata, processed.sha256, duplicate_of, on_ready=register)
