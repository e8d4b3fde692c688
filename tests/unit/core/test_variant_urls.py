"""Variant URL rules (no AWS: presigning is local): private media gets short-lived presigned
URLs; public media stable URLs under PUBLIC_MEDIA_BASE_URL, presigned when none is set;
rejected media never gets a stable URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from media_core.dal.dynamo.repository import MediaRepository
from media_core.dal.s3 import ObjectStore
from media_core.domain.models import Kind, MediaRecord, Moderation, Original, Status, Variant, Visibility
from media_core.services.queries import MediaQueries
from media_core.settings import QuerySettings

KEY = "media/o/" + "a" * 32 + "/run1/thumbnail.jpg"


def queries(base: str = "", ttl: int = 3600) -> MediaQueries:
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    s3 = session.client("s3", config=Config(signature_version="s3v4"))
    table = session.resource("dynamodb").Table("t")
    settings = QuerySettings(
        table_name="t",
        uploads_bucket="up",
        media_bucket="media-bucket",
        public_media_base_url=base,
        download_url_ttl_seconds=ttl,
    )
    return MediaQueries(MediaRepository(table), ObjectStore(s3), settings)


def record(visibility: Visibility, moderation: Moderation = Moderation.APPROVED) -> MediaRecord:
    return MediaRecord(
        media_id="a" * 32,
        owner="o",
        kind=Kind.IMAGE,
        status=Status.READY,
        original=Original(
            key="uploads/image/o/x/original.jpg", filename="x.jpg", content_type="image/jpeg", size=1
        ),
        visibility=visibility,
        moderation=moderation,
        variants={"thumbnail": Variant(key=KEY, content_type="image/jpeg", bytes=10)},
    )


def test_private_media_gets_presigned_urls_with_the_configured_ttl():
    url = (
        queries(base="https://cdn.example.com", ttl=600)
        .view(record(Visibility.PRIVATE))
        .variants["thumbnail"]
        .url
    )
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["600"] and "media-bucket" in url


def test_public_media_gets_stable_urls_under_the_base():
    view = queries(base="https://cdn.example.com/").view(record(Visibility.PUBLIC))
    assert view.variants["thumbnail"].url == f"https://cdn.example.com/{KEY}"


@pytest.mark.parametrize("moderation", [Moderation.REJECTED])
def test_rejected_public_media_is_presigned(moderation: Moderation):
    url = (
        queries(base="https://cdn.example.com")
        .view(record(Visibility.PUBLIC, moderation))
        .variants["thumbnail"]
        .url
    )
    assert "X-Amz-Signature" in url


def test_without_a_base_public_media_is_presigned_too():
    url = queries().view(record(Visibility.PUBLIC)).variants["thumbnail"].url
    assert "X-Amz-Signature" in url


def test_a_base_url_must_be_http():
    with pytest.raises(ValueError, match="public_media_base_url"):
        queries(base="ftp://x")
