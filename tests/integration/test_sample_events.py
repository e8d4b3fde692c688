"""The sample events under events/ (shaped as API Gateway and SQS deliver them on AWS) run
through the handlers declared in template.yaml."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


def invoke(stack: LocalStack, function: str, name: str) -> Any:
    event = json.loads((EVENTS / name).read_text())
    return stack.functions[function].invoke(event, trigger=f"events/{name}")


def test_every_sample_event_is_listed_in_the_readme():
    listed = (EVENTS / "README.md").read_text()
    assert all(path.name in listed for path in EVENTS.glob("*.json"))


def test_create_upload_event_returns_a_presigned_post(stack: LocalStack):
    response = invoke(stack, "UploadsFunction", "api_create_upload.json")
    assert response["statusCode"] == 201, response
    body = json.loads(response["body"])
    assert body["kind"] == "image" and body["upload"]["method"] == "POST"
    assert body["upload"]["fields"]["key"].startswith("uploads/image/3f1c2a8e-6b7d-5e4f-9a0b-1c2d3e4f5a6b/")


def test_multipart_event_returns_part_urls(stack: LocalStack):
    response = invoke(stack, "UploadsFunction", "api_create_upload_multipart.json")
    assert response["statusCode"] == 201, response
    upload = json.loads(response["body"])["upload"]
    assert upload["method"] == "MULTIPART" and len(upload["parts"]) == 19


@pytest.mark.parametrize(
    ("function", "name"),
    [("QueryFunction", "api_get_media.json"), ("UploadsFunction", "api_abort_upload.json")],
)
def test_events_for_an_unknown_media_id_are_404(stack: LocalStack, function: str, name: str):
    response = invoke(stack, function, name)
    assert response["statusCode"] == 404, response
    assert json.loads(response["body"]) == {
        "error": "not_found",
        "message": "media 0123456789abcdef0123456789abcdef not found",
    }


@pytest.mark.parametrize(
    ("function", "name"),
    [
        ("ImageFunction", "sqs_s3_test_event.json"),
        ("ImageFunction", "sqs_s3_image_created.json"),
        ("AvFunction", "sqs_s3_video_created.json"),
        ("DocumentFunction", "sqs_s3_test_event.json"),
    ],
)
def test_sqs_events_without_a_record_are_consumed_without_failures(
    stack: LocalStack, function: str, name: str
):
    # The S3 test event is skipped; an object with no record is ignored, not retried forever.
    assert invoke(stack, function, name) == {"batchItemFailures": []}
