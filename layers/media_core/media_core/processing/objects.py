"""What a processor is told: an object was created (from an S3 notification, or a reprocess request)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str  # as S3 delivers it (URL-encoded); parse_upload_key decodes
    size: int
    etag: str


@dataclass(frozen=True)
class Attempt:
    """Which delivery of the message this is (SQS ApproximateReceiveCount) out of how many."""

    number: int
    maximum: int

    @property
    def is_last(self) -> bool:
        return self.number >= self.maximum

    @property
    def is_retry(self) -> bool:
        return self.number > 1
