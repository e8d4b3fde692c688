"""Variant URL rules (no AWS: presigning is local): private media gets windowed presigned URLs;
published public media (the marker names the current run) stable unsigned URLs under the CDN's
`/public/`; public media without a valid marker, rejected media or no CDN: presigned."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from media_core.dal.dynamo.repository import MediaRepository
from media_core.dal.s3 import ObjectStore
from media_core.dal.url_signing import DeliveryUrls, WindowedS3Presigner
from media_core.domain.models import (
    Kind,
    MediaRecord,
    Moderation,
    Original,
    PublicCopy,
    Status,
    Variant,
    Visibility,
)
from media_core.services.queries import MediaQueries
from media_core.settings import DeliverySettings, ModerationMode, QuerySettings

MEDIA_ID = "a" * 32
KEY = f"media/o/{MEDIA_ID}/run1/thumbnail.jpg"
PREFIX = f"public/{MEDIA_ID}/run1-tok/"
CDN = "https://cdn.example.com"


def queries(cdn: str = CDN, ttl: int = 3600, mode: ModerationMode = ModerationMode.PRE) -> MediaQueries:
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    s3 = session.client("s3", config=Config(signature_version="s3v4"))
    table = session.resource("dynamodb").Table("t")
    common: dict[str, Any] = {"table_name": "t", "uploads_bucket": "up", "media_bucket": "media-bucket"}
    settings = QuerySettings(**common, download_url_ttl_seconds=ttl, moderation_mode=mode)
    delivery = DeliverySettings(**common, cdn_base_url=cdn)
    presigner = WindowedS3Presigner(s3, session.get_credentials)
    urls = DeliveryUrls(presigner, public_base=delivery.cdn_base, ttl_seconds=ttl)
    return MediaQueries(MediaRepository(table), ObjectStore(s3), settings, urls=urls, delivery=delivery)


def record(
    visibility: Visibility,
    moderation: Moderation = Moderation.APPROVED,
    *,
    copy_run: str | None = "run1",
    run_id: str = "run1",
) -> MediaRecord:
    return MediaRecord(
        media_id=MEDIA_ID,
        owner="o",
        kind=Kind.IMAGE,
        status=Status.READY,
        run_id=run_id,
        original=Original(
            key="uploads/image/o/x/original.jpg", filename="x.jpg", content_type="image/jpeg", size=1
        ),
        visibility=visibility,
        moderation=moderation,
        variants={"thumbnail": Variant(key=KEY, content_type="image/jpeg", bytes=10)},
        public_copy=PublicCopy(run_id=copy_run, prefix=PREFIX) if copy_run else None,
    )


def url_of(q: MediaQueries, r: MediaRecord) -> str:
    return q.view(r).variants["thumbnail"].url


def test_private_media_gets_presigned_urls_with_the_configured_ttl():
    url = url_of(queries(ttl=600), record(Visibility.PRIVATE, copy_run=None))
    query = parse_qs(urlsplit(url).query)
    # Windowed: valid for the TTL plus one window from the window's start
    assert query["X-Amz-Expires"] == ["4200"] and "media-bucket" in url


def test_published_media_gets_stable_unsigned_urls_under_the_cdns_public_path():
    url = url_of(queries(cdn=CDN + "/"), record(Visibility.PUBLIC))
    assert url == f"{CDN}/{PREFIX}thumbnail.jpg"


def test_post_moderation_publishes_pending_media_and_pre_moderation_does_not():
    pending = record(Visibility.PUBLIC, Moderation.PENDING)
    assert url_of(queries(mode=ModerationMode.POST), pending) == f"{CDN}/{PREFIX}thumbnail.jpg"
    assert "X-Amz-Signature" in url_of(queries(), pending)


@pytest.mark.parametrize(
    "shown",
    [
        record(Visibility.PUBLIC, copy_run=None),  # not (yet) published: no marker
        record(Visibility.PUBLIC, copy_run="run0"),  # the marker is of an earlier run
        record(Visibility.PUBLIC, Moderation.REJECTED),  # a stale marker never opens the path
        record(Visibility.PRIVATE),
    ],
    ids=["no-marker", "another-run", "rejected", "private"],
)
def test_anything_but_a_valid_marker_on_published_media_is_presigned(shown: MediaRecord):
    url = url_of(queries(), shown)
    assert "X-Amz-Signature" in url and "/public/" not in url


def test_without_a_cdn_public_media_is_presigned_too():
    url = url_of(queries(cdn=""), record(Visibility.PUBLIC))
    assert "X-Amz-Signature" in url and "/public/" not in url


def test_a_cdn_base_url_must_be_http():
    with pytest.raises(ValueError, match="cdn_base_url"):
        queries(cdn="ftp://x")
