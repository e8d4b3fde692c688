"""UploadService over the fakes: POST or multipart, the part layout, signing more parts, resuming,
completing only what was declared, quotas and aborts; another user's upload is not found."""

from __future__ import annotations

from typing import Any

import pytest
from media_core.api.models import (
    CompletedPart,
    CompleteRequest,
    MultipartUpload,
    PostUpload,
    UploadCreated,
    UploadRequest,
)
from media_core.domain.access import Caller
from media_core.domain.counters import Counters
from media_core.domain.errors import Conflict, InvalidRequest, NotFound, QuotaExceeded, TooLarge
from media_core.domain.models import Kind, Status, UploadMethod, utc_now
from media_core.domain.transfers import StorageError
from media_core.domain.units import human_bytes
from media_core.services.uploads import UploadService

from tests.unit.services.conftest import ADMIN, ALICE, BOB, KIB, MIB, UPLOADS, World

PDF = {"filename": "report.pdf", "content_type": "application/pdf"}
# A generous document limit so that multipart layouts of many parts fit.
LARGE = {
    "max_document_bytes": 4096 * MIB,
    "quota_daily_upload_bytes": 8192 * MIB,
    "multipart_part_bytes": 5 * MIB,
}


def request(size: int, **fields: Any) -> UploadRequest:
    return UploadRequest(**{**PDF, "size": size, **fields})


def multipart(created: UploadCreated) -> MultipartUpload:
    assert isinstance(created.upload, MultipartUpload)
    return created.upload


def upload_parts(
    world: World, created: UploadCreated, sizes: dict[int, int] | None = None
) -> CompleteRequest:
    """Put every part the start response signed (each with its exact size, or `sizes[n]`)."""
    parts = []
    for part in multipart(created).parts:
        size = (sizes or {}).get(part.part_number, part.size)
        etag = world.store.put_part(part.url, bytes([part.part_number % 251]) * size)
        parts.append(CompletedPart(part_number=part.part_number, etag=etag))
    return CompleteRequest(parts=parts)


# ------------------------------------------------------------------ POST or multipart
def test_a_small_upload_gets_a_presigned_post_pinned_to_its_key_type_and_size(world: World) -> None:
    # When alice starts an upload below the multipart threshold, declaring 3 KiB
    created = world.uploads().create(ALICE, request(3 * KIB, content_type="application/PDF"))

    # Then she gets a POST policy for the record's inbox key, the exact type and exactly that size
    # (not the kind's limit: her quota was charged for 3 KiB)
    assert isinstance(created.upload, PostUpload)
    record = world.stored(created.media_id)
    assert record.status == Status.AWAITING_UPLOAD and record.upload_method == UploadMethod.POST
    assert record.kind == Kind.DOCUMENT and record.owner == "alice"
    assert record.original.key == f"uploads/document/alice/{created.media_id}/original.pdf"
    policy = world.store.policies[created.upload.fields["policy"]]
    assert (policy.key, policy.content_type, policy.size) == (record.original.key, "application/pdf", 3 * KIB)
    assert world.records.expires_at(created.media_id) is not None, "a never-used record expires"
    # and the POST the browser makes is held to that policy: the wrong type, more or fewer bytes
    body = b"%PDF-1.7" + b"x" * (3 * KIB - 8)
    with pytest.raises(StorageError) as wrong_type:
        world.store.post_object(created.upload, body, content_type="text/html")
    assert wrong_type.value.code == "AccessDenied"
    with pytest.raises(StorageError) as more:
        world.store.post_object(created.upload, body + b"x")
    assert more.value.code == "EntityTooLarge"
    with pytest.raises(StorageError) as fewer:
        world.store.post_object(created.upload, body[:-1])
    assert fewer.value.code == "EntityTooSmall"
    world.store.post_object(created.upload, body)
    assert world.store.read(UPLOADS, record.original.key) == body


def test_an_upload_above_the_threshold_or_asked_for_is_multipart(world: World) -> None:
    service = world.uploads(multipart_threshold_bytes=10 * MIB)

    above = service.create(ALICE, request(10 * MIB + 1))
    forced = service.create(ALICE, request(KIB, multipart=True))
    below = service.create(ALICE, request(10 * MIB))

    assert isinstance(above.upload, MultipartUpload) and isinstance(forced.upload, MultipartUpload)
    assert isinstance(below.upload, PostUpload)
    for created in (above, forced):
        record = world.stored(created.media_id)
        assert record.upload_method == UploadMethod.MULTIPART
        assert record.upload_id == multipart(created).upload_id
        assert world.store.uploads[multipart(created).upload_id].key == record.original.key


