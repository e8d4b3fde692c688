"""A real S3 (SeaweedFS) refuses a part whose size differs from the one its URL was signed for:
a 1-byte declaration cannot carry more (moto accepts any presigned request)."""

from collections.abc import Iterator

import pytest
import requests
from media_core.dal.s3 import ObjectStore

from tests.support.seaweed import SeaweedS3, seaweed_s3

BUCKET = "uploads-parts-test"
KEY = "uploads/video/mallory/" + "b" * 32 + "/original.mp4"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with seaweed_s3(tmp_path_factory.mktemp("seaweed"), BUCKET) as server:
        yield server


def test_an_oversize_part_is_refused_by_s3_itself(s3: SeaweedS3) -> None:
    # Given a multipart upload whose part 1 is signed for exactly 1 byte
    store = ObjectStore(s3.client())
    upload_id = s3.client().create_multipart_upload(Bucket=BUCKET, Key=KEY)["UploadId"]
    [part] = store.sign_parts(BUCKET, KEY, upload_id, [(1, 1)], expires_in=300)
    # When a client sends 64 KiB through it, Then S3 refuses, and nothing is stored
    oversize = requests.put(part.url, data=b"x" * 65536, timeout=30)
    assert oversize.status_code == 403, oversize.text
    assert store.list_parts(BUCKET, KEY, upload_id) == []
    # And the exact size is accepted
    exact = requests.put(part.url, data=b"x", timeout=30)
    assert exact.status_code == 200, exact.text
    assert [(p.part_number, p.size) for p in store.list_parts(BUCKET, KEY, upload_id)] == [(1, 1)]
