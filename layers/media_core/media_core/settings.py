"""Typed configuration, read once per cold start from the environment.

Each function builds the settings class it needs through a cached factory; a missing or
malformed variable fails the cold start loudly instead of at the first request.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from media_core.domain.models import Kind
from media_core.engines.av.ladder import Rung, parse_ladder

MB = 1024 * 1024


# S3's largest object (5 TiB): no kind's limit can be above it.
S3_MAX_OBJECT_BYTES = 5 * 1024**4


class ModerationMode(StrEnum):
    PRE = "pre"  # others see media only once approved (the default)
    POST = "post"  # others see media until it is rejected


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
    # EventBridge bus for "Media Ready/Failed/Deleted" events (empty: events are not published).
    event_bus_name: str = ""
    # Audit trail entries expire (DynamoDB TTL) this many days after they are written.
    audit_retention_days: int = Field(default=90, ge=1, le=3650)

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    # Per-kind size limits: enforced by the upload policy and re-checked by the processors.
    max_image_bytes: int = Field(default=20 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)
    max_video_bytes: int = Field(default=500 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)
    max_audio_bytes: int = Field(default=50 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)
    max_document_bytes: int = Field(default=50 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)

    # Who other users may see: media_core.domain.access.
    moderation_mode: ModerationMode = ModerationMode.PRE
    # Must match the queues' redrive maxReceiveCount: the last attempt ends the record `failed`,
    # and the reaper leaves a record alone while a retry is still due.
    max_receive_count: int = Field(default=5, ge=1)

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
    # Per-user quotas, checked when an upload starts (admins are exempt).
    quota_max_awaiting_uploads: int = Field(default=100, ge=1)
    quota_daily_upload_bytes: int = Field(default=2 * 1000 * MB, ge=1)
    quota_stored_bytes: int = Field(default=20 * 1000 * MB, ge=1)


class ProcessorSettings(CommonSettings):
    # Local scratch space (Lambda: /tmp, up to 10 GB).
    work_dir: str = "/tmp"  # noqa: S108 - Lambda's only writable path


@cache
def upload_settings() -> UploadSettings:
    return UploadSettings()


class ImageSettings(ProcessorSettings):
    image_max_pixels: int = Field(default=50_000_000, gt=0)
    image_max_frames: int = Field(default=1000, gt=0)
    # GPS coordinates are personal data: recorded only when explicitly allowed.
    image_allow_gps: bool = False
    image_duplicate_distance: int = Field(default=6, ge=0, le=20)


class DocumentSettings(ProcessorSettings):
    document_max_pdf_pages: int = Field(default=5000, gt=0)
    document_zip_max_entries: int = Field(default=10_000, gt=0)
    document_zip_max_uncompressed_bytes: int = Field(default=1024 * MB, gt=0)
    document_zip_max_ratio: float = Field(default=100.0, gt=1)


class AvSettings(ProcessorSettings):
    video_max_width: int = Field(default=7680, gt=0)
    video_max_height: int = Field(default=4320, gt=0)
    video_max_duration_seconds: float = Field(default=4 * 3600, gt=0)
    video_preset: str = Field(
        default="veryfast", pattern=r"^(ultrafast|superfast|veryfast|faster|fast|medium|slow)$"
    )
    video_crf: int = Field(default=23, ge=0, le=51)
    audio_max_duration_seconds: float = Field(default=3 * 3600, gt=0)
    # The HLS ladder (engines/av/ladder.parse_ladder): "1080,720,480,360" or "1080:6M,720:3000k".
    hls_ladder: str = "1080,720,480,360"
    # Videos at least this long take the segment-parallel workflow (when a state machine is set).
    parallel_transcode_min_seconds: float = Field(default=600, gt=0)
    # The segment-parallel transcode's state machine; empty: single-function path only.
    transcode_state_machine_arn: str = ""
    # At most this many segment tasks of one video at once (the Map state's MaxConcurrency).
    transcode_max_concurrency: int = Field(default=100, ge=1, le=10_000)

    @property
    def ladder(self) -> tuple[Rung, ...]:
        return parse_ladder(self.hls_ladder)

    @model_validator(mode="after")
    def _check_ladder(self) -> AvSettings:
        parse_ladder(self.hls_ladder)  # a malformed ladder fails the cold start, not an upload
        return self


class ReaperSettings(CommonSettings):
    stuck_image_seconds: int = Field(default=480, gt=0)
    stuck_document_seconds: int = Field(default=480, gt=0)
    stuck_av_seconds: int = Field(default=6600, gt=0)
    # Records handed to this state machine are reaped only once their execution ended.
    transcode_state_machine_arn: str = ""

    def stuck_after(self) -> dict[Kind, timedelta]:
        av = timedelta(seconds=self.stuck_av_seconds)
        return {
            Kind.IMAGE: timedelta(seconds=self.stuck_image_seconds),
            Kind.DOCUMENT: timedelta(seconds=self.stuck_document_seconds),
            Kind.VIDEO: av,
            Kind.AUDIO: av,
        }


class QuerySettings(CommonSettings):
    """The query API's (its delivery settings are DeliverySettings: published copies of public
    media are served unsigned under the CDN's `/public/*`, docs/delivery.md)."""


