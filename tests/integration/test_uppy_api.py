"""Uppy's S3 contract (/s3/...) through the local stack's gateway, as @uppy/aws-s3 calls it: the
presigned POST (answered with an ETag, as S3 does), a multipart upload signed part by part and
resumed from ListParts, and the attacks: another user's key or uploadId, keys that are not ours,
oversize and malformed requests. The part size is lowered to S3's 5 MiB minimum."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from local_stack.stack import LocalStack
from tests.support.flow import get_media, record
from tests.support.local_stack import bearer, running_stack

MIB = 1024 * 1024
PART = 5 * MIB


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    params = {"MultipartPartBytes": str(PART), "MultipartThresholdBytes": str(PART)}
    with running_stack(tmp_path_factory.mktemp("uppy"), pollers=False, params=params) as running:
        yield running


def call(
    stack: LocalStack,
    method: str,
    path: str,
    user: str | None = "alice",
    body: Any = None,
    raw: str | None = None,
) -> requests.Response:
    headers = {"Accept": "application/json"}
    if user:
        headers.update(bearer(stack, user))
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if data is not None:
        headers["Content-Type"] = "application/json"
    return requests.request(method, f"{stack.api_url}{path}", headers=headers, data=data, timeout=30)


def start(stack: LocalStack, size: int, user: str = "alice", filename: str = "talk.mp4") -> dict[str, str]:
    body = {"filename": filename, "type": "video/mp4", "metadata": {"size": size, "name": filename}}
    response = call(stack, "POST", "/s3/multipart", user, body)
    assert response.status_code == 200, response.text
    created: dict[str, str] = response.json()
    return created


def q(key: str) -> str:
    return quote(key, safe="")


def sign(stack: LocalStack, created: dict[str, str], part: int, user: str = "alice") -> requests.Response:
    return call(stack, "GET", f"/s3/multipart/{created['uploadId']}/{part}?key={q(created['key'])}", user)


def put_part(stack: LocalStack, created: dict[str, str], part: int, data: bytes) -> str:
    signed = sign(stack, created, part)
    assert signed.status_code == 200, signed.text
    put = requests.put(signed.json()["url"], data=data, timeout=60)
    assert put.status_code == 200, put.text
    return put.headers["ETag"]


class TestPresignedPost:
    def test_params_give_a_pinned_post_that_s3_answers_with_etag_and_location(self, stack: LocalStack):
        # When Uppy asks for a single upload's parameters, with its meta as metadata[...]
        response = call(
            stack,
            "GET",
            "/s3/params?filename=Beach+day.jpg&type=image%2Fjpeg&metadata%5Bsize%5D=2048"
            "&metadata%5Bname%5D=Beach+day.jpg&metadata%5Btags%5D=sea,sun&metadata%5BrelativePath%5D=null",
        )
        # Then it is a presigned POST whose key the server made
        assert response.status_code == 200, response.text
        params = response.json()
        assert params["method"] == "POST" and params["headers"] == {} and params["expires"] == 900
        key = params["fields"]["key"]
        assert key.startswith("uploads/image/") and key.endswith("/original.jpg")
        media_id = key.split("/")[3]
        # And the record carries the declared size and the tags from the metadata
        body = record(stack, media_id)
        assert body["original"]["size"] == 2048 and body["tags"] == ["sea", "sun"]
        # When the file is posted as a browser would, from the page's origin
        data = os.urandom(2048)
        origin = stack.api_url
        posted = requests.post(
            params["url"],
            data=params["fields"],
            files={"file": ("Beach day.jpg", data, "image/jpeg")},
            headers={"Origin": origin},
            timeout=30,
        )
        # Then S3 (the local stack's) answers as S3 does: an ETag (the MD5) and a Location,
        # both readable by the page's script (CORS exposes them)
        assert posted.status_code == 204, posted.text
        assert posted.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        assert posted.headers["Location"].endswith(f"/{stack.buckets['UploadsBucket']}/{quote(key)}")
        exposed = {h.strip().lower() for h in posted.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"etag", "location"} <= exposed
        stored = stack.client("s3").head_object(Bucket=stack.buckets["UploadsBucket"], Key=key)
        assert stored["ContentLength"] == 2048

    def test_params_stay_a_post_above_the_multipart_threshold(self, stack: LocalStack):
        # Uppy chose a single upload (shouldUseMultipart): the server does not switch to parts
        response = call(stack, "GET", f"/s3/params?filename=a.mp4&type=video/mp4&metadata[size]={8 * MIB}")
        assert response.status_code == 200, response.text
        assert response.json()["method"] == "POST"

    @pytest.mark.parametrize(
        ("query", "status", "message"),
        [
            ("filename=a.jpg&type=image/jpeg", 422, "metadata.size: required"),
            (
                "filename=a.jpg&type=image/jpeg&metadata[size]=12abc",
                422,
                "metadata.size: must be a whole number",
            ),
            ("filename=a.jpg&type=image/jpeg&metadata[size]=0", 422, "metadata.size"),
            (
                f"filename=a.jpg&type=image/jpeg&metadata[size]={21 * MIB}",
                413,
                "exceeds the image limit of 20",
            ),
            ("filename=a.exe&type=application/x-msdownload&metadata[size]=10", 415, "is not allowed"),
            (
                "filename=a.jpg&type=image/jpeg&metadata[size]=10&metadata[visibility]=world",
                422,
                "metadata.visibility",
            ),
            ("type=image/jpeg&metadata[size]=10", 422, "filename"),
        ],
    )
    def test_params_refusals_name_the_rule(self, stack: LocalStack, query: str, status: int, message: str):
        response = call(stack, "GET", f"/s3/params?{query}")
        assert response.status_code == status, response.text
        assert message in response.json()["message"]

    def test_no_token_is_401(self, stack: LocalStack):
        response = call(
            stack, "GET", "/s3/params?filename=a.jpg&type=image/jpeg&metadata[size]=10", user=None
        )
        assert response.status_code == 401


class TestMultipart:
    def test_a_multipart_upload_signed_part_by_part_resumes_from_list_parts_and_completes(
        self, stack: LocalStack
    ):
        # Given an 11 MiB file: parts of 5, 5 and 1 MiB
        data = os.urandom(11 * MIB)
        created = start(stack, len(data))
        key, upload_id = created["key"], created["uploadId"]
        assert key.startswith("uploads/video/") and key.endswith("/original.mp4")
        # When part 1 goes up, and the client then asks which parts the bucket holds (resume)
        etag1 = put_part(stack, created, 1, data[:PART])
        listed = call(stack, "GET", f"/s3/multipart/{upload_id}?key={q(key)}")
        assert listed.status_code == 200, listed.text
        assert listed.json() == [{"PartNumber": 1, "ETag": etag1.strip('"'), "Size": PART}]
        # And the rest goes up, each part signed on demand with its exact length
        etag2 = put_part(stack, created, 2, data[PART : 2 * PART])
        etag3 = put_part(stack, created, 3, data[2 * PART :])
        parts = [
            {"PartNumber": 1, "ETag": etag1},
            {"PartNumber": 2, "ETag": etag2},
            {"PartNumber": 3, "ETag": etag3},
        ]
        done = call(stack, "POST", f"/s3/multipart/{upload_id}/complete?key={q(key)}", body={"parts": parts})
        # Then Uppy gets a location, and the bucket holds the one object, byte for byte
        assert done.status_code == 200, done.text
        media_id = key.split("/")[3]
        assert done.json() == {
            "location": f"/media/{media_id}",
            "key": key,
            "media_id": media_id,
            "status": "awaiting_upload",
        }
        s3 = stack.client("s3")
        assert s3.get_object(Bucket=stack.buckets["UploadsBucket"], Key=key)["Body"].read() == data
        assert record(stack, media_id)["original"]["size"] == len(data)
        # And the completed upload takes no more parts (S3 no longer knows the upload id)
        late = requests.put(sign(stack, created, 1).json()["url"], data=data[:PART], timeout=60)
        assert not late.ok  # (moto answers NoSuchUpload with a 500, S3 with a 404)

    def test_a_part_url_is_signed_for_its_exact_length(self, stack: LocalStack):
        created = start(stack, 11 * MIB)
        from urllib.parse import parse_qs, urlsplit

        last = parse_qs(urlsplit(sign(stack, created, 3).json()["url"]).query)
        first = parse_qs(urlsplit(sign(stack, created, 1).json()["url"]).query)
        assert "content-length" in last["X-Amz-SignedHeaders"][0].split(";")
        assert "content-length" in first["X-Amz-SignedHeaders"][0].split(";")
        assert sign(stack, created, 4).status_code == 422  # outside 1..3
        assert "part 4 is outside 1..3" in sign(stack, created, 4).json()["message"]

    def test_parts_that_do_not_add_up_to_the_declared_size_are_refused_and_aborted(self, stack: LocalStack):
        created = start(stack, 11 * MIB)
        etag = put_part(stack, created, 1, os.urandom(PART))
        done = call(
            stack,
            "POST",
            f"/s3/multipart/{created['uploadId']}/complete?key={q(created['key'])}",
            body={"parts": [{"PartNumber": 1, "ETag": etag}]},
        )
        assert done.status_code == 413, done.text
        assert "5.0 MB uploaded, but 11.0 MB was declared" in done.json()["message"]
        listed = call(stack, "GET", f"/s3/multipart/{created['uploadId']}?key={q(created['key'])}")
        assert listed.status_code == 409  # the upload was aborted: nothing to resume

    def test_abort_removes_the_upload_and_its_record(self, stack: LocalStack):
        created = start(stack, 11 * MIB)
        put_part(stack, created, 1, os.urandom(PART))
        aborted = call(stack, "DELETE", f"/s3/multipart/{created['uploadId']}?key={q(created['key'])}")
        assert aborted.status_code == 200 and aborted.json() == {}
        media_id = created["key"].split("/")[3]
        assert get_media(stack, "alice", media_id).status_code == 404
        s3 = stack.client("s3")
        uploads = s3.list_multipart_uploads(Bucket=stack.buckets["UploadsBucket"]).get("Uploads", [])
        assert created["uploadId"] not in [u["UploadId"] for u in uploads]

    @pytest.mark.parametrize(
        ("body", "status", "message"),
        [
            ({"filename": "a.mp4", "type": "video/mp4", "metadata": {}}, 422, "metadata.size: required"),
            ({"filename": "a.mp4", "type": "video/mp4", "metadata": {"size": True}}, 422, "metadata.size"),
            (
                {"filename": "a.mp4", "type": "video/mp4", "metadata": {"size": 501 * MIB}},
                413,
                "exceeds the video limit",
            ),
            ({"filename": "a.mp4", "type": "text/plain", "metadata": {"size": 10}}, 415, ""),
            (
                {"filename": "a.mp4", "type": "video/mp4", "metadata": {"size": 9, "tags": {"x": 1}}},
                422,
                "metadata.tags",
            ),
            (
                {"filename": "a.mp4", "type": "video/mp4", "metadata": {"size": 9, "entity_type": "x"}},
                422,
                "together",
            ),
            ({"type": "video/mp4", "metadata": {"size": 10}}, 422, "filename"),
            ({"filename": "a.mp4", "type": "video/mp4", "metadata": "size=10"}, 422, "metadata"),
        ],
    )
    def test_start_refusals_name_the_rule(self, stack: LocalStack, body: Any, status: int, message: str):
        response = call(stack, "POST", "/s3/multipart", body=body)
        assert response.status_code == status, response.text
        assert message in response.json()["message"]

    def test_a_body_that_is_not_json_is_a_4xx(self, stack: LocalStack):
        for raw in ("{not json", "\udcff".encode("utf-8", "surrogateescape").decode("latin-1")):
            response = call(stack, "POST", "/s3/multipart", raw=raw)
            assert 400 <= response.status_code < 500, response.text
            assert response.json()["message"]

    @pytest.mark.parametrize(
        "parts",
        [
            [],
            [{"PartNumber": 0, "ETag": "x"}],
            [{"PartNumber": 10_001, "ETag": "x"}],
            [{"PartNumber": 1}],
            [{"PartNumber": 2, "ETag": "a"}, {"PartNumber": 1, "ETag": "b"}],
            "parts",
        ],
    )
    def test_malformed_complete_bodies_are_422(self, stack: LocalStack, parts: Any):
        created = start(stack, 11 * MIB)
        response = call(
            stack,
            "POST",
            f"/s3/multipart/{created['uploadId']}/complete?key={q(created['key'])}",
            body={"parts": parts},
        )
        assert response.status_code == 422, response.text
        assert response.json()["message"]


@pytest.fixture(scope="module")
def alices(stack: LocalStack) -> dict[str, str]:
    created = start(stack, 11 * MIB)
    put_part(stack, created, 1, os.urandom(PART))
    return created


def routes(
    created: dict[str, str], key: str | None = None, upload_id: str | None = None
) -> list[tuple[str, str, Any]]:
    k, u = q(key if key is not None else created["key"]), upload_id or created["uploadId"]
    return [
        ("GET", f"/s3/multipart/{u}?key={k}", None),
        ("GET", f"/s3/multipart/{u}/1?key={k}", None),
        ("POST", f"/s3/multipart/{u}/complete?key={k}", {"parts": [{"PartNumber": 1, "ETag": "x"}]}),
        ("DELETE", f"/s3/multipart/{u}?key={k}", None),
    ]


class TestOwnership:
    """A client names an upload by (key, uploadId); both must be the server's, made for the caller."""

    def test_another_users_key_and_upload_id_are_404(self, stack: LocalStack, alices: dict[str, str]):
        for method, path, body in routes(alices):
            response = call(stack, method, path, "bob", body)
            assert response.status_code == 404, (method, path, response.text)
            assert "not found" in response.json()["message"]

    def test_a_mismatched_upload_id_or_an_unknown_media_id_is_404(
        self, stack: LocalStack, alices: dict[str, str]
    ):
        other = start(stack, 11 * MIB)
        unknown = alices["key"].replace(alices["key"].split("/")[3], "0" * 32)
        for key, upload_id in ((alices["key"], other["uploadId"]), (unknown, alices["uploadId"])):
            for method, path, body in routes(alices, key, upload_id):
                response = call(stack, method, path, "alice", body)
                assert response.status_code == 404, (method, path, response.text)

    @pytest.mark.parametrize(
        "key",
        [
            "talk.mp4",
            "uploads/video/alice/../bob/original.mp4",
            "originals/x/0123456789abcdef0123456789abcdef/e.mp4",
            "uploads/video/alice/0123456789abcdef0123456789abcdef/original.mp4%00",
            "",
        ],
    )
    def test_a_key_that_is_not_one_of_ours_is_refused(
        self, stack: LocalStack, alices: dict[str, str], key: str
    ):
        for method, path, body in routes(alices, key):
            response = call(stack, method, path, "alice", body)
            assert response.status_code in (404, 422), (method, path, response.text)
            assert response.json()["message"]

    def test_alice_still_owns_her_upload_after_the_attacks(self, stack: LocalStack, alices: dict[str, str]):
        listed = call(stack, "GET", f"/s3/multipart/{alices['uploadId']}?key={q(alices['key'])}")
        assert listed.status_code == 200 and [p["PartNumber"] for p in listed.json()] == [1]


def test_limits_describe_the_stacks_settings(stack: LocalStack):
    response = call(stack, "GET", "/uploads/limits")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "multipart_threshold_bytes": PART,
        "multipart_part_bytes": PART,
        "max_parts": 10_000,
        "max_bytes": {"image": 20 * MIB, "video": 500 * MIB, "audio": 50 * MIB, "document": 50 * MIB},
    }
    assert call(stack, "GET", "/uploads/limits", user=None).status_code == 401
