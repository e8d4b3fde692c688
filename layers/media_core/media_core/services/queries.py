"""Reading media records for callers: visibility applied (media_core.domain.access), variant URLs
presigned or stable, lists paged by index Queries (never a Scan), counters read in O(1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from media_core.domain.access import Caller, can_view, is_manager, require_admin, visible_record
from media_core.api.models import (
    Activity,
    ActivityEntry,
    EntityView,
    MediaPage,
    MediaStats,
    MediaView,
    OriginalView,
    VariantView,
)
from media_core.dal.dynamo.audit import AuditAction, AuditLog
from media_core.domain.cursor import decode_cursor, encode_cursor
from media_core.domain.errors import Conflict, NotFound
from media_core.domain.keys import sanitize_filename
from media_core.domain.models import Kind, MediaRecord, Moderation, Status, Visibility
from media_core.dal.dynamo.repository import (
    INDEX_BY_ENTITY,
    INDEX_BY_MODERATION,
    INDEX_BY_OWNER,
    INDEX_KEYS,
    MediaRepository,
    Page,
)
from media_core.settings import QuerySettings
from media_core.dal.s3 import ObjectStore


@dataclass(frozen=True)
class MediaFilter:
    kind: Kind | None = None
    status: Status | None = None
    tag: str | None = None
    moderation: Moderation | None = None
    entity_type: str | None = None
    entity_id: str | None = None

    def expression(self) -> ConditionBase | None:
        parts: list[ConditionBase] = []
        if self.kind:
            parts.append(Attr("kind").eq(self.kind.value))
        if self.status:
            parts.append(Attr("status").eq(self.status.value))
        if self.tag:
            parts.append(Attr("tags").contains(self.tag))
        if self.moderation:
            parts.append(Attr("moderation").eq(self.moderation.value))
        if self.entity_type and self.entity_id:
            parts.append(Attr("entity_pk").eq(f"ENTITY#{self.entity_type}#{self.entity_id}"))
        if not parts:
            return None
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part
        return combined

    def scope(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class MediaQueries:
    repository: MediaRepository
    store: ObjectStore
    settings: QuerySettings
    audit: AuditLog | None = field(default=None)

    # ------------------------------------------------------------------ one record
    def get(self, caller: Caller, media_id: str) -> MediaView:
        return self.view(visible_record(caller, self.repository.get(media_id), media_id))

    def _url(self, record: MediaRecord, key: str) -> str:
        base = self.settings.public_base
        if base and record.visibility == Visibility.PUBLIC and record.moderation != Moderation.REJECTED:
            return f"{base}/{key}"
        return self.store.presigned_get(
            self.settings.media_bucket, key, expires_in=self.settings.download_url_ttl_seconds
        )

    def view(self, record: MediaRecord) -> MediaView:
        variants = {
            name: VariantView(url=self._url(record, v.key), **v.model_dump(exclude={"key"}))
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
            moderation_reason=record.moderation_reason,
            duplicate_of=record.duplicate_of,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
        )

    # ------------------------------------------------------------------ lists
    def _page(
        self,
        index: str,
        partition: str,
        scope: dict[str, Any],
        *,
        page_size: int,
        cursor: str | None,
        newest_first: bool,
        filter_expression: ConditionBase | None = None,
        caller: Caller | None = None,
    ) -> MediaPage:
        pk_name, sk_name = INDEX_KEYS[index]
        start = (
            decode_cursor(
                cursor, scope, attributes=("pk", "sk", pk_name, sk_name), fixed={pk_name: partition}
            )
            if cursor
            else None
        )
        page: Page = self.repository.query_page(
            index,
            Key(pk_name).eq(partition),
            page_size=page_size,
            start_key=start,
            newest_first=newest_first,
            filter_expression=filter_expression,
            accept=(lambda r: can_view(caller, r)) if caller is not None else None,
        )
        return MediaPage(
            items=[self.view(r) for r in page.records],
            next=encode_cursor(page.next_key, scope) if page.next_key else None,
        )

    def list_mine(
        self, caller: Caller, media_filter: MediaFilter, *, page_size: int, cursor: str | None
    ) -> MediaPage:
        """The caller's media, newest first: one Query on ByOwner per read (filters applied by
        DynamoDB as a FilterExpression)."""
        return self._page(
            INDEX_BY_OWNER,
            f"OWNER#{caller.sub}",
            {"route": "mine", "owner": caller.sub, **media_filter.scope()},
            page_size=page_size,
            cursor=cursor,
            newest_first=True,
            filter_expression=media_filter.expression(),
        )

    def gallery(
        self, caller: Caller, entity_type: str, entity_id: str, *, page_size: int, cursor: str | None
    ) -> MediaPage:
        """An entity's media, the primary item first, then oldest first; only what the caller may see."""
        partition = f"ENTITY#{entity_type}#{entity_id}"
        return self._page(
            INDEX_BY_ENTITY,
            partition,
            {"route": "entity", "entity": partition, "caller": caller.sub, "admin": caller.is_admin},
            page_size=page_size,
            cursor=cursor,
            newest_first=False,
            caller=caller,
        )

    def moderation_queue(
        self, caller: Caller, moderation: Moderation, *, page_size: int, cursor: str | None
    ) -> MediaPage:
        require_admin(caller)
        partition = f"MODERATION#{moderation.value}"
        return self._page(
            INDEX_BY_MODERATION,
            partition,
            {"route": "moderation", "moderation": moderation.value},
            page_size=page_size,
            cursor=cursor,
            newest_first=True,
        )

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

    # ------------------------------------------------------------------ download, activity
    def download_url(self, caller: Caller, media_id: str, variant: str | None) -> str:
        """A presigned GET of the original (or a variant) whose Content-Disposition carries the
        sanitised original file name; the download is audited."""
        record = visible_record(caller, self.repository.get(media_id), media_id)
        name = sanitize_filename(record.original.filename)
        if variant is None:
            if record.status == Status.AWAITING_UPLOAD:
                raise Conflict(f"media {media_id} has not been uploaded yet")
            bucket, key = self.settings.uploads_bucket, record.original.key
        else:
            chosen = record.variants.get(variant)
            if chosen is None:
                raise NotFound(f"media {media_id} has no variant {variant!r}")
            stem = name.rsplit(".", 1)[0] if "." in name else name
            extension = chosen.key.rsplit(".", 1)[-1]
            bucket, key, name = self.settings.media_bucket, chosen.key, f"{stem}-{variant}.{extension}"
        url = self.store.presigned_get(
            bucket, key, expires_in=self.settings.download_url_ttl_seconds, download_name=name
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
