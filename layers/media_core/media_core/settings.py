"""Typed configuration, read once per cold start from the environment.

Each function builds the settings class it needs through a cached factory; a missing or
malformed variable fails the cold start loudly instead of at the first request.
"""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from media_core.models import Kind

MB = 1024 * 1024


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(min_length=1)
    uploads_bucket: str = Field(min_length=1)
    media_bucket: str = Field(min_length=1)
    # Presigned GET URLs for variants and originals.
    download_url_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Group in `cognito:groups` whose members may see and manage everyone's media.
    admin_group: str = "admin"
    # Comma-separated browser origins for CORS (the same list the buckets allow).
    allowed_origins: str = "http://localhost:3000"

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    # Per-kind size limits: enforced by the upload policy and re-checked by the processors.
    max_image_bytes: int = Field(default=20 * MB, gt=0)
    max_video_bytes: int = Field(default=500 * MB, gt=0)
    max_audio_bytes: int = Field(default=50 * MB, gt=0)
    max_document_bytes: int = Field(default=50 * MB, gt=0)

    def max_bytes(self, kind: Kind) -> int:
        return {
            Kind.IMAGE: self.max_image_bytes,
            Kind.VIDEO: self.max_video_bytes,
            Kind.AUDIO: self.max_audio_bytes,
            Kind.DOCUMENT: self.max_document_bytes,
        }[kind]


class UploadSettings(CommonSettings):
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=12 * 3600)
    multipart_threshold_bytes: int = Field(default=100 * MB, gt=0)
    # S3 allows 5 MiB..5 GiB per part and at most 10,000 parts.
    multipart_part_bytes: int = Field(default=16 * MB, ge=5 * MB, le=5 * 1024 * MB)
    # Groups whose uploads skip the moderation queue.
    auto_approve_groups: tuple[str, ...] = ()


class ProcessorSettings(CommonSettings):
    # Must match the queue's redrive maxReceiveCount: the last attempt ends the record `failed`.
    max_receive_count: int = Field(default=3, ge=1)
    # Local scratch space (Lambda: /tmp, up to 10 GB).
    work_dir: str = "/tmp"  # noqa: S108 - Lambda's only writable path


@cache
def upload_settings() -> UploadSettings:
    return UploadSettings()


@cache
def processor_settings() -> ProcessorSettings:
    return ProcessorSettings()


@cache
def common_settings() -> CommonSettings:
    return CommonSettings()
