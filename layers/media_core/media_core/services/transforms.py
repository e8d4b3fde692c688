"""Serving a signed on-demand transformation (`/t/{media_id}/{options}/{signature}`).

Order, so that a request nobody signed costs nothing: the signature is checked before anything
is parsed or read (domain.transform.parse_path), then the record, then the source is read and
rendered with the processors' imaging code (engines.imaging.transform). Too big for a Lambda
response, the rendition is stored under `media/{owner}/{id}/{run_id}/t/{hash}.{ext}` and
redirected to: with the run's variants, so a replacement never serves an earlier run's stored
rendition and the earlier run's prefix goes with it (processing.lifecycle).

A URL names the run it was issued for (`v`): only the record's current run is served, so the
year-long cached copies of an earlier run's URLs never stand for new content.

Signatures are issued only by the query API, to callers who may see the media; a URL without
`exp` is the public form and works only while the media is publicly visible (revocation when it
is made private, rejected or deleted; the CDN's copy is invalidated on delete).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from media_core.domain.access import publicly_visible
from media_core.domain.errors import NotFound
from media_core.domain.keys import media_prefix
from media_core.domain.models import Kind, MediaRecord, Status
from media_core.domain.transfers import UrlTarget
from media_core.domain.transform import (
    InvalidSignature,
    SigningKeys,
    TransformLimits,
    TransformOptions,
    cache_headers,
    canonical_options,
    negotiate_format,
    parse_path,
)
from media_core.engines.imaging.guards import ImageLimits
from media_core.engines.imaging.transform import choose_source, render_transform
from media_core.ports import DeliveryUrlSource, MediaRecords, ObjectStorage
from media_core.settings import ModerationMode, TransformSettings

__all__ = ["Rendition", "TransformRedirect", "TransformService", "rendition_key"]

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}


@dataclass(frozen=True)
class Rendition:
    data: bytes
    headers: dict[str, str]
    """Content-Type, Cache-Control (immutable, or until `exp`), Vary: Accept for `auto`."""
    source: str
    """The variant it was rendered from, or "original"."""


@dataclass(frozen=True)
class TransformRedirect:
    location: str
    headers: dict[str, str]
    key: str


def rendition_key(record: MediaRecord, options: TransformOptions, fmt: str) -> str:
    """Where a too-big rendition is stored: one object per run, transformation and format,
    whatever URL window asked for it (`exp` is not part of the name)."""
    if record.run_id is None:
        raise ValueError(f"media {record.media_id} has no processing run")
    spec = f"{canonical_options(replace(options, expires=None))}|{fmt}"
    digest = hashlib.sha256(spec.encode()).hexdigest()[:32]
    return f"{media_prefix(record.owner, record.media_id)}{record.run_id}/t/{digest}.{_EXTENSIONS[fmt]}"


@dataclass
class TransformService:
    repository: MediaRecords
    store: ObjectStorage
    urls: DeliveryUrlSource
    settings: TransformSettings
    keys: SigningKeys
    clock: Callable[[], float] = field(default=time.time)

    @property
    def limits(self) -> TransformLimits:
        return TransformLimits(
            max_pixels=self.settings.transform_max_pixels, allowed_widths=self.settings.widths
        )

    def serve(self, path: str, accept: str | None) -> Rendition | TransformRedirect:
        """Raises InvalidSignature/TransformExpired (403), InvalidTransform (400), NotFound (404),
        MediaRejected (422: the source is not a usable image)."""
        now = self.clock()
        request = parse_path(path, self.keys, self.limits, now=now)  # before any read
        options = request.options
        record = self._record(request.media_id, public_form=options.expires is None)
        if options.version is None or options.version != record.run_id:
            # Issued for an earlier run (replaced or reprocessed since), or for none.
            raise NotFound(
                f"this transformation URL is for an earlier version of media {request.media_id}; "
                "get a new one from the API"
            )
        width, height = int(record.metadata.get("width") or 0), int(record.metadata.get("height") or 0)
        has_alpha = bool(record.metadata.get("has_alpha"))
        fmt = negotiate_format(options.format, accept, has_alpha=has_alpha)
        key = rendition_key(record, options, fmt)
        if self.store.head(self.settings.media_bucket, key) is not None:  # stored by an earlier request
            return self._redirect(record, key)
        variants = {
            name: (v.width, v.height)
            for name, v in record.variants.items()
            if v.width and v.height and v.content_type == "image/jpeg"
        }
        chosen = (
            choose_source(options, (width, height), variants, has_alpha=has_alpha, limits=self.limits)
            if width and height
            else None
        )
        if chosen is not None:
            bucket, source_key = self.settings.media_bucket, record.variants[chosen].key
        elif record.original.stored_key is not None:
            bucket, source_key = self.settings.uploads_bucket, record.original.stored_key
        else:
            raise NotFound(f"media {request.media_id} not found")
        rendered = render_transform(
            self.store.read(bucket, source_key),
            options,
            accept=accept,
            image_limits=ImageLimits(
                max_pixels=self.settings.image_max_pixels,
                max_frames=self.settings.image_max_frames,
                max_bytes=self.settings.max_image_bytes,
            ),
            limits=self.limits,
            max_inline_bytes=self.settings.transform_max_inline_bytes,
        )
        if rendered.must_redirect:
            key = rendition_key(record, options, rendered.format)
            self.store.put(self.settings.media_bucket, key, rendered.data, content_type=rendered.content_type)
            return self._redirect(record, key)
        headers = {"Content-Type": rendered.content_type, **cache_headers(options, now=now)}
        return Rendition(rendered.data, headers, chosen or "original")

    def _record(self, media_id: str, *, public_form: bool) -> MediaRecord:
        record = self.repository.get(media_id)
        if record is None or record.status != Status.READY or record.kind != Kind.IMAGE:
            raise NotFound(f"media {media_id} not found")
        post = self.settings.moderation_mode == ModerationMode.POST
        if public_form and not publicly_visible(record, post):
            # A non-expiring URL is issued for public media only: revoked once it is not.
            raise InvalidSignature("this transformation URL is no longer valid")
        return record

    def _redirect(self, record: MediaRecord, key: str) -> TransformRedirect:
        post = self.settings.moderation_mode == ModerationMode.POST
        target = UrlTarget(self.settings.media_bucket, key)
        location = self.urls.object_url(target, public=publicly_visible(record, post), now=self.clock())
        # The Location may be a signed URL with its own expiry: never cached.
        return TransformRedirect(location, {"Location": location, "Cache-Control": "no-store"}, key)
