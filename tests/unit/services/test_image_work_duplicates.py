"""The image processor's duplicate index entries follow the record's current bytes (ImageWork over
the fakes, with small generated images)."""

from __future__ import annotations

from media_core.domain.models import Status
from media_core.processing.image_work import ImageWork
from media_core.processing.lifecycle import Outcome
from media_core.processing.objects import Attempt
from media_core.settings import ImageSettings

from tests.support.images import encode, photo_like
from tests.unit.services.conftest import ALICE, BUCKETS, World
from tests.unit.services.test_processing_pipeline import upload


def image_work(world: World) -> ImageWork:
    return ImageWork.from_settings(ImageSettings(**BUCKETS), world.duplicates)


def test_a_replaced_images_old_fingerprint_no_longer_points_at_it(world: World) -> None:
    # Given alice's image A, processed, and her later upload B of the same picture
    # (stored PNGs: the same size, as a replayed POST's policy demands of a replacement)
    first = encode(photo_like((96, 64), seed=1), "PNG", compress_level=0)
    other = encode(photo_like((96, 64), seed=7), "PNG", compress_level=0)
    assert len(first) == len(other)
    a, b = world.awaiting(size=len(first)), world.awaiting(size=len(first))
    work, pipeline = image_work(world), world.pipeline()
    assert pipeline.handle(upload(world, a, first), Attempt(1, 3), work).outcome == Outcome.READY
    assert pipeline.handle(upload(world, b, first), Attempt(1, 3), work).outcome == Outcome.READY
    assert world.stored(b.media_id).duplicate_of == [a.media_id]

    # When A is replaced by another picture, and B is processed again
    assert pipeline.handle(upload(world, a, other), Attempt(1, 3), work).outcome == Outcome.READY
    world.management().reprocess(ALICE, b.media_id)
    [sent] = world.queue.sent
    assert pipeline.handle(sent.as_event(), Attempt(1, 3), work).outcome == Outcome.READY

    # Then B is no longer a duplicate of A, which holds other bytes now
    assert world.stored(b.media_id).duplicate_of == []
    # and deleting A leaves no index entry of it behind
    world.management().delete(ALICE, a.media_id)
    assert world.stored(a.media_id).status == Status.DELETED
    assert not world.duplicates.registered(a.media_id)


def test_an_image_deleted_while_processing_leaves_no_duplicate_entries(world: World) -> None:
    # Given an image whose record is deleted while the processor works on it
    data = encode(photo_like((96, 64), seed=3), "PNG")
    record = world.awaiting(size=len(data))
    inner = image_work(world)

    def work_then_deleted(context):  # type: ignore[no-untyped-def]
        result = inner(context)
        world.management().delete(ALICE, record.media_id)
        return result

    # When the run finishes, Then it is superseded and registered nothing in the duplicate index
    result = world.pipeline().handle(upload(world, record, data), Attempt(1, 3), work_then_deleted)
    assert result.outcome == Outcome.SUPERSEDED
    assert not world.duplicates.registered(record.media_id)