def test_the_part_layout_has_exact_sizes_and_the_first_100_urls(world: World) -> None:
    # When a 150.5-part upload starts (part size 5 MiB)
    size = 150 * 5 * MIB + 7
    created = world.uploads(**LARGE).create(ALICE, request(size))

    # Then it has 151 parts; the first 100 are signed, each for its exact size
    upload = multipart(created)
    assert (upload.part_size, upload.part_count) == (5 * MIB, 151)
    assert [p.part_number for p in upload.parts] == list(range(1, 101))
    assert all(p.size == 5 * MIB for p in upload.parts)
    signed = [world.store.signed_parts[p.url] for p in upload.parts]
    assert [(s.part_number, s.size) for s in signed] == [(p.part_number, p.size) for p in upload.parts]
    assert len({p.url for p in upload.parts}) == 100


def test_a_part_url_refuses_any_other_size(world: World) -> None:
    # Given a 3-part upload (5 MiB, 5 MiB, 3 bytes)
    created = world.uploads(**LARGE).create(ALICE, request(2 * 5 * MIB + 3, multipart=True))
    upload = multipart(created)
    assert [p.size for p in upload.parts] == [5 * MIB, 5 * MIB, 3]
    last = upload.parts[-1]

    # When a client sends more (or fewer) bytes than the last part's URL was signed for, S3 refuses
    for wrong in (b"four", b"xy", b"x" * (5 * MIB)):
        with pytest.raises(StorageError) as refused:
            world.store.put_part(last.url, wrong)
        assert refused.value.code == "SignatureDoesNotMatch"
    assert world.store.put_part(last.url, b"abc")


def test_more_parts_are_signed_on_demand_within_1_to_n(world: World) -> None:
    # Given a 151-part upload
    service = world.uploads(**LARGE)
    created = service.create(ALICE, request(150 * 5 * MIB + 7))

    # When alice asks for parts 101 and 151 (twice), Then each is signed for its exact size
    signed = service.sign_parts(ALICE, created.media_id, [101, 151, 151])
    assert [(p.part_number, p.size) for p in signed.parts] == [(101, 5 * MIB), (151, 7)]
    assert world.store.signed_parts[signed.parts[1].url].size == 7

    # and parts outside 1..151 are refused, naming the field
    for outside in ([0], [152], [1, -3]):
        with pytest.raises(InvalidRequest) as refused:
            service.sign_parts(ALICE, created.media_id, outside)
        assert refused.value.field == "part_numbers"
        assert "outside 1..151" in refused.value.message


def test_uploaded_parts_lists_what_the_bucket_holds(world: World) -> None:
    # Given a 3-part upload with parts 1 and 3 sent
    service = world.uploads(**LARGE)
    created = service.create(ALICE, request(2 * 5 * MIB + 3, multipart=True))
    upload = multipart(created)
    etag1 = world.store.put_part(upload.parts[0].url, b"1" * 5 * MIB)
    etag3 = world.store.put_part(upload.parts[2].url, b"333")

    # When alice asks what is there (to resume)
    parts = service.uploaded_parts(ALICE, created.media_id)

    # Then she sees those two parts with their sizes, and the layout
    assert (parts.upload_id, parts.part_size, parts.part_count) == (upload.upload_id, 5 * MIB, 3)
    assert [(p.part_number, p.etag, p.size) for p in parts.parts] == [(1, etag1, 5 * MIB), (3, etag3, 3)]


def test_complete_assembles_exactly_the_declared_size(world: World) -> None:
    # Given every part uploaded with its signed size
    service = world.uploads(**LARGE)
    created = service.create(ALICE, request(2 * 5 * MIB + 3, multipart=True))
    completion = upload_parts(world, created)

    # When alice completes the upload
    record = service.complete(ALICE, created.media_id, completion)

    # Then the object exists with the declared size and a multipart ETag
    info = world.store.head(UPLOADS, record.original.key)
    assert info is not None and info.size == 2 * 5 * MIB + 3
    assert info.etag.endswith("-3")
    assert multipart(created).upload_id not in world.store.uploads


def test_complete_refuses_parts_that_add_up_to_less_than_declared_and_aborts(world: World) -> None:
    # Given a 3-part upload where only parts 1 and 2 were sent
    service = world.uploads(**LARGE)
    declared = 2 * 5 * MIB + 3
    created = service.create(ALICE, request(declared, multipart=True))
    upload = multipart(created)
    parts = [
        CompletedPart(part_number=p.part_number, etag=world.store.put_part(p.url, b"p" * p.size))
        for p in upload.parts[:2]
    ]

    # When alice completes with those two
    with pytest.raises(TooLarge) as refused:
        service.complete(ALICE, created.media_id, CompleteRequest(parts=parts))

    # Then 413 names both sizes, and the upload is aborted (its parts gone)
    assert (
        f"{human_bytes(10 * MIB)} uploaded, but {human_bytes(declared)} was declared" in refused.value.message
    )
    assert upload.upload_id not in world.store.uploads
    assert world.store.head(UPLOADS, world.stored(created.media_id).original.key) is None


