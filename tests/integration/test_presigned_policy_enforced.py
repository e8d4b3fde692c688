"""A real S3 implementation (SeaweedFS) enforces the presigned POST policy the API issues:
moto accepts any presigned request, so only a server that checks policies can prove this.

SeaweedFS does not know S3's `tagging` POST field, so the policy here is built without the
unclaimed-object tag; tests/unit/core/test_upload_contract.py asserts that condition on the real
policy, and everything else (key, Content-Type, size range, expiry) is the same code path.
"""

import time
from collections.abc import Iterator

import pytest
import requests
from media_core.dal.s3 import ObjectStore, PresignedPost
from media_core.domain.transfers import PostPolicy

from tests.support.seaweed import SeaweedS3, seaweed_s3

BUCKET = "uploads-policy-test"
KEY = "uploads/image/alice/" + "a" * 32 + "/original.jpg"
SIZE = 5  # the declared size, which the policy pins exactly


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with seaweed_s3(tmp_path_factory.mktemp("seaweed"), BUCKET) as server:
        yield server


def presign(server: SeaweedS3, key: str = KEY, expires_in: int = 300) -> PresignedPost:
    policy = PostPolicy(BUCKET, key, content_type="image/jpeg", size=SIZE, tag_unclaimed=False)
    return ObjectStore(server.client()).presigned_post(policy, expires_in=expires_in)


def post(policy: PresignedPost, data: bytes, **overrides: str) -> requests.Response:
    fields = {**policy.fields, **overrides}
    return requests.post(
        policy.url, data=fields, files={"file": ("photo.jpg", data, "image/jpeg")}, timeout=30
    )


def test_a_correct_upload_is_accepted_and_stored_with_the_pinned_type(s3: SeaweedS3):
    response = post(presign(s3), b"12345")
    assert response.status_code == 204, response.text
    head = s3.client().head_object(Bucket=BUCKET, Key=KEY)
    assert head["ContentLength"] == 5
    assert head["ContentType"] == "image/jpeg"


def test_one_byte_more_than_declared_is_rejected(s3: SeaweedS3):
    key = KEY.replace("a" * 32, "b" * 32)
    response = post(presign(s3, key=key), b"x" * (SIZE + 1))
    assert response.status_code == 400, response.text
    assert "EntityTooLarge" in response.text
    assert not s3.client().list_objects_v2(Bucket=BUCKET, Prefix=key).get("Contents")


def test_one_byte_fewer_than_declared_is_rejected(s3: SeaweedS3):
    key = KEY.replace("a" * 32, "e" * 32)
    response = post(presign(s3, key=key), b"x" * (SIZE - 1))
    assert response.status_code == 400, response.text
    assert "EntityTooSmall" in response.text
    assert not s3.client().list_objects_v2(Bucket=BUCKET, Prefix=key).get("Contents")


def test_an_empty_upload_is_rejected(s3: SeaweedS3):
    response = post(presign(s3, key=KEY.replace("a" * 32, "f" * 32)), b"")
    assert response.status_code == 400, response.text


def test_a_different_content_type_is_rejected(s3: SeaweedS3):
    response = post(presign(s3), b"12345", **{"Content-Type": "text/html"})
    assert response.status_code == 403, response.text


def test_another_key_is_rejected(s3: SeaweedS3):
    other = KEY.replace("alice", "mallory")
    response = post(presign(s3), b"12345", key=other)
    assert response.status_code == 403, response.text
    assert not s3.client().list_objects_v2(Bucket=BUCKET, Prefix="uploads/image/mallory/").get("Contents")


def test_an_expired_policy_is_rejected(s3: SeaweedS3):
    policy = presign(s3, key=KEY.replace("a" * 32, "c" * 32), expires_in=1)
    time.sleep(2.5)
    response = post(policy, b"12345")
    assert response.status_code == 403, response.text


def test_tampered_policy_signature_is_rejected(s3: SeaweedS3):
    policy = presign(s3, key=KEY.replace("a" * 32, "d" * 32))
    response = post(policy, b"12345", **{"x-amz-signature": "0" * 64})
    assert response.status_code == 403, response.text