class DeletionSettings(CommonSettings):
    # Must match the image processor's: the duplicate index keys depend on it.
    image_duplicate_distance: int = Field(default=6, ge=0, le=20)


class ManageSettings(DeletionSettings):
    # Reprocess sends an S3-shaped ObjectCreated message to the kind's queue.
    image_queue_url: str = Field(min_length=1)
    av_queue_url: str = Field(min_length=1)
    document_queue_url: str = Field(min_length=1)

    def queue_url(self, kind: Kind) -> str:
        return {
            Kind.IMAGE: self.image_queue_url,
            Kind.VIDEO: self.av_queue_url,
            Kind.AUDIO: self.av_queue_url,
            Kind.DOCUMENT: self.document_queue_url,
        }[kind]


class CleanupSettings(DeletionSettings):
    # Records never uploaded are removed this long after they were created.
    awaiting_upload_max_hours: int = Field(default=24, ge=1)
    # Failed records and their objects are removed this many days after they failed.
    failed_retention_days: int = Field(default=7, ge=1)
    # At most this many records of each kind of leftover per run (the rest wait for the next run).
    cleanup_batch_limit: int = Field(default=500, ge=1)


@cache
def query_settings() -> QuerySettings:
    return QuerySettings()


@cache
def manage_settings() -> ManageSettings:
    return ManageSettings()


@cache
def cleanup_settings() -> CleanupSettings:
    return CleanupSettings()


@cache
def reaper_settings() -> ReaperSettings:
    return ReaperSettings()


@cache
def processor_settings() -> ProcessorSettings:
    return ProcessorSettings()


@cache
def image_settings() -> ImageSettings:
    return ImageSettings()


@cache
def document_settings() -> DocumentSettings:
    return DocumentSettings()


@cache
def av_settings() -> AvSettings:
    return AvSettings()


@cache
def common_settings() -> CommonSettings:
    return CommonSettings()


class DeliverySettings(CommonSettings):
    """The CDN (docs/delivery.md): signed CloudFront URLs, stable within a window, and signed
    on-demand transformations. `cdn_base_url` empty: no distribution, windowed S3 presigned URLs."""

    # https://dxxxx.cloudfront.net or the custom domain (locally: the gateway's /cdn).
    cdn_base_url: str = Field(default="", pattern=r"^(https?://[^\s?#]+)?$")
    # CloudFront public key id (Key-Pair-Id) and the secret holding its RSA private key (PEM).
    cdn_key_pair_id: str = ""
    cdn_private_key_secret_arn: str = ""
    # For invalidations on delete (empty: nothing to invalidate).
    cdn_distribution_id: str = ""
    # URLs are identical within a window; they live between the TTL and TTL + window.
    url_window_seconds: int = Field(default=3600, ge=1, le=24 * 3600)
    # The secret holding the transformation HMAC keys: "current[,previous]" (hex or base64url).
    transform_signing_keys_secret_arn: str = ""
    # srcset widths the query API signs (format=auto); the Transform function accepts only these.
    transform_widths: str = Field(default="320,640,960,1280,1920", pattern=r"^\d{1,4}(,\d{1,4})*$")
    transform_max_pixels: int = Field(default=16_000_000, gt=0)
    # Source decoding caps (the image processor's).
    image_max_pixels: int = Field(default=50_000_000, gt=0)
    image_max_frames: int = Field(default=1000, gt=0)
    # Renditions above this many bytes are stored and redirected to (Lambda's 6 MB response cap).
    transform_max_inline_bytes: int = Field(default=4_500_000, ge=1, le=4_500_000)

    @property
    def cdn_base(self) -> str | None:
        return self.cdn_base_url.rstrip("/") or None

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(sorted({int(w) for w in self.transform_widths.split(",")}))


class TransformSettings(DeliverySettings):
    """The Transform function's (the same variables: it serves what the query API signs)."""


@cache
def delivery_settings() -> DeliverySettings:
    return DeliverySettings()


@cache
def transform_settings() -> TransformSettings:
    return TransformSettings()