def test_complete_refuses_parts_that_add_up_to_more_than_declared_and_aborts(world: World) -> None:
    # Given an S3 that does not enforce the signed Content-Length (moto, some S3 clones): the last
    # part carries 5 MiB instead of 3 bytes
    service = world.uploads(**LARGE)
    declared = 2 * 5 * MIB + 3
    created = service.create(ALICE, request(declared, multipart=True))
    upload = multipart(created)
    parts = [
        CompletedPart(part_number=p.part_number, etag=world.store.put_part(p.url, b"p" * p.size))
        for p in upload.parts[:2]
    ]
    etag = world.store.put_part_unsigned(upload.upload_id, 3, b"B" * 5 * MIB)
    completion = CompleteRequest(parts=[*parts, CompletedPart(part_number=3, etag=etag)])

    # When alice completes
    with pytest.raises(TooLarge) as refused:
        service.complete(ALICE, created.media_id, completion)

    # Then the sizes are named and the upload is aborted
    assert (
        f"{human_bytes(15 * MIB)} uploaded, but {human_bytes(declared)} was declared" in refused.value.message
    )
    assert upload.upload_id not in world.store.uploads


def test_complete_with_a_part_never_uploaded_is_refused(world: World) -> None:
    service = world.uploads(**LARGE)
    created = service.create(ALICE, request(2 * 5 * MIB + 3, multipart=True))
    completion = upload_parts(world, created)
    world.store.uploads[multipart(created).upload_id].parts.pop(2)

    with pytest.raises(InvalidRequest) as refused:
        service.complete(ALICE, created.media_id, completion)
    assert refused.value.field == "parts" and "part 2 was never uploaded" in refused.value.message


def test_multipart_routes_refuse_a_post_upload_and_a_gone_upload(world: World) -> None:
    service = world.uploads()
    post = service.create(ALICE, request(KIB))
    with pytest.raises(Conflict, match="not started as a multipart upload"):
        service.sign_parts(ALICE, post.media_id, [1])
    created = service.create(ALICE, request(KIB, multipart=True))
    world.store.uploads.clear()  # S3 aborted it (lifecycle rule)
    with pytest.raises(Conflict, match="is gone"):
        service.uploaded_parts(ALICE, created.media_id)


# ------------------------------------------------------------------ quotas
def test_too_many_uploads_awaiting_their_bytes_exceed_the_quota(world: World) -> None:
    service = world.uploads(quota_max_awaiting_uploads=2)
    service.create(ALICE, request(KIB))
    service.create(ALICE, request(KIB))

    with pytest.raises(QuotaExceeded) as refused:
        service.create(ALICE, request(KIB))
    assert "2 uploads are already awaiting their bytes; the limit is 2" in refused.value.message
    # Bob's count is his own, and admins are exempt
    service.create(BOB, request(KIB))
    for _ in range(3):
        service.create(ADMIN, request(KIB))


def test_bytes_started_today_are_limited(world: World) -> None:
    service = world.uploads(quota_daily_upload_bytes=MIB)
    service.create(ALICE, request(600 * KIB))

    with pytest.raises(QuotaExceeded) as refused:
        service.create(ALICE, request(500 * KIB))
    assert refused.value.message == (
        "quota: 600.0 KB started today + 500.0 KB exceeds the daily limit of 1.0 MB"
    )
    service.create(ALICE, request(424 * KIB))  # exactly the limit
    assert world.usage.started_today("alice") == MIB
    service.create(Caller("root-admin", frozenset({"admin"})), request(MIB))


def test_bytes_stored_are_limited(world: World) -> None:
    # Given alice stores 900 KiB of ready media
    ready = world.awaiting(size=900 * KIB)
    world.with_status(ready, Status.PROCESSING)
    world.with_status(world.stored(ready.media_id), Status.READY)
    assert world.records.counters("alice").total_bytes == 900 * KIB
    service = world.uploads(quota_stored_bytes=MIB)

    with pytest.raises(QuotaExceeded) as refused:
        service.create(ALICE, request(200 * KIB))
    assert refused.value.message == "quota: 900.0 KB stored + 200.0 KB exceeds the storage limit of 1.0 MB"
    service.create(ALICE, request(100 * KIB))
    service.create(ADMIN, request(900 * KIB))


