"""The upload API through the local stack's gateway: the presign contract, multipart
start/complete/abort, every validation rule, owner isolation, and the state machine."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from media_core.dal.clients import dynamodb_table
from media_core.dal.dynamo.audit import AuditLog
from media_core.dal.s3 import UNCLAIMED_TAGGING_XML
from media_core.domain.audit import AuditAction, AuditNote
from media_core.domain.errors import InvalidTransition
from media_core.domain.models import Status
from media_core.domain.transitions import Transition
from media_core.wiring import media_repository

from local_stack.stack import LocalStack
from tests.support.flow import get_media, queued_messages, start_upload
from tests.support.local_stack import bearer, running_stack

MB = 1024 * 1024


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


def post_upload(
    stack: LocalStack, body: Any, user: str = "alice", raw: str | None = None
) -> requests.Response:
    headers = {**bearer(stack, user), "Content-Type": "application/json"}
    data = raw if raw is not None else json.dumps(body)
    return requests.post(f"{stack.api_url}/uploads", headers=headers, data=data, timeout=30)


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return decoded


class TestPresignContract:
    def test_the_post_policy_pins_key_type_size_tag_and_expiry(self, stack: LocalStack):
        created = start_upload(stack, "alice", "My Photo.JPG", "image/jpeg", 123_456, tags=["a", "a", "b"])
        upload = created["upload"]
        assert created["status"] == "awaiting_upload" and created["kind"] == "image"
        fields = upload["fields"]
        key = fields["key"]
        # The key is the server's: kind prefix, caller's sub, media id; not the file name
        sub = get_media(stack, "alice", created["media_id"]).json()["owner"]
        assert key == f"uploads/image/{sub}/{created['media_id']}/original.jpg"
        assert fields["Content-Type"] == "image/jpeg"
        policy = policy_of(fields)
        conditions = policy["conditions"]
        assert {"key": key} in conditions
        assert {"Content-Type": "image/jpeg"} in conditions
        # exactly the declared size: the quota was charged for it, and nothing larger fits
        assert ["content-length-range", 123_456, 123_456] in conditions
        assert {"tagging": UNCLAIMED_TAGGING_XML} in conditions
        assert {"bucket": stack.buckets["UploadsBucket"]} in conditions
        # Expiry: 15 minutes, in the policy and in the response
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        returned = datetime.fromisoformat(upload["expires_at"].replace("Z", "+00:00"))
        remaining = (expires - datetime.now(UTC)).total_seconds()
        assert 880 <= remaining <= 905
        assert abs((returned - expires).total_seconds()) < 5
        # The record keeps the sanitised name, de-duplicated tags
        record = get_media(stack, "alice", created["media_id"]).json()
        assert record["original"] == {
            "filename": "My Photo.JPG",
            "content_type": "image/jpeg",
            "size": 123_456,
        }
        assert record["tags"] == ["a", "b"]

    def test_a_large_file_gets_a_multipart_upload_that_completes_into_one_object(self, stack: LocalStack):
        # Given a 12 MB video declared with multipart (5 MB minimum parts; the default part is 16 MB)
        size = 12 * MB
        created = start_upload(stack, "alice", "talk.mov", "video/quicktime", size, multipart=True)
        upload = created["upload"]
        assert upload["method"] == "MULTIPART" and upload["part_size"] == 16 * MB
        assert [p["part_number"] for p in upload["parts"]] == [1]
        # When the client PUTs the part and completes with its ETag
        put = requests.put(upload["parts"][0]["url"], data=b"v" * size, timeout=60)
        assert put.status_code == 200, put.text
        done = requests.post(
            f"{stack.api_url}/uploads/{created['media_id']}/complete",
            headers=bearer(stack, "alice"),
            json={"parts": [{"part_number": 1, "etag": put.headers["ETag"]}]},
            timeout=30,
        )
        assert done.status_code == 202, done.text
        # Then one object exists, and its event reaches the video/audio queue
        record = get_media(stack, "alice", created["media_id"]).json()
        key = f"uploads/video/{record['owner']}/{created['media_id']}/original.mov"
        head = stack.client("s3").head_object(Bucket=stack.buckets["UploadsBucket"], Key=key)
        assert head["ContentLength"] == size
        assert queued_messages(stack, "AvQueue", 1)

    def test_above_the_threshold_multipart_is_automatic_and_parts_cover_the_size(self, stack: LocalStack):
        created = start_upload(stack, "alice", "long.mp4", "video/mp4", 300 * MB)
        upload = created["upload"]
        assert upload["method"] == "MULTIPART"
        assert len(upload["parts"]) == 19  # ceil(300 / 16)
        assert upload["upload_id"]

    def test_an_aborted_upload_is_gone(self, stack: LocalStack):
        created = start_upload(stack, "alice", "x.mp4", "video/mp4", 10 * MB, multipart=True)
        media_id = created["media_id"]
        # Bob cannot abort it (404, no hint), alice can (204), then it is gone for everyone
        bob = requests.delete(f"{stack.api_url}/uploads/{media_id}", headers=bearer(stack, "bob"), timeout=30)
        assert bob.status_code == 404
        mine = requests.delete(
            f"{stack.api_url}/uploads/{media_id}", headers=bearer(stack, "alice"), timeout=30
        )
        assert mine.status_code == 204, mine.text
        assert get_media(stack, "alice", media_id).status_code == 404
        uploads = stack.client("s3").list_multipart_uploads(Bucket=stack.buckets["UploadsBucket"])
        assert created["upload"]["upload_id"] not in [u["UploadId"] for u in uploads.get("Uploads", [])]


class TestValidation:
    @pytest.mark.parametrize(
        ("body", "status", "field", "text"),
        [
            ({"content_type": "image/jpeg", "size": 1}, 422, "filename", "Field required"),
            ({"filename": "a.jpg", "size": 1}, 422, "content_type", "Field required"),
            ({"filename": "a.jpg", "content_type": "image/jpeg"}, 422, "size", "Field required"),
            ({"filename": "a.jpg", "content_type": "image/jpeg", "size": 0}, 422, "size", "greater than 0"),
            ({"filename": "a.jpg", "content_type": "image/jpeg", "size": "big"}, 422, "size", "integer"),
            ({"filename": "", "content_type": "image/jpeg", "size": 1}, 422, "filename", "at least 1"),
            (
                {"filename": "a" * 300, "content_type": "image/jpeg", "size": 1},
                422,
                "filename",
                "at most 255",
            ),
            (
                {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1, "visibility": "world"},
                422,
                "visibility",
                "'private' or 'public'",
            ),
            (
                {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1, "entity_type": "listing"},
                422,
                "body",
                "entity_type and entity_id must be given together",
            ),
            (
                {
                    "filename": "a.jpg",
                    "content_type": "image/jpeg",
                    "size": 1,
                    "entity_type": "Bad Type!",
                    "entity_id": "1",
                },
                422,
                "entity_type",
                "pattern",
            ),
            (
                {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1, "tags": ["x"] * 21},
                422,
                "tags",
                "at most 20",
            ),
            (
                {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1, "tags": ["<script>"]},
                422,
                "tags.0",
                "pattern",
            ),
            (
                {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1, "owner": "bob"},
                422,
                "owner",
                "Extra inputs",
            ),
            (
                {"filename": "a.jpg", "content_type": "image/jpeg", "size": 21 * MB},
                413,
                None,
                "exceeds the image limit of 20.0 MB",
            ),
            (
                {"filename": "a.mp4", "content_type": "video/mp4", "size": 501 * MB},
                413,
                None,
                "video limit of 500.0 MB",
            ),
            (
                {"filename": "a.exe", "content_type": "application/x-msdownload", "size": 1},
                415,
                None,
                "is not allowed",
            ),
            ({"filename": "a.svg", "content_type": "image/svg+xml", "size": 1}, 415, None, "is not allowed"),
            (
                {"filename": "a.mp4", "content_type": "image/jpeg", "size": 1},
                415,
                None,
                "does not match content_type",
            ),
        ],
    )
    def test_each_rule_is_reported_with_its_field(self, stack: LocalStack, body, status, field, text):
        response = post_upload(stack, body)
        assert response.status_code == status, response.text
        error = response.json()
        assert text in error["message"], error
        if field:
            assert field in [d["field"] for d in error["details"]], error

    def test_a_body_that_is_not_json_is_a_422_naming_the_body(self, stack: LocalStack):
        response = post_upload(stack, None, raw="{not json")
        assert response.status_code == 422
        assert response.json()["details"][0]["field"] == "body"

    def test_no_token_is_401_from_the_authorizer(self, stack: LocalStack):
        response = requests.post(f"{stack.api_url}/uploads", json={}, timeout=30)
        assert response.status_code == 401

    def test_a_malformed_media_id_is_422_and_an_unknown_one_404(self, stack: LocalStack):
        assert get_media(stack, "alice", "not-an-id").status_code == 422
        unknown = get_media(stack, "alice", "f" * 32)
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


class TestOwnershipAndStates:
    def test_other_users_cannot_complete_abort_or_read(self, stack: LocalStack):
        created = start_upload(stack, "alice", "v.mp4", "video/mp4", 6 * MB, multipart=True)
        media_id = created["media_id"]
        bob = bearer(stack, "bob")
        parts = {"parts": [{"part_number": 1, "etag": "x"}]}
        complete = requests.post(
            f"{stack.api_url}/uploads/{media_id}/complete", headers=bob, json=parts, timeout=30
        )
        assert complete.status_code == 404
        assert (
            requests.delete(f"{stack.api_url}/uploads/{media_id}", headers=bob, timeout=30).status_code == 404
        )
        assert get_media(stack, "bob", media_id).status_code == 404
        # The 404 is the same as for an id that does not exist: no hint
        assert get_media(stack, "bob", media_id).json()["message"] == f"media {media_id} not found"
        # An admin may read it
        assert get_media(stack, "root", media_id, admin=True).status_code == 200

    def test_complete_on_a_post_upload_is_a_conflict(self, stack: LocalStack):
        created = start_upload(stack, "alice", "p.jpg", "image/jpeg", 100)
        response = requests.post(
            f"{stack.api_url}/uploads/{created['media_id']}/complete",
            headers=bearer(stack, "alice"),
            json={"parts": [{"part_number": 1, "etag": "x"}]},
            timeout=30,
        )
        assert response.status_code == 409 and "not started as a multipart" in response.json()["message"]

    def test_parts_must_be_ascending_without_repeats(self, stack: LocalStack):
        created = start_upload(stack, "alice", "m.mp4", "video/mp4", 6 * MB, multipart=True)
        response = requests.post(
            f"{stack.api_url}/uploads/{created['media_id']}/complete",
            headers=bearer(stack, "alice"),
            json={"parts": [{"part_number": 2, "etag": "a"}, {"part_number": 1, "etag": "b"}]},
            timeout=30,
        )
        assert response.status_code == 422 and "ascending" in response.json()["message"]

    def test_illegal_transitions_are_refused_and_lost_races_are_not_applied(self, stack: LocalStack):
        created = start_upload(stack, "alice", "s.jpg", "image/jpeg", 100)
        repository = media_repository(stack.tables["MediaTable"])
        record = repository.get(created["media_id"])
        assert record is not None
        # awaiting_upload -> ready skips processing: refused before any write
        with pytest.raises(InvalidTransition, match="cannot move media from awaiting_upload to ready"):
            repository.transition(record, Transition(Status.READY))

        # Two workers race to claim, each writing its audit entry with the claim: the second,
        # holding a stale copy, loses, and its entry is not written either (one transaction)
        def claim(worker: str) -> Transition:
            return Transition(Status.PROCESSING, audit=AuditNote(AuditAction.UPLOADED, worker, {}))

        claimed = repository.transition(record, claim("worker-1"))
        assert claimed.version == record.version + 1
        with pytest.raises(InvalidTransition, match="no longer in state awaiting_upload"):
            repository.transition(record, claim("worker-2"))
        trail = AuditLog(dynamodb_table(stack.tables["MediaTable"])).entries(record.media_id)
        assert [(e.action, e.actor) for e in trail] == [(AuditAction.UPLOADED, "worker-1")]
        stored = repository.get(created["media_id"])
        assert stored is not None and stored.status == Status.PROCESSING and stored.version == claimed.version
        # deleted is final
        gone = repository.transition(stored, Transition(Status.DELETED))
        with pytest.raises(InvalidTransition, match="cannot move media from deleted"):
            repository.transition(gone, Transition(Status.PROCESSING))
