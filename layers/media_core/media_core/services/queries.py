"""Reading media records for callers: visibility applied (media_core.domain.access), variant URLs
presigned or stable, lists paged by index Queries (never a Scan), counters read in O(1)."""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from media_core.api.models import (
    Activity,
    ActivityEntry,
    EntityView,
    MediaPage,
    MediaStats,
    MediaView,
    OriginalView,
    SrcsetEntry,
    StreamingView,
    VariantView,
)
from media_core.domain import streaming
from media_core.domain.access import (
    Caller,
    can_view,
    is_manager,
    public_metadata,
    publicly_visible,
    published_keys,
    require_admin,
    visible_record,
)
from media_core.domain.audit import AuditAction
from media_core.domain.cursor import decode_cursor, encode_cursor
from media_core.domain.errors import Conflict, NotFound
from media_core.domain.keys import sanitize_filename
from media_core.domain.models import Kind, MediaRecord, Moderation, Status
from media_core.domain.paging import MediaFilter, Page, PageRequest, Position
from media_core.domain.transfers import UrlTarget
from media_core.domain.transform import SigningKeys, TransformLimits, TransformOptions, transform_url
from media_core.ports import AuditTrail, DeliveryUrlSource, MediaRecords, ObjectStorage
from media_core.settings import DeliverySettings, ModerationMode, QuerySettings

__all__ = ["MediaFilter", "MediaQueries"]


