"""The cleanup job: records still `awaiting_upload` after a day (the upload never came) and
`failed` records after a retention period are deleted with any objects (MediaDeleter). Finds
them with the ByStatus index (oldest change first): never a Scan. Then one shard of `public/`
is swept for published copies no record's marker names (Publication.sweep: its cost is there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from media_core.domain.audit import SYSTEM_ACTOR
from media_core.domain.models import Status, utc_now
from media_core.ports import RecordsByStatus
from media_core.services.deletion import MediaDeleter
from media_core.services.publication import Publication
from media_core.settings import CleanupSettings


@dataclass(frozen=True)
class CleanupReport:
    never_uploaded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    public_orphans: list[str] = field(default_factory=list)  # removed `public/{id}/{copy}/` prefixes


@dataclass
class Cleanup:
    index: RecordsByStatus
    deleter: MediaDeleter
    settings: CleanupSettings
    publication: Publication | None = None

    def run(self, now: datetime | None = None) -> CleanupReport:
        now = now or utc_now()
        report = CleanupReport()
        stale = now - timedelta(hours=self.settings.awaiting_upload_max_hours)
        expired = now - timedelta(days=self.settings.failed_retention_days)
        limit = self.settings.cleanup_batch_limit
        for record in islice(self.index.changed_before(Status.AWAITING_UPLOAD, stale), limit):
            reason = f"never uploaded within {self.settings.awaiting_upload_max_hours} h"
            if self.deleter.delete_if_unchanged(record, f"{SYSTEM_ACTOR}:cleanup", reason):
                report.never_uploaded.append(record.media_id)
        for record in islice(self.index.changed_before(Status.FAILED, expired), limit):
            reason = f"failed more than {self.settings.failed_retention_days} days ago"
            if self.deleter.delete_if_unchanged(record, f"{SYSTEM_ACTOR}:cleanup", reason):
                report.failed.append(record.media_id)
        # Deletes whose objects were not all removed (a failed S3 call): resume them.
        pending = now - timedelta(minutes=5)
        for record in islice(self.index.changed_before(Status.DELETED, pending), limit):
            if record.purge_pending and self.deleter.delete_if_unchanged(
                record, f"{SYSTEM_ACTOR}:cleanup", "deletion resumed"
            ):
                report.purged.append(record.media_id)
        if self.publication is not None:
            report.public_orphans.extend(self.publication.sweep(now).removed)
        return report
