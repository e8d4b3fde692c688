"""The image and document processors against the local stack (moto, provisioned from
template.yaml): real uploads through the API and presigned POSTs, real S3 events on the queues,
delivered to the functions as SQS batches, and the results opened and checked."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from media_core.domain.errors import MediaRejected
from media_core.domain.models import Status
from media_core.processing.lifecycle import Outcome
from media_core.processing.objects import Attempt, ObjectCreated
from media_core.processing.work import WorkContext, WorkResult
from media_core.wiring import processing_pipeline
from PIL import Image

from local_stack.stack import LocalStack
from tests.support import images
from tests.support.flow import deliver, download, get_media, media_objects, queued_messages, record, upload
from tests.support.images import CORPUS
from tests.support.local_stack import running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Pollers off: each test decides what goes into a batch. A low frame cap keeps the
    # many-frames GIF small.
    with running_stack(
        tmp_path_factory.mktemp("stack"), pollers=False, params={"ImageMaxFrames": "200"}
    ) as running:
        yield running


def process_batch(stack: LocalStack, queue: str, function: str, count: int) -> dict[str, Any]:
    result = deliver(stack, queue, function, queued_messages(stack, queue, count))
    assert isinstance(result, dict)
    return result


class TestImageBatch:
    def test_hostile_files_fail_with_reasons_while_the_rest_of_the_batch_is_ready(self, stack: LocalStack):
        # Given a batch of good and hostile uploads, each declared as an allowed image type
        good = {
            upload(
                stack, "alice", "Canon.JPG", "image/jpeg", (CORPUS / "Canon_40D.jpg").read_bytes()
            ): "canon",
            upload(stack, "alice", "alpha.png", "image/png", images.rgba_png()): "alpha",
        }
        hostile = {
            upload(stack, "alice", "empty.jpg", "image/jpeg", b""): "empty file (0 bytes)",
            upload(
                stack, "alice", "cut.jpg", "image/jpeg", images.truncated(images.jpeg_with_metadata())
            ): "truncated",
            upload(
                stack, "alice", "doc.jpg", "image/jpeg", images.pdf_document()
            ): "not an image: the bytes are a PDF",
            upload(
                stack, "alice", "notes.png", "image/png", b"just some text\n" * 20
            ): "not an image: the bytes are",
            upload(
                stack, "alice", "bomb.png", "image/png", images.bomb_png()
            ): "too large: 400.0 MP exceeds the 50 MP",
            upload(
                stack, "alice", "frames.gif", "image/gif", images.many_frames_gif(260)
            ): "too many frames: 260",
            upload(stack, "alice", "liar.png", "image/png", images.png_claiming(60000, 60000)): "too large",
        }
        # When the image function gets them all in one SQS batch
        result = process_batch(stack, "ImageQueue", "ImageFunction", len(good) + len(hostile))
        # Then no message is reported as failed: bad files are settled, not retried
        assert result == {"batchItemFailures": []}
        # And each hostile file is failed with its reason and left no variants behind
        for media_id, reason in hostile.items():
            body = record(stack, media_id)
            assert body["status"] == "failed", (reason, body)
            assert reason in body["failure_reason"], (reason, body["failure_reason"])
            assert body["variants"] == {}
            assert media_objects(stack, media_id) == []
        # And the good files are ready with every preset
        for media_id in good:
            body = record(stack, media_id)
            assert body["status"] == "ready", body
            assert set(body["variants"]) == {"thumbnail", "small", "medium", "large", "webp", "avif"}

    def test_variants_download_open_and_carry_no_metadata(self, stack: LocalStack):
        # Given a phone photo with EXIF and GPS
        photo = (CORPUS / "gps_DSCN0010.jpg").read_bytes()
        media_id = upload(stack, "alice", "gps.jpg", "image/jpeg", photo)
        process_batch(stack, "ImageQueue", "ImageFunction", 1)
        body = record(stack, media_id)
        assert body["status"] == "ready", body
        # Then every variant URL downloads, opens as its content type with the recorded size
        for name, variant in body["variants"].items():
            data = download(variant["url"])
            assert len(data) == variant["bytes"]
            with Image.open(io.BytesIO(data)) as picture:
                assert Image.MIME[picture.format] == variant["content_type"], name
                assert picture.size == (variant["width"], variant["height"]), name
                assert not picture.getexif(), name
                assert "exif" not in picture.info and "xmp" not in picture.info, name
        assert body["variants"]["thumbnail"]["width"] == body["variants"]["thumbnail"]["height"] == 150
        # And the record has the metadata, without GPS by default
        metadata = body["metadata"]
        assert metadata["width"] == 640 and metadata["height"] == 480
        assert len(metadata["sha256"]) == 64 and metadata["blurhash"]
        assert "gps" not in metadata
        # And the processed version is pinned under originals/ (claimed: never expired by the
        # lifecycle rule), while the inbox key an upload URL can write again is emptied
        s3, bucket = stack.client("s3"), stack.buckets["UploadsBucket"]
        pinned_objects = s3.list_objects_v2(Bucket=bucket, Prefix=f"originals/{body['owner']}/{media_id}/")
        assert len(pinned_objects["Contents"]) == 1
        pinned = pinned_objects["Contents"][0]["Key"]
        tags = s3.get_object_tagging(Bucket=bucket, Key=pinned)["TagSet"]
        assert {"Key": "media-state", "Value": "claimed"} in tags
        inbox = f"uploads/image/{body['owner']}/{media_id}/original.jpg"
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=inbox)

    def test_redelivered_and_duplicated_events_make_one_variant_set_and_one_change(self, stack: LocalStack):
        media_id = upload(stack, "alice", "dup.jpg", "image/jpeg", images.jpeg_with_metadata((640, 480)))
        messages = queued_messages(stack, "ImageQueue", 1)
        # When the same event arrives twice in one batch and again in a later batch
        assert deliver(stack, "ImageQueue", "ImageFunction", messages * 2) == {"batchItemFailures": []}
        first = record(stack, media_id)
        assert deliver(stack, "ImageQueue", "ImageFunction", messages) == {"batchItemFailures": []}
        # Then there is one ready record, changed once, and one set of variants in the bucket
        again = record(stack, media_id)
        assert again["status"] == "ready"
        assert again["version"] == first["version"] == 3  # created, claimed, ready
        objects = media_objects(stack, media_id)
        assert len(objects) == len(first["variants"])
        assert len({key.split("/")[3] for key in objects}) == 1  # one processing run

    def test_exact_and_near_duplicates_are_found_and_different_photos_are_not(self, stack: LocalStack):
        photo = (CORPUS / "phone_HMD_Nokia_8.3_5G.jpg").read_bytes()
        with Image.open(io.BytesIO(photo)) as original:
            smaller = original.convert("RGB")
            smaller.thumbnail((800, 800))
            copy = io.BytesIO()
            smaller.save(copy, "JPEG", quality=70)
        first = upload(stack, "bob", "original.jpg", "image/jpeg", photo)
        exact = upload(stack, "bob", "again.jpg", "image/jpeg", photo)
        near = upload(stack, "bob", "resized.jpg", "image/jpeg", copy.getvalue())
        other = upload(stack, "bob", "other.jpg", "image/jpeg", (CORPUS / "Canon_40D.jpg").read_bytes())
        for _ in range(4):  # one at a time: each sees the ones before it
            process_batch(stack, "ImageQueue", "ImageFunction", 1)

        def dups(media_id: str) -> list[str]:
            response = get_media(stack, "bob", media_id)
            assert response.json()["status"] == "ready", response.text
            found: list[str] = response.json()["duplicate_of"]
            return found

        assert dups(first) == []
        assert dups(exact) == [first]
        assert set(dups(near)) == {first, exact}
        assert dups(other) == []
        # And another owner's identical photo is not reported as a duplicate of bob's
        carols = upload(stack, "carol", "same.jpg", "image/jpeg", photo)
        process_batch(stack, "ImageQueue", "ImageFunction", 1)
        assert get_media(stack, "carol", carols).json()["duplicate_of"] == []


class TestDocuments:
    def test_documents_are_verified_inspected_and_previewed(self, stack: LocalStack):
        pdf = upload(stack, "alice", "Report.PDF", "application/pdf", images.pdf_document())
        text = upload(stack, "alice", "notes.txt", "text/plain", "héllo\nworld\n".encode())
        archive = upload(
            stack, "alice", "bundle.zip", "application/zip", images.zip_archive({"a.txt": b"a" * 100})
        )
        bomb = upload(stack, "alice", "bomb.zip", "application/zip", images.zip_bomb())
        locked = upload(stack, "alice", "locked.pdf", "application/pdf", images.encrypted_pdf())
        fake = upload(stack, "alice", "fake.pdf", "application/pdf", images.jpeg_with_metadata())
        process_batch(stack, "DocumentQueue", "DocumentFunction", 6)
        assert record(stack, pdf)["status"] == "ready"
        pdf_body = record(stack, pdf)
        assert pdf_body["metadata"]["page_count"] >= 1
        assert set(pdf_body["variants"]) >= {"thumbnail", "small", "medium"}
        with Image.open(io.BytesIO(download(pdf_body["variants"]["thumbnail"]["url"]))) as thumb:
            assert thumb.size == (150, 150)
        assert record(stack, text)["status"] == "ready"
        assert record(stack, archive)["metadata"]["entry_count"] == 1
        for media_id, reason in (
            (bomb, "zip bomb"),
            (locked, "encrypted PDF"),
            (fake, "not a PDF: the bytes are"),
        ):
            body = record(stack, media_id)
            assert body["status"] == "failed" and reason in body["failure_reason"], body


class TestPipelineRetries:
    """The shared pipeline's at-least-once rules, with a kind processor that fails on purpose."""

    def _uploaded(self, stack: LocalStack) -> tuple[str, ObjectCreated]:
        media_id = upload(stack, "dave", "x.jpg", "image/jpeg", images.jpeg_with_metadata((64, 64)))
        [message] = queued_messages(stack, "ImageQueue", 1)
        import json

        s3 = json.loads(message["Body"])["Records"][0]["s3"]
        event = ObjectCreated(
            stack.buckets["UploadsBucket"], s3["object"]["key"], s3["object"]["size"], s3["object"]["eTag"]
        )
        return media_id, event

    def test_a_crash_is_retried_and_the_last_attempt_ends_failed_with_a_reason(self, stack: LocalStack):
        media_id, event = self._uploaded(stack)
        calls: list[int] = []

        def crashing(context: WorkContext) -> WorkResult:
            calls.append(1)
            context.variants.put_bytes("half", b"x", content_type="image/jpeg", extension="jpg")
            raise OSError("disk on fire")

        pipeline = processing_pipeline()
        # First and second attempts raise (the message is retried) and leave no variants
        for number in (1, 2):
            with pytest.raises(OSError):
                pipeline.handle(event, Attempt(number, 3), crashing)
            assert media_objects(stack, media_id) == []
            assert record(stack, media_id)["status"] == Status.PROCESSING
        # The last attempt ends the record failed, with a readable reason
        result = pipeline.handle(event, Attempt(3, 3), crashing)
        assert result.outcome == Outcome.FAILED
        body = record(stack, media_id)
        assert body["status"] == "failed"
        assert body["failure_reason"] == "processing failed after 3 attempts: OSError: disk on fire"
        assert len(calls) == 3 and media_objects(stack, media_id) == []

    def test_a_rejected_file_is_not_retried(self, stack: LocalStack):
        media_id, event = self._uploaded(stack)

        def rejecting(context: WorkContext) -> WorkResult:
            raise MediaRejected("not an image: the bytes are text")

        result = processing_pipeline().handle(event, Attempt(1, 3), rejecting)
        assert result.outcome == Outcome.FAILED
        assert record(stack, media_id)["failure_reason"] == "not an image: the bytes are text"
        # A redelivery of the same version is a duplicate: nothing changes
        again = processing_pipeline().handle(event, Attempt(2, 3), rejecting)
        assert again.outcome == Outcome.DUPLICATE

    def test_an_event_for_a_key_without_a_record_is_ignored(self, stack: LocalStack):
        event = ObjectCreated(
            stack.buckets["UploadsBucket"], "uploads/image/nobody/" + "e" * 32 + "/original.jpg", 5, "x"
        )
        assert (
            processing_pipeline().handle(event, Attempt(1, 3), lambda c: WorkResult({}, {})).outcome
            == Outcome.IGNORED
        )
