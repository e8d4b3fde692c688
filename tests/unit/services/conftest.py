"""Services and the processing lifecycle wired to the in-memory fakes (tests/unit/fakes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from media_core.domain.access import Caller
from media_core.domain.keys import new_media_id, original_key
from media_core.domain.models import Kind, MediaRecord, Original, Status, utc_now
from media_core.domain.transitions import Transition
from media_core.processing.lifecycle import ProcessingPipeline
from media_core.services.cleanup import Cleanup
from media_core.services.deletion import MediaDeleter
from media_core.services.management import MediaManagement
from media_core.services.outbox_relay import OutboxRelay
from media_core.services.reaper import Reaper
from media_core.services.uploads import UploadService
from media_core.settings import CleanupSettings, ManageSettings, ProcessorSettings, UploadSettings

from tests.unit.fakes import (
    FakeAuditTrail,
    FakeDuplicateFinder,
    FakeEventPublisher,
    FakeMediaRecords,
    FakeObjectStorage,
    FakeOutbox,
    FakeUsageMeter,
    FakeWorkSubmitter,
    Journal,
)

KIB = 1024
MIB = 1024 * 1024
UPLOADS = "uploads-bucket"
MEDIA = "media-bucket"
BUCKETS = {"table_name": "media-table", "uploads_bucket": UPLOADS, "media_bucket": MEDIA}
ALICE = Caller("alice", frozenset())
BOB = Caller("bob", frozenset())
ADMIN = Caller("root-admin", frozenset({"admin"}))


@pytest.fixture(autouse=True)
def _metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    # The template sets it for every function; EMF needs one.
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "MediaPipelineUnitTests")


@dataclass
class World:
    """One set of fakes, shared by every service built over it."""

    work_dir: Path
    journal: Journal = field(default_factory=Journal)
    records: FakeMediaRecords = field(init=False)
    store: FakeObjectStorage = field(init=False)
    audit: FakeAuditTrail = field(default_factory=FakeAuditTrail)
    events: FakeEventPublisher = field(default_factory=FakeEventPublisher)
    duplicates: FakeDuplicateFinder = field(default_factory=FakeDuplicateFinder)
    queue: FakeWorkSubmitter = field(default_factory=FakeWorkSubmitter)
    usage: FakeUsageMeter = field(default_factory=FakeUsageMeter)

    def __post_init__(self) -> None:
        self.records = FakeMediaRecords(self.journal, self.audit)
        self.store = FakeObjectStorage(journal=self.journal)
        self.relay = OutboxRelay(FakeOutbox(self.records), self.events)

    # ------------------------------------------------------------------ services
    def uploads(self, **settings: Any) -> UploadService:
        return UploadService(self.records, self.store, UploadSettings(**BUCKETS, **settings), self.usage)

    def deleter(self) -> MediaDeleter:
        return MediaDeleter(
            self.records, self.store, self.duplicates, self.audit, self.relay, CleanupSettings(**BUCKETS)
        )

    def management(self) -> MediaManagement:
        settings = ManageSettings(
            **BUCKETS,
            image_queue_url="https://sqs.test/image",
            av_queue_url="https://sqs.test/av",
            document_queue_url="https://sqs.test/document",
        )
        return MediaManagement(self.records, self.store, self.audit, self.deleter(), self.queue, settings)

    def pipeline(self, **settings: Any) -> ProcessingPipeline:
        processor = ProcessorSettings(**BUCKETS, work_dir=str(self.work_dir), **settings)
        return ProcessingPipeline(self.records, self.store, processor, self.relay, self.audit)

    def cleanup(self, **settings: Any) -> Cleanup:
        return Cleanup(self.records, self.deleter(), CleanupSettings(**BUCKETS, **settings))

    def reaper(self, stuck_after: dict[Kind, timedelta]) -> Reaper:
        return Reaper(self.records, self.records, self.store, MEDIA, stuck_after, relay=self.relay)

    # ------------------------------------------------------------------ Given steps
    def awaiting(
        self,
        owner: str = "alice",
        *,
        kind: Kind = Kind.IMAGE,
        extension: str = "png",
        size: int = 1000,
        at: datetime | None = None,
        **fields: Any,
    ) -> MediaRecord:
        """A record as UploadService.create leaves it (the upload URL handed out, no bytes yet)."""
        media_id = new_media_id()
        when = at or utc_now()
        record = MediaRecord(
            media_id=media_id,
            owner=owner,
            kind=kind,
            original=Original(
                key=original_key(kind, owner, media_id, extension),
                filename=f"photo.{extension}",
                content_type="image/png" if kind == Kind.IMAGE else "application/octet-stream",
                size=size,
            ),
            created_at=when,
            updated_at=when,
            **fields,
        )
        self.records.create(record)
        return record

    def stored(self, media_id: str) -> MediaRecord:
        record = self.records.get(media_id)
        assert record is not None, f"media {media_id} is gone"
        return record

    def with_status(self, record: MediaRecord, status: Status, **changes: Any) -> MediaRecord:
        """`record` moved to `status` through the state machine (as the pipeline would)."""
        return self.records.transition(record, Transition(status, changes=changes))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield World(tmp_path)
