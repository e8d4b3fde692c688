"""Attacks a signed-in hostile user can try, through the local stack. Each test is named after the
attack and asserts the refusal (or that what is served stays bound to what was processed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
import requests
from media_core.dal.dynamo.repository import MediaRepository
from media_core.dal.dynamo.usage import DailyUsage
from media_core.domain.counters import Counters

from local_stack.stack import LocalStack
from tests.support import images
from tests.support.flow import deliver, download, queued_messages, start_upload
from tests.support.local_stack import running_stack
from tests.support.media_api import call, ready_image, sub

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    params = {"QuotaMaxAwaitingUploads": "3", "MultipartPartBytes": str(5 * MIB)}
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False, params=params) as running:
        yield running


def post_file(created: dict[str, object], data: bytes, name: str = "a.jpg") -> None:
    upload = created["upload"]
    assert isinstance(upload, dict)
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": (name, data, "image/jpeg")}, timeout=60
    )
    assert sent.status_code in (200, 201, 204), sent.text


def owner_view(stack: LocalStack, user: str, media_id: str) -> dict[str, object]:
    response = call(stack, "GET", f"/media/{media_id}", user)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def original_bytes(stack: LocalStack, user: str, media_id: str) -> bytes:
    response = call(stack, "GET", f"/media/{media_id}/download", user)
    assert response.status_code == 302, response.text
    return download(response.headers["Location"])


def actions(stack: LocalStack, user: str, media_id: str) -> list[str]:
    response = call(stack, "GET", f"/media/{media_id}/activity", user)
    assert response.status_code == 200, response.text
    return [e["action"] for e in response.json()["entries"]]


class TestReusedUploadUrls:
    def test_reposting_the_url_while_the_first_file_processes_serves_only_the_second(self, stack: LocalStack):
        # Given a presigned POST used twice before the processor ran (two events queued)
        # (the same size: the policy pins the declared size, so a replay carries as many bytes)
        first, second = images.same_size(
            images.encode(images.photo_like((320, 240), seed=1), "JPEG", quality=85),
            images.encode(images.photo_like((320, 240), seed=2), "JPEG", quality=85),
        )
        created = start_upload(stack, "mallory", "a.jpg", "image/jpeg", len(first))
        post_file(created, first)
        post_file(created, second)
        media_id = str(created["media_id"])
        # When both events are delivered (the first now names a version the inbox no longer holds)
        messages = queued_messages(stack, "ImageQueue", 2)
        for message in messages:
            deliver(stack, "ImageQueue", "ImageFunction", [message])
        # Then the record is ready for the second file, and the served original is that file
        view = owner_view(stack, "mallory", media_id)
        assert view["status"] == "ready"
        served = original_bytes(stack, "mallory", media_id)
        assert served == second
        assert hashlib.sha256(served).hexdigest() == view["metadata"]["sha256"]  # type: ignore[index]

    def test_reposting_after_approval_is_a_replacement_moderated_again(self, stack: LocalStack):
        # Given approved, ready media
        first, swapped = images.same_size(
            images.encode(images.photo_like((320, 240), seed=3), "JPEG", quality=85),
            images.encode(images.photo_like((320, 240), seed=4), "JPEG", quality=85),
        )
        created = start_upload(stack, "mallory", "b.jpg", "image/jpeg", len(first), visibility="public")
        post_file(created, first)
        media_id = str(created["media_id"])
        deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
        approve = {"status": "approved"}
        assert call(stack, "PATCH", f"/admin/media/{media_id}/moderation", "root", True, json=approve).ok
        assert call(stack, "GET", f"/media/{media_id}", "victor").status_code == 200
        # When the owner posts other bytes (as many: the policy's size) through the same URL
        post_file(created, swapped)
        deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
        # Then it is processed anew, back to pending (hidden from others), audited as a replacement
        view = owner_view(stack, "mallory", media_id)
        assert (view["status"], view["moderation"]) == ("ready", "pending")
        assert "replaced" in actions(stack, "mallory", media_id)
        assert call(stack, "GET", f"/media/{media_id}", "victor").status_code == 404
        assert original_bytes(stack, "mallory", media_id) == swapped


class TestLyingSizes:
    def test_more_bytes_than_declared_past_a_lax_store_end_failed_and_are_not_kept(self, stack: LocalStack):
        # Given a POST declared as 1 KiB (her quota charged for 1 KiB), and a 30 KiB JPEG sent
        # through it: S3 refuses that under the policy's exact content-length-range; moto does
        # not check policies, so here the bytes land, as they would through any lax store
        photo = images.encode(images.photo_like((320, 240), seed=21), "JPEG", quality=95)
        assert len(photo) > 20 * 1024
        created = start_upload(stack, "mallory", "small.jpg", "image/jpeg", 1024)
        post_file(created, photo)
        media_id = str(created["media_id"])
        # When the processor handles it
        deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
        # Then the record fails naming both sizes, no variant is made and the bytes are not kept
        view = owner_view(stack, "mallory", media_id)
        assert view["status"] == "failed" and view["variants"] == {}
        assert (
            view["failure_reason"]
            == f"size mismatch: {len(photo):,} bytes uploaded where 1,024 were declared"
        )
        listing = stack.client("s3").list_objects_v2(Bucket=stack.buckets["UploadsBucket"])
        assert [o["Key"] for o in listing.get("Contents", []) if media_id in o["Key"]] == []


class TestMultipartLimits:
    def test_parts_adding_up_to_more_than_declared_are_refused_and_aborted(self, stack: LocalStack):
        # Given a multipart upload declared as 6 MiB (two parts: 5 MiB + 1 MiB)
        created = start_upload(stack, "mallory", "big.jpg", "image/jpeg", 6 * MIB, multipart=True)
        upload = created["upload"]
        assert upload["part_count"] == 2 and [p["size"] for p in upload["parts"]] == [5 * MIB, MIB]
        media_id = created["media_id"]
        # When the client sends more than each part was signed for (moto does not check the
        # signed Content-Length; SeaweedFS does, see test_signed_part_size.py)
        etags = []
        for part in upload["parts"]:
            put = requests.put(part["url"], data=b"x" * (part["size"] + MIB), timeout=60)
            assert put.ok, put.text
            etags.append({"part_number": part["part_number"], "etag": put.headers["ETag"].strip('"')})
        complete = call(stack, "POST", f"/uploads/{media_id}/complete", "mallory", json={"parts": etags})
        # Then completion is refused with the sizes, and the upload is aborted
        assert complete.status_code == 413, complete.text
        assert "8.0 MiB" in complete.json()["message"] or "MB" in complete.json()["message"]
        parts = call(stack, "GET", f"/uploads/{media_id}/parts", "mallory")
        assert parts.status_code == 409  # the upload is gone: nothing was stored

    def test_listing_and_signing_parts_of_another_users_upload_is_404(self, stack: LocalStack):
        created = start_upload(stack, "alice", "c.jpg", "image/jpeg", 6 * MIB, multipart=True)
        media_id = created["media_id"]
        assert call(stack, "GET", f"/uploads/{media_id}/parts", "alice").status_code == 200
        assert call(stack, "GET", f"/uploads/{media_id}/parts", "mallory").status_code == 404
        sign = call(stack, "POST", f"/uploads/{media_id}/parts", "mallory", json={"part_numbers": [1]})
        assert sign.status_code == 404
        assert call(stack, "DELETE", f"/uploads/{media_id}", "alice").status_code == 204


class TestEntities:
    def test_another_user_cannot_demote_or_join_an_entity_gallery(self, stack: LocalStack):
        # Given alice's primary photo of listing/42
        entity = {"entity_type": "listing", "entity_id": "42"}
        alices = ready_image(stack, "alice", seed=11, visibility="public", **entity)
        assert call(stack, "PATCH", f"/media/{alices}", "alice", json={"is_primary": True}).ok
        # When bob links his media to listing/42 as its primary
        bobs = ready_image(stack, "bob", seed=12, visibility="public", **entity)
        assert call(stack, "PATCH", f"/media/{bobs}", "bob", json={"is_primary": True}).ok
        # Then alice's gallery is unchanged, her primary stays first, and her log shows only her
        gallery = call(stack, "GET", "/entities/listing/42/media", "alice").json()["items"]
        assert [i["media_id"] for i in gallery] == [alices]
        assert gallery[0]["is_primary"] is True
        entries = call(stack, "GET", f"/media/{alices}/activity", "alice").json()["entries"]
        assert {e["actor"] for e in entries} <= {sub("alice"), "system:image-processor"}
        # And bob cannot change alice's record directly either
        assert call(stack, "PATCH", f"/media/{alices}", "bob", json={"caption": "mine"}).status_code == 404


class TestPublicView:
    def test_others_see_no_owner_duplicates_gps_or_original(self, stack: LocalStack):
        # Given carol's public photo with camera EXIF and GPS, and an exact copy of it
        data = images.jpeg_with_metadata((640, 480))
        photo = ready_image(stack, "carol", seed=0, visibility="public")
        created = start_upload(stack, "carol", "gps.jpg", "image/jpeg", len(data), visibility="public")
        post_file(created, data, "gps.jpg")
        deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
        with_gps = str(created["media_id"])
        for media_id in (photo, with_gps):
            approve = {"status": "approved"}
            assert call(stack, "PATCH", f"/admin/media/{media_id}/moderation", "root", True, json=approve).ok
        # When dave reads it
        seen = call(stack, "GET", f"/media/{with_gps}", "dave").json()
        # Then he gets the public view: variants only, no owner, no duplicates, a safe EXIF subset
        assert seen["owner"] is None and seen["duplicate_of"] == []
        assert "gps" not in seen["metadata"]
        assert "taken_at" not in seen["metadata"].get("exif", {})
        assert seen["variants"]
        # And the original (EXIF and GPS in it) is not his to download
        assert call(stack, "GET", f"/media/{with_gps}/download", "dave").status_code == 404
        thumbnail = call(stack, "GET", f"/media/{with_gps}/download?variant=thumbnail", "dave")
        assert thumbnail.status_code == 302
        # ... and the variant he may download names neither carol's file nor carol: the file is
        # called by its id, and the URL is the published copy's, not a key under carol's id
        location = unquote(thumbnail.headers["Location"])
        assert "gps" not in location and sub("carol") not in location, location
        assert f'filename="{with_gps}-thumbnail.' in location, location
        assert download(thumbnail.headers["Location"])[:2] == b"\xff\xd8"
        # while carol's own download keeps her file name
        own = call(stack, "GET", f"/media/{with_gps}/download?variant=thumbnail", "carol")
        assert 'filename="gps-thumbnail.' in unquote(own.headers["Location"])

    def test_pending_or_processing_public_media_is_hidden_from_others(self, stack: LocalStack):
        created = start_upload(stack, "carol", "p.jpg", "image/jpeg", 1000, visibility="public")
        assert call(stack, "GET", f"/media/{created['media_id']}", "dave").status_code == 404
        assert call(stack, "DELETE", f"/uploads/{created['media_id']}", "carol").status_code == 204


class TestAbuseLimits:
    def test_uploads_started_at_once_cannot_all_pass_the_quota_check(
        self, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
    ):
        # Given every quota read seeing no use (what requests racing each other each read before
        # any of them wrote): only DynamoDB's conditions on the writes stand in the way
        monkeypatch.setattr(MediaRepository, "counters", lambda self, owner: Counters(0, {}, {}, 0))
        monkeypatch.setattr(DailyUsage, "started_today", lambda self, owner: 0)
        body = {"filename": "r.jpg", "content_type": "image/jpeg", "size": 1000}
        statuses = [call(stack, "POST", "/uploads", "rita", json=body).status_code for _ in range(5)]
        # Then the limit (3 awaiting their bytes) holds in the writes: the rest are 429
        assert statuses == [201, 201, 201, 429, 429]
        refused = call(stack, "POST", "/uploads", "rita", json=body).json()
        assert refused["error"] == "quota_exceeded"
        assert refused["message"] == "quota: a concurrent upload took the room"
        # And the day's bytes (2e9: 1.9 GiB) hold in their write too: 3 videos of 500 MiB started (and
        # aborted, so that the awaiting limit stays out of the way) leave no room for a fourth
        video = {"filename": "v.mp4", "content_type": "video/mp4", "size": 500 * MIB}
        for _ in range(3):
            started = call(stack, "POST", "/uploads", "ross", json=video)
            assert started.status_code == 201, started.text[:300]
            aborted = call(stack, "DELETE", f"/uploads/{started.json()['media_id']}", "ross")
            assert aborted.status_code == 204
        fourth = call(stack, "POST", "/uploads", "ross", json=video)
        assert fourth.status_code == 429, fourth.text[:300]
        assert "500.0 MB exceeds the daily limit of 1.9 GB" in fourth.json()["message"]
        monkeypatch.undo()
        listing = call(stack, "GET", "/media?status=awaiting_upload", "rita").json()
        assert len(listing["items"]) == 3

    def test_more_uploads_awaiting_bytes_than_the_quota_is_429_with_limit_and_use(self, stack: LocalStack):
        started = [start_upload(stack, "quinn", f"q{i}.jpg", "image/jpeg", 1000) for i in range(3)]
        response = call(
            stack,
            "POST",
            "/uploads",
            "quinn",
            json={"filename": "q4.jpg", "content_type": "image/jpeg", "size": 1000},
        )
        assert response.status_code == 429, response.text
        assert response.json()["error"] == "quota_exceeded"
        assert "3 uploads" in response.json()["message"] and "limit is 3" in response.json()["message"]
        # Admins are exempt
        assert (
            call(
                stack,
                "POST",
                "/uploads",
                "root",
                True,
                json={"filename": "q.jpg", "content_type": "image/jpeg", "size": 1000},
            ).status_code
            == 201
        )
        for created in started:
            assert call(stack, "DELETE", f"/uploads/{created['media_id']}", "quinn").status_code == 204


class TestBadInput:
    @pytest.mark.parametrize(
        ("method", "path", "admin"),
        [
            ("PATCH", "/admin/media/{id}/moderation", True),
            ("POST", "/media/batch-delete", False),
            ("POST", "/uploads", False),
            ("PATCH", "/media/{id}", False),
        ],
    )
    def test_a_non_utf8_body_gets_a_4xx_with_a_message(
        self, stack: LocalStack, method: str, path: str, admin: bool
    ):
        response = call(
            stack,
            method,
            path.format(id="a" * 32),
            "erin",
            admin,
            data=b"\xff\xfe{not json",
        )
        assert response.status_code in (400, 422), response.text
        assert response.json()["message"]

    def test_gateway_refusals_carry_the_documented_error_body(self, stack: LocalStack):
        response = requests.get(f"{stack.api_url}/media/{'a' * 32}", timeout=30)
        assert response.status_code == 401
        assert set(response.json()) == {"error", "message"}

    def test_the_dev_sign_in_refuses_a_rebound_host_name(self, stack: LocalStack):
        response = requests.post(
            f"{stack.api_url}/_local/token",
            json={"username": "eve", "admin": True},
            headers={"Host": "attacker.example"},
            timeout=30,
        )
        assert response.status_code in (403, 404), response.text
        assert "token" not in response.text


class TestUnparsableBodies:
    """Valid JSON Python's parser refuses (json.loads raises ValueError past 4300 digits and
    RecursionError past ~1000 levels): each is the caller's 400 naming the body, never a 500."""

    UPLOAD = '{"filename": "a.jpg", "content_type": "image/jpeg", "size": %s}'

    @pytest.mark.parametrize("path", ["/uploads", "/media/batch-delete"])
    @pytest.mark.parametrize(
        ("body", "why"),
        [
            (UPLOAD % ("9" * 5000), "a number in the JSON has too many digits"),
            (UPLOAD % ("[" * 5000 + "]" * 5000), "the JSON nests too deeply"),
            ("[" * 100_000 + "]" * 100_000, "the JSON nests too deeply"),
        ],
        ids=["huge-integer", "deep-field", "deep-body"],
    )
    def test_is_a_400_naming_the_body(self, stack: LocalStack, path: str, body: str, why: str):
        # (no Content-Type: the API reads such a body as JSON, as it reads application/json)
        response = call(stack, "POST", path, "mallory", data=body)
        assert response.status_code == 400, response.text
        error = response.json()
        assert error["message"] == f"body: {why}"
        assert error["details"] == [{"field": "body", "rule": "json_unparsable", "message": why}]
