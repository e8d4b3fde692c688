"""Removing media: the record becomes a tombstone (out of every index and the counters, kept
until the audit retention ends), then the original, every variant, its published copies
(`public/{media_id}/`) and the duplicate-index entries go, an audit entry and a "Media Deleted"
event follow. Used by the management API and by the cleanup job. Deleting again is harmless: the
objects' removal is simply repeated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aws_lambda_powertools import Logger

from media_core.domain.audit import AuditAction
from media_core.domain.errors import InvalidTransition
from media_core.domain.events import Announcement, DetailType, event_detail
from media_core.domain.keys import media_prefix, originals_prefix, public_prefix
from media_core.domain.models import MediaRecord, Status, utc_now
from media_core.domain.transform import transform_paths
from media_core.ports import (
    AuditTrail,
    DuplicateFinder,
    Invalidator,
    MediaRecords,
    ObjectStorage,
    OutboxFlush,
)
from media_core.services.publication import public_paths
from media_core.settings import CommonSettings

logger = Logger(child=True)


@dataclass
class MediaDeleter:
    repository: MediaRecords
    store: ObjectStorage
    duplicates: DuplicateFinder
    audit: AuditTrail
    relay: OutboxFlush
    settings: CommonSettings
    invalidator: Invalidator | None = None

    def delete(self, record: MediaRecord, actor: str, reason: str = "deleted by request") -> None:
        """Delete `record`: a tombstone first (out of every index and the counters, `purge_pending`),
        then every object, then the audit entry and the "Media Deleted" event. If removing the
        objects fails, the tombstone keeps `purge_pending` and the cleanup job (or a repeated
        delete) resumes; the event is published once, when the last object is gone.
        Raises InvalidTransition if the record changed state meanwhile (the caller may retry)."""
        announced = record  # the event names what was deleted, variant keys included
        if record.status != Status.DELETED:
            expires = utc_now() + timedelta(days=self.settings.audit_retention_days)
            self.repository.tombstone(record, int(expires.timestamp()))
            logger.info("media deleted", media_id=record.media_id, actor=actor, reason=reason)
        elif not record.purge_pending:
            return
        try:
            self.remove_objects(record)
        except Exception:
            # The tombstone keeps purge_pending: the cleanup job (or a repeated delete) resumes.
            logger.exception("objects not all removed; the cleanup job resumes", media_id=record.media_id)
            return
        self.invalidate(record)
        deleted = announced.model_copy(update={"status": Status.DELETED, "purge_pending": False})
        detail = event_detail(deleted, self.settings.uploads_bucket, self.settings.media_bucket)
        if self.repository.purged(record, lambda _: Announcement(DetailType.DELETED, detail)):
            self.audit.record(record.media_id, AuditAction.DELETED, actor, {"reason": reason})
            self.relay.flush()

    def remove_objects(self, record: MediaRecord) -> None:
        if record.upload_id:
            self.store.abort_multipart(self.settings.uploads_bucket, record.original.key, record.upload_id)
        self.store.delete_keys(self.settings.uploads_bucket, [record.original.key])
        self.store.delete_prefix(
            self.settings.uploads_bucket, originals_prefix(record.owner, record.media_id)
        )
        self.store.delete_prefix(self.settings.media_bucket, media_prefix(record.owner, record.media_id))
        self.store.delete_prefix(self.settings.media_bucket, public_prefix(record.media_id))
        if record.original.sha256:
            phash = record.metadata.get("phash")
            self.duplicates.unregister(
                record.owner,
                record.media_id,
                record.original.sha256,
                int(str(phash), 16) if phash else None,
            )

    def invalidate(self, record: MediaRecord, *, published: bool | None = None) -> None:
        """Drop the CDN's cached copies (docs/delivery.md, revocation). Public transformation URLs
        never expire, so their edge copies must go; so must the published copies' (`/public/`,
        unsigned, immutable), when the record had any (`published`; default: its marker). Signed
        variant URLs die within TTL + window anyway. Best effort: the origin objects are gone."""
        if self.invalidator is None:
            return
        had_copies = record.public_copy is not None if published is None else published
        paths = [*transform_paths(record.media_id), *(public_paths(record.media_id) if had_copies else [])]
        self.invalidator.invalidate(paths)

    def delete_if_unchanged(self, record: MediaRecord, actor: str, reason: str) -> bool:
        try:
            self.delete(record, actor, reason)
        except InvalidTransition:
            return False
        return True