def stale_reads(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every quota read sees no use: what concurrent requests each read before any of them wrote."""
    monkeypatch.setattr(world.records, "counters", lambda owner: Counters(0, {}, {}, 0))
    monkeypatch.setattr(world.usage, "started_today", lambda owner: 0)


def test_concurrent_uploads_cannot_all_pass_the_awaiting_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given reads that see none of the uploads made at the same time (the limit: 2 awaiting)
    service = world.uploads(quota_max_awaiting_uploads=2)
    stale_reads(world, monkeypatch)
    service.create(ALICE, request(KIB))
    service.create(ALICE, request(KIB, multipart=True))
    # When a third passes the read check, Then its write is refused: nothing is kept of it
    with pytest.raises(QuotaExceeded, match="a concurrent upload took the room"):
        service.create(ALICE, request(KIB, multipart=True))
    assert len(world.records.items) == 2
    assert len(world.store.uploads) == 1, "the refused upload's multipart upload is aborted"
    assert world.usage.by_day[("alice", utc_now().date().isoformat())] == 2 * KIB, "its bytes given back"


def test_concurrent_uploads_cannot_all_pass_the_daily_or_storage_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale_reads(world, monkeypatch)
    daily = world.uploads(quota_daily_upload_bytes=MIB)
    daily.create(ALICE, request(600 * KIB))
    # (the message's figure is read again, stale here by construction)
    with pytest.raises(QuotaExceeded, match=r"500\.0 KB exceeds the daily limit of 1\.0 MB"):
        daily.create(ALICE, request(500 * KIB))
    assert world.usage.by_day[("alice", utc_now().date().isoformat())] == 600 * KIB
    assert len(world.records.items) == 1
    # Given 900 KiB stored (ready), which the stale read does not see
    ready = world.awaiting("bob", size=900 * KIB)
    world.with_status(ready, Status.PROCESSING)
    world.with_status(world.stored(ready.media_id), Status.READY)
    with pytest.raises(QuotaExceeded, match="a concurrent upload took the room"):
        world.uploads(quota_stored_bytes=MIB).create(BOB, request(200 * KIB))
    world.uploads(quota_stored_bytes=MIB).create(BOB, request(100 * KIB))


def test_an_upload_above_the_kinds_limit_is_refused_before_anything_is_created(world: World) -> None:
    with pytest.raises(TooLarge, match=r"exceeds the document limit of 1\.0 KB"):
        world.uploads(max_document_bytes=KIB).create(ALICE, request(KIB + 1))
    assert world.records.items == {} and world.store.uploads == {}
    assert world.usage.started_today("alice") == 0


# ------------------------------------------------------------------ abort, owners
def test_abort_removes_the_multipart_upload_and_the_record(world: World) -> None:
    service = world.uploads()
    created = service.create(ALICE, request(KIB, multipart=True))
    upload_parts(world, created)

    service.abort(ALICE, created.media_id)

    assert world.records.get(created.media_id) is None
    assert world.store.uploads == {}
    assert world.records.counters("alice").by_status[Status.AWAITING_UPLOAD] == 0


def test_abort_of_media_already_uploaded_is_a_conflict(world: World) -> None:
    service = world.uploads()
    created = service.create(ALICE, request(KIB))
    world.with_status(world.stored(created.media_id), Status.PROCESSING)
    with pytest.raises(Conflict, match="delete it instead"):
        service.abort(ALICE, created.media_id)


def test_another_users_upload_is_not_found_on_every_route(world: World) -> None:
    # Given alice's multipart upload
    service = world.uploads(**LARGE)
    created = service.create(ALICE, request(2 * 5 * MIB + 3, multipart=True))
    completion = upload_parts(world, created)

    # When bob uses its id on every route, Then it is not found, and nothing changed
    calls = [
        lambda: service.sign_parts(BOB, created.media_id, [1]),
        lambda: service.uploaded_parts(BOB, created.media_id),
        lambda: service.complete(BOB, created.media_id, completion),
        lambda: service.abort(BOB, created.media_id),
    ]
    for call in calls:
        with pytest.raises(NotFound, match=f"media {created.media_id} not found"):
            call()
    assert multipart(created).upload_id in world.store.uploads
    assert world.stored(created.media_id).status == Status.AWAITING_UPLOAD
    # while an admin may manage it
    assert service.uploaded_parts(ADMIN, created.media_id).part_count == 3
    service.complete(ADMIN, created.media_id, completion)


def test_an_unknown_id_is_not_found(world: World) -> None:
    service: UploadService = world.uploads()
    with pytest.raises(NotFound):
        service.abort(ALICE, "0" * 32)
