"""Publication (services/publication.py) against the fakes: copies before the marker, the marker
only for published records, unpublishing marker first, lost races that leave nothing behind, the
sweep (grace, shards, stale markers), and the triggers (management, processing, deletion)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from media_core.api.models import MediaUpdate, ModerationRequest
from media_core.domain.models import MediaRecord, Moderation, Status, Variant, Visibility, utc_now
from media_core.domain.transfers import ListedObject, StorageError
from media_core.processing.work import WorkResult
from media_core.services.management import MediaManagement
from media_core.services.publication import SWEEP_GRACE, Publication

from tests.unit.fakes import FakeInvalidator
from tests.unit.services.conftest import ADMIN, ALICE, MEDIA, World

IMMUTABLE = "public, max-age=31536000, immutable"


def publication(world: World, invalidator: FakeInvalidator, **options: Any) -> Publication:
    return Publication(world.records, world.store, invalidator, MEDIA, **options)


def ready(world: World, run_id: str = "run1", **fields: Any) -> MediaRecord:
    """A ready image with three variants in the store (and an HLS-style index, never copied)."""
    record = world.awaiting(**fields)
    record = world.with_status(record, Status.PROCESSING, run_id=run_id)
    base = f"media/{record.owner}/{record.media_id}/{run_id}"
    variants = {}
    for name, width in (("thumbnail", 150), ("small", 320), ("large", 1280)):
        key = f"{base}/{name}.webp"
        world.store.put(MEDIA, key, f"{name}-{run_id}".encode(), content_type="image/webp")
        variants[name] = Variant(key=key, content_type="image/webp", bytes=10, width=width)
    world.store.put(MEDIA, f"{base}/hls/master.m3u8", b"#EXTM3U", content_type="application/x-mpegURL")
    variants["hls"] = Variant(key=f"{base}/hls/master.m3u8", content_type="application/x-mpegURL", bytes=7)
    return world.with_status(record, Status.READY, variants=variants)


def published_record(world: World, service: Publication) -> MediaRecord:
    """A ready, public, approved image, published by `service`."""
    published = service.reconcile(ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED))
    assert published is not None and published.public_copy is not None
    return published


def public_keys(world: World, media_id: str) -> list[str]:
    return world.store.keys(MEDIA, f"public/{media_id}/")


@pytest.fixture
def invalidator() -> FakeInvalidator:
    return FakeInvalidator()


# ------------------------------------------------------------------------------ publishing
def test_a_published_record_gets_a_copy_of_each_variant_then_the_marker(
    world: World, invalidator: FakeInvalidator
) -> None:
    record = ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED)
    published = publication(world, invalidator).reconcile(record)
    assert published is not None and published.public_copy is not None
    copy = published.public_copy
    assert copy.run_id == "run1" and copy.prefix.startswith(f"public/{record.media_id}/run1-")
    # One copy per variant but the HLS index, under the marker's prefix, no owner id in the key
    assert public_keys(world, record.media_id) == sorted(
        f"{copy.prefix}{name}.webp" for name in ("thumbnail", "small", "large")
    )
    assert all(record.owner not in k for k in public_keys(world, record.media_id))
    for name in ("thumbnail", "small", "large"):
        stored = world.store.objects[(MEDIA, f"{copy.prefix}{name}.webp")]
        assert stored.data == f"{name}-run1".encode()
        assert (stored.content_type, stored.cache_control) == ("image/webp", IMMUTABLE)
        assert "media-state" not in stored.tags  # not an original: never tagged claimed
    # The copies were all written before the marker
    last_copy = max(
        world.journal.index("store", "write", f"{MEDIA}/{k}") for k in public_keys(world, record.media_id)
    )
    assert last_copy < world.journal.index("records", "update", record.media_id)
    assert invalidator.invalidated == []


def test_reconciling_a_published_record_again_changes_nothing(
    world: World, invalidator: FakeInvalidator
) -> None:
    service = publication(world, invalidator)
    first = service.reconcile(ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED))
    assert first is not None
    writes = len(world.journal.entries)
    again = service.reconcile(world.stored(first.media_id))
    assert again is not None and again.public_copy == first.public_copy
    assert len(world.journal.entries) == writes


@pytest.mark.parametrize(
    ("fields", "post", "published"),
    [
        ({"visibility": Visibility.PRIVATE, "moderation": Moderation.APPROVED}, False, False),
        ({"visibility": Visibility.PUBLIC, "moderation": Moderation.PENDING}, False, False),
        ({"visibility": Visibility.PUBLIC, "moderation": Moderation.REJECTED}, True, False),
        ({"visibility": Visibility.PUBLIC, "moderation": Moderation.PENDING}, True, True),
        ({"visibility": Visibility.PUBLIC, "moderation": Moderation.FLAGGED}, True, True),
        ({"visibility": Visibility.PUBLIC, "moderation": Moderation.FLAGGED}, False, False),
    ],
    ids=["private", "pending-pre", "rejected-post", "pending-post", "flagged-post", "flagged-pre"],
)
def test_only_what_the_public_view_may_show_is_published(
    world: World, invalidator: FakeInvalidator, fields: dict[str, Any], post: bool, published: bool
) -> None:
    record = ready(world, **fields)
    after = publication(world, invalidator, post_moderation=post).reconcile(record)
    assert after is not None and (after.public_copy is not None) is published
    assert bool(public_keys(world, record.media_id)) is published


def test_without_a_distribution_nothing_is_published_and_an_old_marker_is_undone(
    world: World, invalidator: FakeInvalidator
) -> None:
    record = ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED)
    assert publication(world, invalidator, enabled=False).reconcile(record) == record
    assert public_keys(world, record.media_id) == []
    published = publication(world, invalidator).reconcile(record)
    assert published is not None and published.public_copy is not None
    undone = publication(world, invalidator, enabled=False).reconcile(published)
    assert undone is not None and undone.public_copy is None
    assert public_keys(world, record.media_id) == []


def test_a_publication_that_loses_the_race_removes_its_own_copies_only(
    world: World, invalidator: FakeInvalidator
) -> None:
    service = publication(world, invalidator)
    record = ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED)
    # Given another publication of the same record that has already written its marker
    winner = service.reconcile(record)
    assert winner is not None and winner.public_copy is not None
    # When a second one, started from the same (now stale) read, finishes
    after = service.reconcile(record)
    # Then its marker write failed on the version, its copies are gone, and the winner's stand
    assert after is not None and after.public_copy == winner.public_copy
    assert all(k.startswith(winner.public_copy.prefix) for k in public_keys(world, record.media_id))
    assert len(public_keys(world, record.media_id)) == 3


def test_a_failed_copy_leaves_no_marker_and_no_copies(world: World, invalidator: FakeInvalidator) -> None:
    record = ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED)
    world.store.faults.fail("copy", StorageError("InternalError", "S3 is down"), times=1)
    # The first copy fails: never raised to the caller, nothing half-done is left
    after = publication(world, invalidator).reconcile(record)
    assert after is not None and after.public_copy is None
    assert world.stored(record.media_id).public_copy is None
    assert public_keys(world, record.media_id) == []


# ------------------------------------------------------------------------------ unpublishing
def test_unpublishing_clears_the_marker_then_deletes_then_invalidates(
    world: World, invalidator: FakeInvalidator
) -> None:
    service = publication(world, invalidator)
    published = published_record(world, service)
    keys = public_keys(world, published.media_id)
    private = world.records.update(published, {"visibility": Visibility.PRIVATE})
    marked = len(world.journal.entries)
    after = service.reconcile(private)
    assert after is not None and after.public_copy is None
    assert public_keys(world, published.media_id) == []
    cleared = next(
        i
        for i, entry in enumerate(world.journal.entries)
        if i >= marked and entry == ("records", "update", published.media_id)
    )
    assert all(cleared < world.journal.index("store", "delete", f"{MEDIA}/{k}") for k in keys)
    # ... and the edge's copies of the copies and of the public transformation URLs go too
    assert invalidator.invalidated == [[f"/public/{published.media_id}/*", f"/t/{published.media_id}/*"]]


def test_a_failed_delete_keeps_the_marker_cleared_and_the_sweep_finishes(
    world: World, invalidator: FakeInvalidator
) -> None:
    service = publication(world, invalidator)
    published = published_record(world, service)
    world.store.faults.fail("delete_prefix", StorageError("InternalError", "S3 is down"), times=1)
    after = service.reconcile(world.records.update(published, {"moderation": Moderation.REJECTED}))
    # The marker went first: no URL is handed out any more; the objects are still there
    assert after is not None and after.public_copy is None
    assert len(public_keys(world, published.media_id)) == 3
    # ... and the public transformations, which the origin refuses already, are purged at once
    assert invalidator.invalidated == [[f"/t/{published.media_id}/*"]]
    # The sweep leaves copies younger than the grace period alone (a publication may be writing)
    shard = published.media_id[0]
    assert service.sweep(utc_now(), shard=shard).removed == []
    # Past it, it removes them and invalidates the id's public paths
    report = service.sweep(utc_now() + SWEEP_GRACE + timedelta(seconds=1), shard=shard)
    assert report.removed == [published.public_copy.prefix] and report.examined >= 1
    assert public_keys(world, published.media_id) == []
    assert invalidator.invalidated[1:] == [[f"/public/{published.media_id}/*"]]


def test_the_sweep_keeps_the_current_copy_and_clears_a_marker_that_outlived_its_publication(
    world: World, invalidator: FakeInvalidator
) -> None:
    service = publication(world, invalidator)
    kept = service.reconcile(ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED))
    stale = service.reconcile(ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED))
    assert kept is not None and stale is not None and stale.public_copy is not None
    # A change that never reached reconcile (a crash): private, marker still set
    world.records.update(stale, {"visibility": Visibility.PRIVATE})
    later = utc_now() + SWEEP_GRACE + timedelta(minutes=1)
    for shard in "0123456789abcdef":
        service.sweep(later, shard=shard)
    assert len(public_keys(world, kept.media_id)) == 3
    assert public_keys(world, stale.media_id) == []
    assert world.stored(stale.media_id).public_copy is None
    # Copies of records that no longer exist at all go too
    world.store.put(MEDIA, f"public/{'f' * 32}/run9-x/small.webp", b"x", content_type="image/webp")
    world.store.objects[(MEDIA, f"public/{'f' * 32}/run9-x/small.webp")].last_modified -= 2 * SWEEP_GRACE
    assert service.sweep(utc_now(), shard="f").removed == [f"public/{'f' * 32}/run9-x/"]

    # A stray key that is no copy's prefix goes alone, never what merely starts like it
    stray = f"public/{kept.media_id}/{kept.run_id}"
    world.store.put(MEDIA, stray, b"x", content_type="text/plain")
    world.store.objects[(MEDIA, stray)].last_modified -= 2 * SWEEP_GRACE
    assert service.sweep(utc_now(), shard=kept.media_id[0]).removed == [stray]
    assert len(public_keys(world, kept.media_id)) == 3


def test_the_sweep_lists_one_shard_chosen_by_the_hour(world: World, invalidator: FakeInvalidator) -> None:
    listed: list[str] = []
    real = world.store.list_objects

    def spy(bucket: str, prefix: str) -> Iterator[ListedObject]:
        listed.append(prefix)
        return real(bucket, prefix)

    world.store.list_objects = spy  # type: ignore[method-assign]
    publication(world, invalidator).sweep(utc_now().replace(hour=13))
    assert listed == ["public/d"]  # 13 % 16: sixteen hourly runs cover every media id


def test_a_new_run_replaces_the_copies_of_the_old_one(world: World, invalidator: FakeInvalidator) -> None:
    service = publication(world, invalidator)
    first = service.reconcile(ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED))
    assert first is not None and first.public_copy is not None
    old_prefix = first.public_copy.prefix
    # A reprocess: a new run, still approved and public, reaches ready
    rerun = world.with_status(world.stored(first.media_id), Status.PROCESSING, run_id="run2")
    base = f"media/{rerun.owner}/{rerun.media_id}/run2"
    world.store.put(MEDIA, f"{base}/small.webp", b"small-run2", content_type="image/webp")
    done = world.with_status(
        rerun,
        Status.READY,
        variants={"small": Variant(key=f"{base}/small.webp", content_type="image/webp", bytes=10)},
    )
    after = service.reconcile(done)
    assert after is not None and after.public_copy is not None and after.public_copy.run_id == "run2"
    assert public_keys(world, first.media_id) == [f"{after.public_copy.prefix}small.webp"]
    assert not any(k.startswith(old_prefix) for k in public_keys(world, first.media_id))
    # The old run's public transformations are purged at the edge too (their URLs name run 1)
    assert invalidator.invalidated == [[f"/public/{first.media_id}/*", f"/t/{first.media_id}/*"]]


# ------------------------------------------------------------------------------ triggers
def management(world: World, invalidator: FakeInvalidator) -> MediaManagement:
    service = world.management()
    service.publication = publication(world, invalidator)
    service.deleter.invalidator = invalidator
    return service


def test_approval_publishes_and_making_private_unpublishes(
    world: World, invalidator: FakeInvalidator
) -> None:
    manage = management(world, invalidator)
    record = ready(world, visibility=Visibility.PUBLIC)
    approved = manage.moderate(ADMIN, record.media_id, ModerationRequest(status="approved"))
    assert approved.public_copy is not None and len(public_keys(world, record.media_id)) == 3
    private = manage.update(ALICE, record.media_id, MediaUpdate(visibility=Visibility.PRIVATE))
    assert private.public_copy is None and public_keys(world, record.media_id) == []
    # Both edges are purged: the public transformations and the published copies, once each
    assert sorted(p for paths in invalidator.invalidated for p in paths) == sorted(
        [f"/public/{record.media_id}/*", f"/t/{record.media_id}/*"]
    )


def test_deletion_purges_the_copies_and_invalidates_them(world: World, invalidator: FakeInvalidator) -> None:
    manage = management(world, invalidator)
    record = ready(world, visibility=Visibility.PUBLIC, moderation=Moderation.APPROVED)
    assert manage.publication is not None
    published = manage.publication.reconcile(record)
    assert published is not None and published.public_copy is not None
    manage.delete(ALICE, record.media_id)
    assert public_keys(world, record.media_id) == []
    assert [f"/public/{record.media_id}/*", f"/t/{record.media_id}/*"] in [
        sorted(p) for p in invalidator.invalidated
    ]


def test_processing_reconciles_every_record_it_settles(world: World) -> None:
    settled: list[MediaRecord] = []
    pipeline = world.pipeline()
    pipeline.on_settled = settled.append
    record = world.with_status(world.awaiting(), Status.PROCESSING, run_id="run1")
    pipeline.finish(record, WorkResult(variants={}, metadata={}))
    assert [(r.media_id, r.status) for r in settled] == [(record.media_id, Status.READY)]
    other = world.with_status(world.awaiting(), Status.PROCESSING, run_id="run1")
    pipeline.fail_run(other, "broken")
    assert [r.status for r in settled] == [Status.READY, Status.FAILED]
