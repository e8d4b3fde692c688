"""Published copies: public media gets stable unsigned URLs under the CDN's `/public/*`.

A record is *published* when the public view may show it (media_core.domain.access:
`publicly_visible`). Publishing copies each of its variants, server-side within the media
bucket, to `public/{media_id}/{run_id}-{token}/{variant}.{ext}` (no owner id: the public view
hides the owner; Content-Type and the immutable Cache-Control are kept), and only then writes
the marker `public_copy` on the record, conditional on its version. The query API hands out
`/public/...` URLs only while the marker names the record's current run and the record is
published (`is_published`), so a half-done publication never gives out a dead URL.

Unpublishing (made private, rejected, failed, replaced by a new run) clears the marker first,
then deletes the copies, then invalidates `/public/{media_id}/*`. A fresh token per publication
means two publications never share objects: a publication whose marker write loses a race
removes its own copies and nobody else's. What a crash or a failed delete leaves behind is
found by `sweep` (the cleanup job).

`reconcile(record)` is the one entry point: it computes the desired state from the record and
acts idempotently; calling it twice, or concurrently, is safe (every marker write is
conditional; a lost race re-reads the record and reconciles again).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from aws_lambda_powertools import Logger

from media_core.domain.access import public_copy_key, publicly_visible, publishable_variants
from media_core.domain.errors import Conflict
from media_core.domain.keys import PUBLIC_PREFIX, public_copy_prefix, public_prefix
from media_core.domain.models import MediaRecord, PublicCopy, Status
from media_core.domain.transfers import ListedObject
from media_core.domain.transform import transform_paths
from media_core.ports import Invalidator, MediaRecords, ObjectStorage

__all__ = ["Publication", "SweepReport", "public_paths"]

logger = Logger(child=True)

_ATTEMPTS = 4  # a lost conditional write re-reads and reconciles again, this many times at most
# Copies younger than this are left to the publication that may still be writing its marker.
SWEEP_GRACE = timedelta(minutes=15)
SWEEP_SHARDS = 16  # one hex digit of the media id: each run lists 1/16 of `public/`


def public_paths(media_id: str) -> list[str]:
    """The CDN paths of every published copy of a record (one wildcard invalidation)."""
    return [f"/{public_prefix(media_id)}*"]


@dataclass(frozen=True)
class SweepReport:
    examined: int = 0
    removed: list[str] = field(default_factory=list)  # the removed `public/{id}/{copy}/` prefixes


@dataclass
class Publication:
    repository: MediaRecords
    store: ObjectStorage
    invalidator: Invalidator
    media_bucket: str
    post_moderation: bool = False
    # False without a distribution: nothing would serve the copies, so none are made.
    enabled: bool = True

    def wanted(self, record: MediaRecord) -> bool:
        return (
            self.enabled
            and record.run_id is not None
            and publicly_visible(record, self.post_moderation)
            and bool(publishable_variants(record))
        )

    # ------------------------------------------------------------------ reconcile
    def reconcile(self, record: MediaRecord | None) -> MediaRecord | None:
        """Bring the published copies in line with `record` (read again after a lost race).
        Never raises: a failure is logged, and the query API keeps handing out signed URLs for
        a record without a valid marker; the cleanup job's sweep removes what is left over."""
        for _ in range(_ATTEMPTS):
            if record is None:
                return None
            try:
                return self._reconcile_once(record)
            except Conflict:
                record = self.repository.get(record.media_id)
            except Exception:
                logger.exception("publication not reconciled", media_id=record.media_id)
                return record
        logger.warning("publication kept losing races; left to the next change or the sweep")
        return record

    def _reconcile_once(self, record: MediaRecord) -> MediaRecord:
        if record.status == Status.DELETED:
            return record  # the purge removes every copy (MediaDeleter.remove_objects)
        current = record.public_copy
        if self.wanted(record):
            if current is not None and current.run_id == record.run_id:
                return record
            if current is not None:  # an earlier run's copies (a replacement, a reprocess)
                record = self._unpublish(record, current)
            return self._publish(record)
        if current is not None:
            return self._unpublish(record, current)
        return record

    def _publish(self, record: MediaRecord) -> MediaRecord:
        assert record.run_id is not None
        prefix = public_copy_prefix(record.media_id, record.run_id, uuid.uuid4().hex[:12])
        try:
            for name, variant in publishable_variants(record).items():
                self.store.copy(
                    self.media_bucket, variant.key, public_copy_key(prefix, name, variant), tag_claimed=False
                )
            published = self.repository.update(
                record, {"public_copy": PublicCopy(run_id=record.run_id, prefix=prefix)}
            )
        except BaseException:
            # Nobody else ever writes under this token: what we copied is ours to remove.
            self.store.delete_prefix(self.media_bucket, prefix)
            raise
        logger.info("published", media_id=record.media_id, prefix=prefix)
        return published

    def _unpublish(self, record: MediaRecord, current: PublicCopy) -> MediaRecord:
        """Marker first (no new URL is handed out), then the objects, then the edge copies."""
        updated = self.repository.update(record, {"public_copy": None})
        try:
            self.store.delete_prefix(self.media_bucket, current.prefix)
        except Exception:
            logger.exception("published copies not removed; the sweep resumes", media_id=record.media_id)
            # The origin refuses the public transformations already: their edge copies go now,
            # the copies' once the sweep has removed them.
            self.invalidator.invalidate(transform_paths(record.media_id))
            return updated
        # The public transformation URLs go too: they are cached for a year, and the record
        # left the public view (private, rejected, flagged, pending) or its run was replaced.
        self.invalidator.invalidate([*public_paths(record.media_id), *transform_paths(record.media_id)])
        logger.info("unpublished", media_id=record.media_id, prefix=current.prefix)
        return updated

    # ------------------------------------------------------------------ sweep
    def sweep(self, now: datetime, shard: str | None = None) -> SweepReport:
        """Remove copies no marker names: left by a failed delete or a crash between the copies
        and the marker. `shard`: one hex digit, only ids starting with it (default: from the
        hour, so hourly runs cover all of `public/` every 16 hours).

        Cost per run: one ListObjectsV2 per 1,000 objects of the shard, one GetItem per media
        id in it (every published record, not only the orphans: S3 cannot tell which), and the
        deletes and one invalidation per id with orphans. Records are reconciled first, so a
        marker that outlived its record's publication is cleared before anything is removed."""
        if shard is None:
            shard = f"{now.hour % SWEEP_SHARDS:x}"
        cutoff = now - SWEEP_GRACE
        examined, removed = 0, []
        listed = self.store.list_objects(self.media_bucket, f"{PUBLIC_PREFIX}{shard}")
        for media_id, objects in groupby(listed, key=lambda o: o.key.split("/")[1]):
            examined += 1
            newest = _newest_by_copy(objects)
            keep = self._kept_copy(media_id)
            stale = [p for p, at in newest.items() if p != keep and at < cutoff]
            for prefix in stale:  # a copy's prefix ends with "/"; a stray key is removed alone
                if prefix.endswith("/"):
                    self.store.delete_prefix(self.media_bucket, prefix)
                else:
                    self.store.delete_keys(self.media_bucket, [prefix])
            if stale:
                self.invalidator.invalidate(public_paths(media_id))
                removed.extend(stale)
        if removed:
            logger.info("orphaned public copies removed", count=len(removed))
        return SweepReport(examined, removed)

    def _kept_copy(self, media_id: str) -> str | None:
        """The prefix the record's (reconciled) marker names, or None: nothing is kept."""
        record = self.repository.get(media_id)
        if record is None or record.status == Status.DELETED:
            return None
        reconciled = self.reconcile(record)
        copy = reconciled.public_copy if reconciled is not None else None
        return copy.prefix if copy is not None else None


def _newest_by_copy(objects: Iterator[ListedObject]) -> dict[str, datetime]:
    """`public/{id}/{copy}/` -> the newest LastModified under it (a stray key stands for itself)."""
    newest: dict[str, datetime] = {}
    for listed in objects:
        parts = listed.key.split("/")
        prefix = "/".join(parts[:3]) + "/" if len(parts) >= 4 else listed.key
        if prefix not in newest or listed.last_modified > newest[prefix]:
            newest[prefix] = listed.last_modified
    return newest
