"""UppyS3Service over the fakes: Uppy's calls land on UploadService's records, keys, limits and exact
part sizes; an upload is named by (key, uploadId), both the server's and the caller's."""

from __future__ import annotations

import pytest
from media_core.api.models import UppyCompletedPart, UppyCompleteRequest, UppyMultipartRequest
from media_core.domain.errors import InvalidRequest, NotFound, TooLarge, UnsupportedType
from media_core.domain.models import UploadMethod
from media_core.domain.transfers import StorageError
from media_core.services.uppy import UppyS3Service

from tests.unit.services.conftest import ALICE, BOB, MIB, World


def service(world: World) -> UppyS3Service:
    return UppyS3Service(world.uploads(multipart_part_bytes=5 * MIB, multipart_threshold_bytes=5 * MIB))


def start(uppy: UppyS3Service, size: int) -> tuple[str, str]:
    created = uppy.create_multipart(
        ALICE, UppyMultipartRequest(filename="talk.mp4", type="video/mp4", metadata={"size": size})
    )
    return created.key, created.uploadId


def test_a_multipart_upload_goes_part_by_part_and_completes_at_the_declared_size(world: World) -> None:
    uppy = service(world)
    key, upload_id = start(uppy, 11 * MIB)
    media_id = key.split("/")[3]
    assert key == f"uploads/video/alice/{media_id}/original.mp4"
    etags = {}
    for number, size in ((1, 5 * MIB), (2, 5 * MIB), (3, 1 * MIB)):
        signed = uppy.sign_part(ALICE, upload_id, key, number)
        etags[number] = world.store.put_part(signed.url, b"x" * size)
        listed = uppy.list_parts(ALICE, upload_id, key)
        assert [(p.PartNumber, p.Size) for p in listed][-1] == (number, size)
    done = uppy.complete(
        ALICE,
        upload_id,
        key,
        UppyCompleteRequest(parts=[UppyCompletedPart(PartNumber=n, ETag=e) for n, e in etags.items()]),
    )
    assert (done.media_id, done.key, done.location) == (media_id, key, f"/media/{media_id}")
    assert world.stored(media_id).upload_method == UploadMethod.MULTIPART


def test_a_part_of_another_size_does_not_fit_its_signed_url(world: World) -> None:
    uppy = service(world)
    key, upload_id = start(uppy, 11 * MIB)
    signed = uppy.sign_part(ALICE, upload_id, key, 3)
    with pytest.raises(StorageError, match="differs from the signed Content-Length 1048576"):
        world.store.put_part(signed.url, b"x" * (2 * MIB))


def test_another_users_or_a_mismatched_upload_is_not_found(world: World) -> None:
    uppy = service(world)
    key, upload_id = start(uppy, 11 * MIB)
    other_key, other_id = start(uppy, 11 * MIB)
    for caller, k, u in ((BOB, key, upload_id), (ALICE, key, other_id), (ALICE, other_key, upload_id)):
        with pytest.raises(NotFound):
            uppy.list_parts(caller, u, k)
        with pytest.raises(NotFound):
            uppy.sign_part(caller, u, k, 1)
        with pytest.raises(NotFound):
            uppy.abort(caller, u, k)
    for foreign in ("talk.mp4", key.replace("uploads/", "originals/"), f"{key}/", key.upper()):
        with pytest.raises(InvalidRequest, match="key: not an upload key"):
            uppy.list_parts(ALICE, upload_id, foreign)
    uppy.abort(ALICE, upload_id, key)
    with pytest.raises(NotFound):
        uppy.list_parts(ALICE, upload_id, key)


def test_params_are_a_post_even_above_the_threshold_and_refusals_name_the_rule(world: World) -> None:
    uppy = service(world)
    params = uppy.params(ALICE, "clip.mp4", "video/mp4", {"size": str(8 * MIB)})
    assert params.method == "POST" and params.fields["key"].endswith("/original.mp4")
    with pytest.raises(TooLarge, match=r"^Too large: size: 21.0 MB exceeds the image limit"):
        uppy.params(ALICE, "a.jpg", "image/jpeg", {"size": str(21 * MIB)})
    with pytest.raises(UnsupportedType, match=r"^Type not allowed: "):
        uppy.params(ALICE, "a.exe", "application/x-msdownload", {"size": "10"})
    big = UppyS3Service(world.uploads(max_video_bytes=6 * 1024**3, quota_daily_upload_bytes=7 * 1024**3))
    with pytest.raises(InvalidRequest, match=r"size: .* single upload"):
        big.params(ALICE, "long.mp4", "video/mp4", {"size": str(5 * 1024**3 + 1)})
