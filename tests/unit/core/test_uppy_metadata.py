"""Uppy's request -> the upload request: `metadata.size` is the declared size, known fields map onto
the request's fields, Uppy's own meta is ignored, and every broken rule names its field."""

from __future__ import annotations

from typing import Any

import pytest
from media_core.domain.errors import InvalidRequest
from media_core.services.uppy import upload_request


def test_uppy_meta_becomes_the_upload_request() -> None:
    meta: dict[str, Any] = {
        "size": "2048",  # as a metadata[size] query parameter
        "name": "Beach.jpg",
        "type": "image/jpeg",
        "relativePath": "null",
        "tags": "sea, sun,,",
        "entity_type": "listing",
        "entity_id": "42",
        "visibility": "public",
        "alt_text": "The beach",
    }
    request = upload_request("Beach.jpg", "image/jpeg", meta)
    assert request.size == 2048 and request.filename == "Beach.jpg" and request.content_type == "image/jpeg"
    assert request.tags == ["sea", "sun"] and request.entity_type == "listing" and request.entity_id == "42"
    assert request.visibility.value == "public" and request.alt_text == "The beach"
    assert request.multipart is False and request.caption is None


def test_a_json_size_and_a_tag_list_are_taken_as_they_are() -> None:
    request = upload_request("a.mp4", "video/mp4", {"size": 11, "tags": ["x"], "caption": ""})
    assert request.size == 11 and request.tags == ["x"] and request.caption is None


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({}, "metadata.size"),
        ({"size": ""}, "metadata.size"),
        ({"size": True}, "metadata.size"),
        ({"size": "1e3"}, "metadata.size"),
        ({"size": -1}, "metadata.size"),
        ({"size": "0"}, "metadata.size"),
        ({"size": 1, "tags": 3}, "metadata.tags"),
        ({"size": 1, "tags": ["bad/tag"]}, "metadata.tags.0"),
        ({"size": 1, "visibility": "world"}, "metadata.visibility"),
        ({"size": 1, "entity_id": "x"}, "metadata"),
    ],
)
def test_each_broken_rule_names_its_field(meta: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        upload_request("a.jpg", "image/jpeg", meta)
    assert raised.value.field == field


def test_an_empty_filename_is_named_as_uppy_names_it() -> None:
    with pytest.raises(InvalidRequest) as raised:
        upload_request("", "image/jpeg", {"size": 1})
    assert raised.value.field == "filename"
