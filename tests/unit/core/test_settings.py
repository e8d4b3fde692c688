"""Typed settings read from the environment: variable names in any case, conversions as
pydantic's lax mode made them, the rules of each field, one error naming every broken field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from media_core.domain.models import Kind
from media_core.settings import (
    AvSettings,
    ImageSettings,
    ManageSettings,
    ModerationMode,
    QuerySettings,
    ReaperSettings,
    SettingsError,
    TransformSettings,
    UploadSettings,
)

BUCKETS = {"TABLE_NAME": "media", "UPLOADS_BUCKET": "uploads", "MEDIA_BUCKET": "media-bucket"}


def test_reads_and_converts_the_environment():
    # Given every kind of field as environment text, names in upper case
    env = {
        **BUCKETS,
        "MAX_IMAGE_BYTES": " 1024 ",
        "MODERATION_MODE": "post",
        "AUTO_APPROVE_GROUPS": '["editors", "staff"]',
        "ALLOWED_ORIGINS": "https://a.example, https://b.example",
    }
    # When reading the upload settings
    settings = UploadSettings.from_env(env)
    # Then each value has its field's type, and what is not set keeps its default
    assert settings.table_name == "media"
    assert settings.max_image_bytes == 1024
    assert settings.moderation_mode is ModerationMode.POST
    assert settings.auto_approve_groups == ("editors", "staff")
    assert settings.origins == ["https://a.example", "https://b.example"]
    assert settings.multipart_part_bytes == 16 * 1024 * 1024
    assert settings.max_bytes(Kind.IMAGE) == 1024
    assert settings.max_bytes(Kind.VIDEO) == 500 * 1024 * 1024


def test_variable_names_are_read_in_any_case_and_unknown_ones_are_ignored():
    settings = QuerySettings.from_env(
        {"table_name": "t", "Uploads_Bucket": "u", "MEDIA_BUCKET": "m", "NOT_A_SETTING": "x"}
    )
    assert (settings.table_name, settings.uploads_bucket, settings.media_bucket) == ("t", "u", "m")


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("YES", True), ("1", True), ("off", False)])
def test_booleans_read_as_pydantic_read_them(text: str, expected: bool):
    assert ImageSettings.from_env({**BUCKETS, "IMAGE_ALLOW_GPS": text}).image_allow_gps is expected


def test_floats_and_keyword_arguments_are_converted_too():
    settings = AvSettings(
        table_name="t", uploads_bucket="u", media_bucket="m", video_crf="30", audio_max_duration_seconds=60
    )
    assert settings.video_crf == 30
    assert settings.audio_max_duration_seconds == 60.0
    assert isinstance(settings.audio_max_duration_seconds, float)


def test_every_missing_variable_is_named():
    with pytest.raises(SettingsError) as raised:
        ManageSettings.from_env({"TABLE_NAME": "t"})
    message = str(raised.value)
    for name in ("uploads_bucket", "media_bucket", "image_queue_url", "av_queue_url", "document_queue_url"):
        assert name in message
    assert "table_name" not in message


def test_every_broken_rule_is_named_in_one_error():
    # Given a number below its minimum, an empty required name, an unknown enum value, a bad pattern
    env = {
        **BUCKETS,
        "TABLE_NAME": "",
        "MULTIPART_PART_BYTES": "5",
        "MODERATION_MODE": "sometimes",
        "DOWNLOAD_URL_TTL_SECONDS": "ten",
    }
    # When reading them
    with pytest.raises(SettingsError) as raised:
        UploadSettings.from_env(env)
    # Then one error names each field and what is wrong with it
    message = str(raised.value)
    assert "table_name: should have at least 1 characters" in message
    assert "multipart_part_bytes: should be greater than or equal to 5242880 (got 5)" in message
    assert "moderation_mode:" in message
    assert "download_url_ttl_seconds:" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CDN_BASE_URL", "ftp://cdn.example"),
        ("TRANSFORM_WIDTHS", "320,wide"),
        ("TRANSFORM_MAX_INLINE_BYTES", "4500001"),
        ("URL_WINDOW_SECONDS", "0"),
        ("IMAGE_MAX_PIXELS", "0"),
        ("MAX_VIDEO_BYTES", str(5 * 1024**4 + 1)),
    ],
)
def test_pattern_and_bounds_are_checked(name: str, value: str):
    with pytest.raises(SettingsError, match=name.lower()):
        TransformSettings.from_env({**BUCKETS, name: value})


def test_a_malformed_ladder_fails_when_the_settings_are_read():
    with pytest.raises(SettingsError, match="hls_ladder"):
        AvSettings.from_env({**BUCKETS, "HLS_LADDER": "1080,huge"})
    assert [rung.height for rung in AvSettings.from_env({**BUCKETS, "HLS_LADDER": "720,360"}).ladder] == [
        720,
        360,
    ]


def test_settings_are_frozen_and_compare_by_value():
    first = QuerySettings.from_env(BUCKETS)
    second = QuerySettings.from_env(dict(BUCKETS))
    assert first == second
    assert hash(first) == hash(second)
    assert first != UploadSettings.from_env(BUCKETS)
    with pytest.raises(AttributeError):
        first.table_name = "other"  # type: ignore[misc]


def test_derived_values():
    delivery = TransformSettings.from_env(
        {**BUCKETS, "CDN_BASE_URL": "https://cdn.example/", "TRANSFORM_WIDTHS": "640,320,640"}
    )
    assert delivery.cdn_base == "https://cdn.example"
    assert delivery.widths == (320, 640)
    manage = ManageSettings.from_env(
        {**BUCKETS, "IMAGE_QUEUE_URL": "q-image", "AV_QUEUE_URL": "q-av", "DOCUMENT_QUEUE_URL": "q-doc"}
    )
    assert [manage.queue_url(kind) for kind in Kind] == ["q-image", "q-av", "q-av", "q-doc"]
    assert manage.image_duplicate_distance == 6
    reaper = ReaperSettings.from_env({**BUCKETS, "STUCK_AV_SECONDS": "60"})
    assert reaper.stuck_after()[Kind.AUDIO] == timedelta(seconds=60)
    assert reaper.stuck_after()[Kind.IMAGE] == timedelta(seconds=480)
