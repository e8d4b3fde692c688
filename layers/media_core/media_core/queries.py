"""Reading media records for callers: authorization applied, variant URLs presigned."""

from __future__ import annotations

from dataclasses import dataclass

from media_core.access import Caller, owned_record
from media_core.api_models import EntityView, MediaView, OriginalView, VariantView
from media_core.models import MediaRecord
from media_core.repository import MediaRepository
from media_core.settings import CommonSettings
from media_core.storage import ObjectStore


@dataclass
class MediaQueries:
    repository: MediaRepository
    store: ObjectStore
    settings: CommonSettings

    def get(self, caller: Caller, media_id: str) -> MediaView:
        return self.view(owned_record(caller, self.repository.get(media_id), media_id))

    def view(self, record: MediaRecord) -> MediaView:
        variants = {
            name: VariantView(
                url=self.store.presigned_get(
                    self.settings.media_bucket, v.key, expires_in=self.settings.download_url_ttl_seconds
                ),
                **v.model_dump(exclude={"key"}),
            )
            for name, v in record.variants.items()
        }
        return MediaView(
            media_id=record.media_id,
            owner=record.owner,
            kind=record.kind,
            status=record.status,
            failure_reason=record.failure_reason,
            original=OriginalView(
                filename=record.original.filename,
                content_type=record.original.content_type,
                size=record.original.size,
            ),
            variants=variants,
            metadata=record.metadata,
            entity=EntityView(type=record.entity.type, id=record.entity.id) if record.entity else None,
            is_primary=record.is_primary,
            visibility=record.visibility,
            tags=record.tags,
            alt_text=record.alt_text,
            caption=record.caption,
            moderation=record.moderation,
            duplicate_of=record.duplicate_of,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
        )
