"""The contract between the shared pipeline and a kind-specific processor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from media_core.domain.models import MediaRecord, Variant
from media_core.domain.transfers import UrlTarget
from media_core.ports import ObjectStorage
from media_core.processing.variants import VariantWriter


@dataclass
class WorkContext:
    record: MediaRecord
    bucket: str
    key: str
    size: int
    store: ObjectStorage
    variants: VariantWriter
    workdir: Path
    remaining_seconds: Callable[[], float]

    def read_original(self) -> bytes:
        return self.store.read(self.bucket, self.key)

    def original_url(self, expires_in: int = 3600) -> str:
        """A presigned GET of the original: ffmpeg/ffprobe read it with range requests."""
        return self.store.presigned_get(UrlTarget(self.bucket, self.key), expires_in=expires_in)


@dataclass
class WorkResult:
    variants: dict[str, Variant]
    metadata: dict[str, Any]
    sha256: str | None = None
    duplicate_of: list[str] = field(default_factory=list)
    # Side effects that only make sense if this run's result is the record's: run by the
    # lifecycle after the ready write commits, never for a run that was superseded or deleted.
    on_ready: Callable[[], None] | None = None
    # Set when the work continues in a workflow (its execution ARN): the record stays `processing`
    # with `metadata`, and the workflow settles it through the same finish.
    handoff: str | None = None


class KindProcessor(Protocol):
    """Does the kind-specific work. Raises MediaRejected for a bad file (the record fails with
    its message); any other exception is retried and, on the last attempt, fails the record."""

    def __call__(self, context: WorkContext) -> WorkResult: ...