@dataclass
class MediaQueries:
    repository: MediaRecords
    store: ObjectStorage
    settings: QuerySettings
    audit: AuditTrail | None = field(default=None)
    # Delivery (docs/delivery.md): URLs identical within a window, and srcset transformations.
    urls: DeliveryUrlSource | None = None
    transform_keys: SigningKeys | None = None
    delivery: DeliverySettings | None = None
    clock: Callable[[], float] = time.time

    @property
    def _post_moderation(self) -> bool:
        return self.settings.moderation_mode == ModerationMode.POST

    # ------------------------------------------------------------------ one record
    def get(self, caller: Caller, media_id: str, api_base: str | None = None) -> MediaView:
        """One record; `api_base` (this API's URL) adds the `streaming` URLs of a video."""
        record = visible_record(caller, self.repository.get(media_id), media_id, self._post_moderation)
        view = self.view(record, caller)
        if api_base is not None and record.kind == Kind.VIDEO:
            view = view.model_copy(update={"streaming": self.streaming_view(record, api_base)})
        return view

    def _url(self, record: MediaRecord, key: str) -> str:
        """A published record's copies: `{cdn}/public/...`, unsigned and stable for as long as
        it stays published; anything else: signed (CloudFront) or presigned (S3), per window."""
        bucket = self.settings.media_bucket
        if self.urls is None:
            return self.store.presigned_get(
                UrlTarget(bucket, key), expires_in=self.settings.download_url_ttl_seconds
            )
        published = (
            published_keys(record, self._post_moderation).get(key)
            if self.delivery is not None and self.delivery.cdn_base
            else None
        )
        if published is not None:
            return self.urls.object_url(UrlTarget(bucket, published), public=True, now=self.clock())
        return self.urls.object_url(UrlTarget(bucket, key), now=self.clock())

    def view(self, record: MediaRecord, caller: Caller | None = None) -> MediaView:
        """The full record for its owner and admins (`caller` None: the owner's own write paths),
        the public view for anyone else."""
        variants = {
            name: VariantView(url=self._url(record, v.key), **v.model_dump(exclude={"key"}))
            for name, v in record.variants.items()
        }
        full = MediaView(
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
            moderation_reason=record.moderation_reason,
            duplicate_of=record.duplicate_of,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
            srcset=self._srcset(record),
        )
        if caller is None or is_manager(caller, record):
            return full
        return full.model_copy(
            update={
                "owner": None,
                "failure_reason": None,
                "original": OriginalView(filename="", content_type=record.original.content_type, size=0),
                "metadata": public_metadata(record.metadata),
                "moderation_reason": None,
                "duplicate_of": [],
            }
        )

    def _srcset(self, record: MediaRecord) -> list[SrcsetEntry]:
        """Signed `format=auto` transformation URLs for the configured widths (none without a CDN).

        Widths above the image's own are left out (contain never upscales); an image narrower
        than every width gets the smallest, described by its real width."""
        width = record.metadata.get("width")
        delivery, keys = self.delivery, self.transform_keys
        if (
            delivery is None
            or keys is None
            or delivery.cdn_base is None
            or record.kind != Kind.IMAGE
            or record.status != Status.READY
            or record.run_id is None
            or not isinstance(width, int)
            or width < 1
        ):
            return []
        private = not publicly_visible(record, self._post_moderation)
        widths = [w for w in delivery.widths if w <= width] or [min(delivery.widths)]
        now = self.clock()
        return [
            SrcsetEntry(
                width=min(w, width),
                url=transform_url(
                    delivery.cdn_base,
                    record.media_id,
                    TransformOptions(width=w, version=record.run_id),
                    keys,
                    private=private,
                    now=now,
                    ttl_seconds=self.settings.download_url_ttl_seconds,
                    window_seconds=delivery.url_window_seconds,
                    limits=TransformLimits(
                        max_pixels=delivery.transform_max_pixels, allowed_widths=delivery.widths
                    ),
                ),
            )
            for w in widths
        ]

    # ------------------------------------------------------------------ lists
    def _page_of(self, page: Page, scope: dict[str, Any], caller: Caller | None = None) -> MediaPage:
        return MediaPage(
            items=[self.view(r, caller) for r in page.records],
            next=encode_cursor(page.next_position, scope) if page.next_position else None,
        )

    @staticmethod
    def _start(cursor: str | None, scope: dict[str, Any]) -> Position | None:
        return decode_cursor(cursor, scope) if cursor else None

    def list_mine(
        self, caller: Caller, media_filter: MediaFilter, *, page_size: int, cursor: str | None
    ) -> MediaPage:
        """The caller's media, newest first: one Query on ByOwner per read (filters applied by
        DynamoDB as a FilterExpression)."""
        scope = {"route": "mine", "owner": caller.sub, **media_filter.scope()}
        page = self.repository.list_owned(
            caller.sub, media_filter, PageRequest(page_size, self._start(cursor, scope))
        )
        return self._page_of(page, scope)

    def gallery(
        self,
        caller: Caller,
        entity_type: str,
        entity_id: str,
        *,
        owner: str | None = None,
        page_size: int,
        cursor: str | None,
    ) -> MediaPage:
        """An entity's gallery, which belongs to the entity's owner (the caller's by default): the
        primary item first, then oldest first; only what the caller may see."""
        owner = owner or caller.sub
        scope = {
            "route": "entity",
            "owner": owner,
            "entity": f"{entity_type}/{entity_id}",
            "caller": caller.sub,
            "admin": caller.is_admin,
        }
        visible = PageRequest(
            page_size, self._start(cursor, scope), accept=lambda r: can_view(caller, r, self._post_moderation)
        )
        page = self.repository.list_entity(owner, entity_type, entity_id, visible)
        return self._page_of(page, scope, caller)

    def moderation_queue(
        self, caller: Caller, moderation: Moderation, *, page_size: int, cursor: str | None
    ) -> MediaPage:
        require_admin(caller)
        scope = {"route": "moderation", "moderation": moderation.value}
        page = self.repository.list_moderation(moderation, PageRequest(page_size, self._start(cursor, scope)))
        return self._page_of(page, scope)

    # ------------------------------------------------------------------ counters
    def stats(self, caller: Caller, everyone: bool) -> MediaStats:
        if everyone:
            require_admin(caller)
        counters = self.repository.counters(None if everyone else caller.sub)
        return MediaStats(
            scope="all" if everyone else "owner",
            count=counters.count,
            by_kind={k.value: n for k, n in counters.by_kind.items()},
            by_status={s.value: n for s, n in counters.by_status.items()},
            total_bytes=counters.total_bytes,
        )

    # ------------------------------------------------------------------ streaming
    @staticmethod
    def _hls_prefix(record: MediaRecord) -> str | None:
        hls = record.variants.get("hls")
        return f"{posixpath.dirname(hls.key)}/" if hls is not None else None

    def streaming_view(self, record: MediaRecord, api_base: str) -> StreamingView | None:
        """URLs of the master playlist (this API's signing route) and of the storyboard VTT."""
        if record.status != Status.READY or (
            "hls" not in record.variants and "storyboard" not in record.variants
        ):
            return None
        base = f"{api_base.rstrip('/')}/media/{record.media_id}/hls"
        return StreamingView(
            hls=f"{base}/{streaming.MASTER}" if "hls" in record.variants else None,
            storyboard=f"{base}/{streaming.STORYBOARD}" if "storyboard" in record.variants else None,
        )

    def streaming_file(self, caller: Caller, media_id: str, name: str) -> tuple[str, str]:
        """(text, content type) of a playlist or the storyboard VTT, every URI inside signed."""
        record = visible_record(caller, self.repository.get(media_id), media_id, self._post_moderation)

        def sign(key: str) -> str:
            return self._url(record, key)

        if name == streaming.STORYBOARD:
            board = record.variants.get("storyboard")
            if board is None:
                raise NotFound(f"media {media_id} has no storyboard")
            run_prefix = f"{posixpath.dirname(posixpath.dirname(board.key))}/"
            text = self.store.read(self.settings.media_bucket, board.key).decode("utf-8")
            return streaming.sign_vtt(text, board.key, run_prefix, sign), streaming.VTT_TYPE
        prefix = self._hls_prefix(record)
        hls_meta = record.metadata.get("hls") if isinstance(record.metadata.get("hls"), dict) else None
        if prefix is None or hls_meta is None:
            raise NotFound(f"media {media_id} has no HLS stream")
        renditions = [str(v.get("name")) for v in hls_meta.get("variants", []) if isinstance(v, dict)]
        streaming.check_name(
            name, streaming.playlist_names(renditions, bool(hls_meta.get("has_audio"))), media_id
        )
        key = f"{prefix}{name}"
        text = self.store.read(self.settings.media_bucket, key).decode("utf-8")
        return streaming.sign_playlist(text, key, prefix, sign), streaming.PLAYLIST_TYPE

    # ------------------------------------------------------------------ download, activity
    def download_url(self, caller: Caller, media_id: str, variant: str | None) -> str:
        """A presigned GET of the original (or a variant) whose Content-Disposition carries the
        sanitised original file name; the download is audited."""
        record = visible_record(caller, self.repository.get(media_id), media_id, self._post_moderation)
        name = sanitize_filename(record.original.filename)
        if variant is None:
            # Originals (EXIF, GPS and all) are for the owner and admins only, and only the
            # pinned copy that was checked: never the inbox key an upload URL can write again.
            if not is_manager(caller, record):
                raise NotFound(f"media {media_id} not found")
            if record.status == Status.AWAITING_UPLOAD:
                raise Conflict(f"media {media_id} has not been uploaded yet")
            if record.original.stored_key is None:
                raise Conflict(f"media {media_id} is still being checked; its original is not available yet")
            bucket, key = self.settings.uploads_bucket, record.original.stored_key
        else:
            chosen = record.variants.get(variant)
            if chosen is None:
                raise NotFound(f"media {media_id} has no variant {variant!r}")
            extension = chosen.key.rsplit(".", 1)[-1]
            bucket, key = self.settings.media_bucket, chosen.key
            if is_manager(caller, record):
                stem = name.rsplit(".", 1)[0] if "." in name else name
            else:
                # The public view shows neither the file name nor the owner: a published copy's
                # key names neither (an unpublished variant's key still holds the owner's id).
                stem = media_id
                key = published_keys(record, self._post_moderation).get(chosen.key, chosen.key)
            name = f"{stem}-{variant}.{extension}"
        url = self.store.presigned_get(
            UrlTarget(bucket, key, download_name=name), expires_in=self.settings.download_url_ttl_seconds
        )
        if self.audit is not None:
            self.audit.record(
                media_id, AuditAction.DOWNLOADED, caller.sub, {"variant": variant or "original"}
            )
        return url

    def activity(self, caller: Caller, media_id: str) -> Activity:
        """The audit trail: the owner's and admins' only (it names who did what); still there
        after a delete, until the tombstone expires."""
        record = self.repository.get(media_id)
        if record is None or not is_manager(caller, record):
            raise NotFound(f"media {media_id} not found")
        entries = self.audit.entries(media_id) if self.audit is not None else []
        return Activity(
            media_id=media_id,
            entries=[
                ActivityEntry(action=e.action.value, actor=e.actor, at=e.at, details=e.details)
                for e in entries
            ],
        )
