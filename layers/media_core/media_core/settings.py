"""Typed configuration, read once per cold start from the environment.

Each function builds the settings class it needs through a cached factory; a missing or
malformed variable fails the cold start loudly instead of at the first request.

Plain frozen classes, not pydantic-settings (whose import and model building cost ~30 ms of
every cold start, docs/cold-start.md): a field is read from the variable of its name in any case
(`TABLE_NAME` for `table_name`), converted by its annotation as pydantic's lax mode does (ints,
floats, `true`/`false`/`1`/`0`/`yes`/`no`/`on`/`off`, enum values, a JSON list for a tuple) and checked
against the rules given with `setting(...)`. Keyword arguments (tests) are converted and checked
the same way; every broken field is named in one SettingsError.
"""

from __future__ import annotations

import json
import operator
import os
import re
import typing
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self, TypeVar

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper

    from media_core.domain.models import Kind
    from media_core.engines.av.ladder import Rung

MB = 1024 * 1024


# S3's largest object (5 TiB): no kind's limit can be above it.
S3_MAX_OBJECT_BYTES = 5 * 1024**4


class ModerationMode(StrEnum):
    PRE = "pre"  # others see media only once approved (the default)
    POST = "post"  # others see media until it is rejected


class SettingsError(ValueError):
    """One or more settings are missing or break their rule; the message names each one."""


class _Rules(NamedTuple):
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    pattern: str | None = None

    def broken(self, value: Any) -> str | None:
        """What `value` breaks, or None."""
        checks = (
            (self.ge, operator.ge, "greater than or equal to"),
            (self.gt, operator.gt, "greater than"),
            (self.le, operator.le, "less than or equal to"),
        )
        for limit, holds, words in checks:
            if limit is not None and not holds(value, limit):
                return f"should be {words} {limit}"
        if self.min_length is not None and len(value) < self.min_length:
            return f"should have at least {self.min_length} characters"
        if self.pattern is not None and re.search(self.pattern, value) is None:
            return f"should match pattern {self.pattern!r}"
        return None


class _Field(NamedTuple):
    default: Any
    rules: _Rules


_REQUIRED: Any = object()


def _as_field(value: Any) -> _Field:
    """A class attribute as a field: `setting(...)`, or a plain default without rules."""
    return value if isinstance(value, _Field) else _Field(value, _Rules())


