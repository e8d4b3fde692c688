"""Changing media for callers: descriptive fields and the entity's primary item, delete (one or
a batch), reprocess through the processors' queues, and moderation (admins). Who may do what
comes from media_core.domain.access: managing is for the owner and admins; anyone else gets 404.
A change of visibility or moderation reconciles the published copies (services.publication)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from media_core.api.models import DeleteOutcome, MediaUpdate, ModerationRequest
from media_core.domain.access import Caller, is_manager, publicly_visible, require_admin
from media_core.domain.audit import AuditAction
from media_core.domain.errors import (
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    PrimaryChanged,
)
from media_core.domain.models import EntityRef, MediaRecord, Moderation, Status
from media_core.ports import AuditTrail, MediaRecords, ObjectStorage, WorkSubmitter
from media_core.services.deletion import MediaDeleter
from media_core.services.publication import Publication
from media_core.settings import ManageSettings, ModerationMode

REPROCESSABLE = (Status.READY, Status.FAILED)
# A primary switch that lost a race to another (PrimaryChanged) reads the primary again, this often.
PRIMARY_ATTEMPTS = 4


@dataclass
class MediaManagement:
    repository: MediaRecords
    store: ObjectStorage
    audit: AuditTrail
    deleter: MediaDeleter
    queue: WorkSubmitter
    settings: ManageSettings
    publication: Publication | None = None

    def _reconciled(self, record: MediaRecord) -> MediaRecord:
        """Published or not as `record` now says (the copies, the marker; see Publication)."""
        if self.publication is None:
            return record
        return self.publication.reconcile(record) or record

    def _purge_edge(self, before: MediaRecord) -> None:
        """The CDN's copies of `before`'s transformations (and published copies). Publication's
        unpublish already purged both when `before` had copies: not twice."""
        if self.publication is not None and self.publication.enabled and before.public_copy is not None:
            return
        self.deleter.invalidate(before, published=self.publication is None)

    def _managed(self, caller: Caller, media_id: str, *, tombstones: bool = False) -> MediaRecord:
        record = self.repository.get(media_id)
        if (
            record is None
            or not is_manager(caller, record)
            or (record.status == Status.DELETED and not tombstones)
        ):
            raise NotFound(f"media {media_id} not found")
        return record

    # ------------------------------------------------------------------ update
    def update(self, caller: Caller, media_id: str, request: MediaUpdate) -> MediaRecord:
        record = self._managed(caller, media_id)
        given = request.model_fields_set
        changes: dict[str, Any] = {}
        for name in ("alt_text", "caption", "visibility"):
            if name in given:
                changes[name] = getattr(request, name)
        if "tags" in given and request.tags is not None:
            changes["tags"] = list(dict.fromkeys(request.tags))
        entity = record.entity
        if "entity" in given:
            entity = EntityRef(type=request.entity.type, id=request.entity.id) if request.entity else None
            changes["entity"] = entity
            if entity != record.entity:
                changes["is_primary"] = False
        if "is_primary" in given and request.is_primary is not None:
            if request.is_primary and entity is None:
                raise InvalidRequest("is_primary", "only media linked to an entity can be its primary item")
            changes["is_primary"] = request.is_primary
        claims = (
            changes.get("is_primary") is True
            and entity is not None
            and not (record.is_primary and record.entity == entity)
        )
        updated, demote = self._switched(record, changes, entity if claims else None)
        updated = self._reconciled(updated)
        if record.visibility != updated.visibility:  # made private: its public transformations go
            self._purge_edge(record)
        self.audit.record(media_id, AuditAction.UPDATED, caller.sub, {"fields": sorted(changes)})
        if demote is not None:
            self.audit.record(
                demote.media_id, AuditAction.UPDATED, caller.sub, {"fields": ["is_primary"], "by": media_id}
            )
        return updated

    def _switched(
        self, record: MediaRecord, changes: dict[str, Any], claimed: EntityRef | None
    ) -> tuple[MediaRecord, MediaRecord | None]:
        """`changes` written; when `record` becomes the primary of `claimed`, the entity's primary
        (a strongly consistent read) is demoted in the same write. The repository refuses the write
        if that primary changed after our read (PrimaryChanged): read it again, a few times, then
        409. Returns the stored record and the demoted one."""
        for attempt in range(1, PRIMARY_ATTEMPTS + 1):
            demote = None
            if claimed is not None:
                current = self.repository.primary_of(record.owner, claimed.type, claimed.id)
                if current is not None and current.media_id != record.media_id:
                    demote = current
            try:
                return self.repository.update(record, changes, demote=demote), demote
            except PrimaryChanged as lost:
                if attempt == PRIMARY_ATTEMPTS:
                    raise Conflict(f"{lost.message}: others are switching it too; retry") from lost
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ delete
    def delete(self, caller: Caller, media_id: str) -> None:
        """204 for the owner (or an admin) whether or not it was deleted before; 404 for anyone else."""
        record = self._managed(caller, media_id, tombstones=True)
        try:
            self.deleter.delete(record, caller.sub)
        except InvalidTransition:
            # It changed state between our read and the write: read it again, once.
            self.deleter.delete(self._managed(caller, media_id, tombstones=True), caller.sub)

    def batch_delete(self, caller: Caller, media_ids: list[str]) -> list[DeleteOutcome]:
        outcomes = []
        for media_id in dict.fromkeys(media_ids):
            try:
                self.delete(caller, media_id)
                outcomes.append(DeleteOutcome(media_id=media_id, outcome="deleted"))
            except NotFound:
                outcomes.append(DeleteOutcome(media_id=media_id, outcome="not_found"))
        return outcomes

    # ------------------------------------------------------------------ reprocess
    def reprocess(self, caller: Caller, media_id: str) -> MediaRecord:
        """Queue a new processing run: the record carries a one-time token the processor's claim
        accepts, and the kind's queue gets the same S3 ObjectCreated message an upload produces."""
        record = self._managed(caller, media_id)
        if record.status not in REPROCESSABLE:
            raise Conflict(
                f"media {media_id} is {record.status.value}; only ready or failed media is reprocessed"
            )
        pinned = record.original.stored_key
        original = self.store.head(self.settings.uploads_bucket, pinned) if pinned else None
        if original is None or record.original.etag is None:
            raise Conflict(f"the original of media {media_id} is gone; upload it again")
        updated = self.repository.update(record, {"reprocess_requested": uuid.uuid4().hex})
        self.queue.send_object_created(
            self.settings.queue_url(record.kind),
            self.settings.uploads_bucket,
            record.original.key,
            original.size,
            record.original.etag,
        )
        self.audit.record(media_id, AuditAction.REPROCESS_REQUESTED, caller.sub)
        return updated

    # ------------------------------------------------------------------ moderation
    def moderate(self, caller: Caller, media_id: str, request: ModerationRequest) -> MediaRecord:
        require_admin(caller)
        record = self._managed(caller, media_id)
        # A decision is about content someone saw: not about a run still being processed (a
        # replacement's claim resets moderation to pending), nor about a version since replaced.
        if record.status != Status.READY:
            raise Conflict(f"media {media_id} is {record.status.value}; only ready media is moderated")
        if request.version is not None and request.version != record.version:
            raise Conflict(
                f"media {media_id} changed since version {request.version} (now {record.version}); "
                "review it again"
            )
        status = Moderation(request.status)
        updated = self.repository.update(record, {"moderation": status, "moderation_reason": request.reason})
        updated = self._reconciled(updated)
        post = self.settings.moderation_mode == ModerationMode.POST
        if status == Moderation.REJECTED or (
            publicly_visible(record, post) and not publicly_visible(updated, post)
        ):  # rejected, or flagged out of the public view: the edge's copies go
            self._purge_edge(record)
        self.audit.record(
            media_id,
            AuditAction.MODERATED,
            caller.sub,
            {"from": record.moderation.value, "to": status.value, "reason": request.reason},
        )
        return updated