def setting(
    default: Any = _REQUIRED,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A field with rules (like pydantic's Field); no default: the variable is required."""
    return _Field(default, _Rules(ge, gt, le, min_length, pattern))


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _convert(kind: Any, value: Any) -> Any:
    """`value` (a variable's text, or a keyword argument) as `kind`; ValueError if it cannot be."""
    if kind is str:
        if not isinstance(value, str):
            raise ValueError("should be a valid string")
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError("should be a valid boolean")
    if kind is int or kind is float:
        if isinstance(value, bool):
            raise ValueError(f"should be a valid {kind.__name__}")
        number = kind(value.strip() if isinstance(value, str) else value)
        if kind is int and isinstance(value, float) and number != value:
            raise ValueError("should be a valid integer, got a number with a fractional part")
        return number
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind(value)
    if typing.get_origin(kind) is tuple:  # tuple[str, ...]: a JSON list in the environment
        items = json.loads(value) if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ValueError("should be a list of strings")
        return tuple(items)
    raise TypeError(f"no conversion for {kind!r}")  # pragma: no cover - a new field's type


T = TypeVar("T")


def per_kind(kind: Kind, image: T, video: T, audio: T, document: T) -> T:
    """The value for `kind` (by its value: the domain's enum is not imported at cold start)."""
    return {"image": image, "video": video, "audio": audio, "document": document}[kind.value]


class Settings:
    """A frozen set of fields (annotated class attributes, a default or `setting(...)`): `from_env()`
    reads them, the constructor converts and checks (plain classes: dataclasses' generated code
    costs more at import than the whole module otherwise)."""

    _fields: ClassVar[dict[str, _Field]] = {}

    def __init_subclass__(cls) -> None:
        declared = [name for name in vars(cls).get("__annotations__", {}) if not name.startswith("_")]
        own = {name: _as_field(vars(cls).get(name, _REQUIRED)) for name in declared}
        inherited: dict[str, _Field] = {}
        for base in reversed(cls.__mro__[1:]):
            inherited.update(getattr(base, "_fields", {}))
        cls._fields = {**inherited, **own}
        for name in own:
            if name in vars(cls):
                delattr(cls, name)  # instances hold the values

    def __init__(self, **values: Any) -> None:
        # Unknown names are ignored, as pydantic-settings' extra="ignore" did.
        problems: list[str] = []
        missing = [name for name, f in self._fields.items() if name not in values and f.default is _REQUIRED]
        if missing:
            problems.append("missing " + ", ".join(missing))
        hints = _hints(type(self))
        for name, (default, rules) in self._fields.items():
            value = values.get(name, default)
            if value is _REQUIRED:
                continue
            if value is not default:  # defaults are taken as written (pydantic does not check them)
                try:
                    value = _convert(hints[name], value)
                except (TypeError, ValueError) as err:
                    problems.append(f"{name}: {err}")
                    continue
                broken = rules.broken(value)
                if broken:
                    problems.append(f"{name}: {broken} (got {value!r})")
            object.__setattr__(self, name, value)
        if not problems:
            problems.extend(self._check())
        if problems:
            raise SettingsError(f"{type(self).__name__}: " + "; ".join(problems))

    def _check(self) -> list[str]:
        """Rules across fields, or on the converted values (subclasses)."""
        return []

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from the environment (variable names in any case); SettingsError names what
        is missing or malformed."""
        env = {k.lower(): v for k, v in (os.environ if environ is None else environ).items()}
        return cls(**{name: env[name] for name in cls._fields if name in env})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"


_HINTS: dict[type[Settings], dict[str, Any]] = {}


def _hints(cls: type[Settings]) -> dict[str, Any]:
    """The fields' types, resolved on first use (not at import)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


S = TypeVar("S", bound=Settings)


def _cached(cls: type[S]) -> _lru_cache_wrapper[S]:
    """A factory reading `cls` from the environment once (`cache_clear()` for tests)."""
    return cache(cls.from_env)


class CommonSettings(Settings):
    table_name: str = setting(min_length=1)
    uploads_bucket: str = setting(min_length=1)
    media_bucket: str = setting(min_length=1)
    # Presigned GET URLs for variants and originals.
    download_url_ttl_seconds: int = setting(3600, ge=60, le=7 * 24 * 3600)
    # Group in `cognito:groups` whose members may see and manage everyone's media.
    admin_group: str = "admin"
    # Comma-separated browser origins for CORS (the same list the buckets allow).
    allowed_origins: str = "http://localhost:3000"
    # EventBridge bus for "Media Ready/Failed/Deleted" events (empty: events are not published).
    event_bus_name: str = ""
    # Audit trail entries expire (DynamoDB TTL) this many days after they are written.
    audit_retention_days: int = setting(90, ge=1, le=3650)

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    # Per-kind size limits: enforced by the upload policy and re-checked by the processors.
    max_image_bytes: int = setting(20 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)
    max_video_bytes: int = setting(500 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)
    max_audio_bytes: int = setting(50 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)
    max_document_bytes: int = setting(50 * MB, gt=0, le=S3_MAX_OBJECT_BYTES)

    # Who other users may see: media_core.domain.access.
    moderation_mode: ModerationMode = ModerationMode.PRE
    # Must match the queues' redrive maxReceiveCount: the last attempt ends the record `failed`,
    # and the reaper leaves a record alone while a retry is still due.
    max_receive_count: int = setting(5, ge=1)

    def max_bytes(self, kind: Kind) -> int:
        return per_kind(
            kind, self.max_image_bytes, self.max_video_bytes, self.max_audio_bytes, self.max_document_bytes
        )


common_settings = _cached(CommonSettings)


class UploadSettings(CommonSettings):
    upload_url_ttl_seconds: int = setting(900, ge=60, le=12 * 3600)
    multipart_threshold_bytes: int = setting(100 * MB, gt=0)
    # S3 allows 5 MiB..5 GiB per part and at most 10,000 parts.
    multipart_part_bytes: int = setting(16 * MB, ge=5 * MB, le=5 * 1024 * MB)
    # Groups whose uploads skip the moderation queue.
    auto_approve_groups: tuple[str, ...] = ()
    # Per-user quotas, checked when an upload starts (admins are exempt).
    quota_max_awaiting_uploads: int = setting(100, ge=1)
    quota_daily_upload_bytes: int = setting(2 * 1000 * MB, ge=1)
    quota_stored_bytes: int = setting(20 * 1000 * MB, ge=1)


upload_settings = _cached(UploadSettings)


class ProcessorSettings(CommonSettings):
    # Local scratch space (Lambda: /tmp, up to 10 GB).
    work_dir: str = "/tmp"  # noqa: S108 - Lambda's only writable path


processor_settings = _cached(ProcessorSettings)


class SourceImageCaps(Settings):
    """Source decoding caps (the image processor's; the Transform function decodes sources too)."""

    image_max_pixels: int = setting(50_000_000, gt=0)
    image_max_frames: int = setting(1000, gt=0)


class DuplicateDistance(Settings):
    # The image processor's and the deleters' must match: the duplicate index keys depend on it.
    image_duplicate_distance: int = setting(6, ge=0, le=20)


class ImageSettings(ProcessorSettings, SourceImageCaps, DuplicateDistance):
    # GPS coordinates are personal data: recorded only when explicitly allowed.
    image_allow_gps: bool = False


image_settings = _cached(ImageSettings)


class DocumentSettings(ProcessorSettings):
    document_max_pdf_pages: int = setting(5000, gt=0)
    document_zip_max_entries: int = setting(10_000, gt=0)
    document_zip_max_uncompressed_bytes: int = setting(1024 * MB, gt=0)
    document_zip_max_ratio: float = setting(100.0, gt=1)


document_settings = _cached(DocumentSettings)


class AvSettings(ProcessorSettings):
    video_max_width: int = setting(7680, gt=0)
    video_max_height: int = setting(4320, gt=0)
    video_max_duration_seconds: float = setting(4 * 3600, gt=0)
    video_preset: str = setting(
        "veryfast", pattern=r"^(ultrafast|superfast|veryfast|faster|fast|medium|slow)$"
    )
    video_crf: int = setting(23, ge=0, le=51)
    audio_max_duration_seconds: float = setting(3 * 3600, gt=0)
    # The HLS ladder (engines/av/ladder.parse_ladder): "1080,720,480,360" or "1080:6M,720:3000k".
    hls_ladder: str = "1080,720,480,360"
    # Videos at least this long take the segment-parallel workflow (when a state machine is set).
    parallel_transcode_min_seconds: float = setting(600, gt=0)
    # The segment-parallel transcode's state machine; empty: single-function path only.
    transcode_state_machine_arn: str = ""
    # At most this many segment tasks of one video at once (the Map state's MaxConcurrency).
    transcode_max_concurrency: int = setting(100, ge=1, le=10_000)

    @property
    def ladder(self) -> tuple[Rung, ...]:
        from media_core.engines.av.ladder import parse_ladder

        return parse_ladder(self.hls_ladder)

    def _check(self) -> list[str]:
        try:
            self.ladder  # noqa: B018 - a malformed ladder fails the cold start, not an upload
        except ValueError as err:
            return [f"hls_ladder: {err}"]
        return []


av_settings = _cached(AvSettings)


class ReaperSettings(CommonSettings):
    stuck_image_seconds: int = setting(480, gt=0)
    stuck_document_seconds: int = setting(480, gt=0)
    stuck_av_seconds: int = setting(6600, gt=0)
    # Records handed to this state machine are reaped only once their execution ended.
    transcode_state_machine_arn: str = ""

    def stuck_after(self) -> dict[Kind, timedelta]:
        from media_core.domain.models import Kind

        av = timedelta(seconds=self.stuck_av_seconds)
        return {
            Kind.IMAGE: timedelta(seconds=self.stuck_image_seconds),
            Kind.DOCUMENT: timedelta(seconds=self.stuck_document_seconds),
            Kind.VIDEO: av,
            Kind.AUDIO: av,
        }


reaper_settings = _cached(ReaperSettings)


HTTP_BASE = r"^(https?://[^\s?#]+)?$"


class QuerySettings(CommonSettings):
    """The query API's (its delivery settings are DeliverySettings: published copies of public
    media are served unsigned under the CDN's `/public/*`, docs/delivery.md)."""


query_settings = _cached(QuerySettings)


class DeletionSettings(CommonSettings, DuplicateDistance):
    """Whoever deletes media (the management API, the cleanup job)."""


class ManageSettings(DeletionSettings):
    # Reprocess sends an S3-shaped ObjectCreated message to the kind's queue.
    image_queue_url: str = setting(min_length=1)
    av_queue_url: str = setting(min_length=1)
    document_queue_url: str = setting(min_length=1)

    def queue_url(self, kind: Kind) -> str:
        return per_kind(
            kind, self.image_queue_url, self.av_queue_url, self.av_queue_url, self.document_queue_url
        )


manage_settings = _cached(ManageSettings)


class CleanupSettings(DeletionSettings):
    # Records never uploaded are removed this long after they were created.
    awaiting_upload_max_hours: int = setting(24, ge=1)
    # Failed records and their objects are removed this many days after they failed.
    failed_retention_days: int = setting(7, ge=1)
    # At most this many records of each kind of leftover per run (the rest wait for the next run).
    cleanup_batch_limit: int = setting(500, ge=1)


cleanup_settings = _cached(CleanupSettings)


class DeliverySettings(CommonSettings, SourceImageCaps):
    """The CDN (docs/delivery.md): signed CloudFront URLs, stable within a window, and signed
    on-demand transformations. `cdn_base_url` empty: no distribution, windowed S3 presigned URLs."""

    # https://dxxxx.cloudfront.net or the custom domain (locally: the gateway's /cdn).
    cdn_base_url: str = setting("", pattern=HTTP_BASE)
    # CloudFront public key id (Key-Pair-Id) and the secret holding its RSA private key (PEM).
    cdn_key_pair_id: str = ""
    cdn_private_key_secret_arn: str = ""
    # For invalidations on delete (empty: nothing to invalidate).
    cdn_distribution_id: str = ""
    # URLs are identical within a window; they live between the TTL and TTL + window.
    url_window_seconds: int = setting(3600, ge=1, le=24 * 3600)
    # The secret holding the transformation HMAC keys: "current[,previous]" (hex or base64url).
    transform_signing_keys_secret_arn: str = ""
    # srcset widths the query API signs (format=auto); the Transform function accepts only these.
    transform_widths: str = setting("320,640,960,1280,1920", pattern=r"^\d{1,4}(,\d{1,4})*$")
    transform_max_pixels: int = setting(16_000_000, gt=0)
    # Renditions above this many bytes are stored and redirected to (Lambda's 6 MB response cap).
    transform_max_inline_bytes: int = setting(4_500_000, ge=1, le=4_500_000)

    @property
    def cdn_base(self) -> str | None:
        return self.cdn_base_url.rstrip("/") or None

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(sorted({int(w) for w in self.transform_widths.split(",")}))


delivery_settings = _cached(DeliverySettings)


class TransformSettings(DeliverySettings):
    """The Transform function's (the same variables: it serves what the query API signs)."""


transform_settings = _cached(TransformSettings)
