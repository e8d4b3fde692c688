"""MediaManagement (services/management.py) over the fakes: descriptive fields, the primary item of
an owner's entity, reprocess from the pinned original, moderation, delete and batch delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from media_core.api.models import MediaUpdate, ModerationRequest
from media_core.domain.audit import AuditAction
from media_core.domain.errors import Conflict, Forbidden, InvalidRequest, InvalidTransition, NotFound
from media_core.domain.events import DetailType
from media_core.domain.models import EntityRef, MediaRecord, Moderation, Status, Visibility
from media_core.domain.paging import MediaFilter, PageRequest
from media_core.processing.lifecycle import Outcome
from media_core.processing.objects import Attempt
from media_core.services.management import PRIMARY_ATTEMPTS

from tests.unit.fakes import object_created
from tests.unit.services.conftest import ADMIN, ALICE, BOB, MEDIA, UPLOADS, World
from tests.unit.services.test_processing_pipeline import FakeProcessor


def processed(
    world: World, owner: str = "alice", data: bytes = b"\x89PNG media", **fields: Any
) -> MediaRecord:
    """Media uploaded and processed by the pipeline (ready, pinned original, variants)."""
    record = world.awaiting(owner, size=len(data), **fields)
    etag = world.store.seed(UPLOADS, record.original.key, data, content_type="image/png")
    info = world.store.head(UPLOADS, record.original.key)
    assert info is not None and info.etag == etag
    event = object_created(UPLOADS, record.original.key, info)
    assert world.pipeline().handle(event, Attempt(1, 3), FakeProcessor()).outcome == Outcome.READY
    return world.stored(record.media_id)


def in_entity(world: World, owner: str, entity_id: str = "p1", *, primary: bool = False) -> MediaRecord:
    return world.awaiting(owner, entity=EntityRef(type="product", id=entity_id), is_primary=primary)


# ------------------------------------------------------------------ update
def test_the_owner_updates_descriptive_fields(world: World) -> None:
    record = world.awaiting()
    updated = world.management().update(
        ALICE,
        record.media_id,
        MediaUpdate(alt_text="A cat", tags=["cat", "pet", "cat"], visibility=Visibility.PUBLIC),
    )
    assert (updated.alt_text, updated.tags, updated.visibility) == (
        "A cat",
        ["cat", "pet"],
        Visibility.PUBLIC,
    )
    assert updated.version == record.version + 1
    assert world.stored(record.media_id) == updated
    [entry] = world.audit.entries(record.media_id)
    assert (entry.action, entry.actor, entry.details) == (
        AuditAction.UPDATED,
        "alice",
        {"fields": ["alt_text", "tags", "visibility"]},
    )
    # null clears a field
    cleared = world.management().update(ALICE, record.media_id, MediaUpdate(alt_text=None))
    assert cleared.alt_text is None


def test_another_user_cannot_update_and_an_admin_can(world: World) -> None:
    record = world.awaiting()
    with pytest.raises(NotFound):
        world.management().update(BOB, record.media_id, MediaUpdate(caption="mine now"))
    assert world.stored(record.media_id).caption is None
    assert world.management().update(ADMIN, record.media_id, MediaUpdate(caption="ok")).caption == "ok"


def test_an_update_from_a_stale_read_is_a_conflict(world: World) -> None:
    record = world.awaiting()
    world.records.update(record, {"caption": "first"})
    with pytest.raises(Conflict, match="changed meanwhile"):
        world.records.update(record, {"caption": "second"})
    assert world.stored(record.media_id).caption == "first"


# ------------------------------------------------------------------ primary
def test_a_new_primary_demotes_the_owners_previous_one(world: World) -> None:
    # Given alice's product p1 with a primary item and another item
    first = in_entity(world, "alice", primary=True)
    second = in_entity(world, "alice")

    # When she makes the second the primary
    updated = world.management().update(ALICE, second.media_id, MediaUpdate(is_primary=True))

    # Then it is, and the first is not any more (audited on both)
    assert updated.is_primary
    assert not world.stored(first.media_id).is_primary
    assert world.records.primary_of("alice", "product", "p1") == world.stored(second.media_id)
    gallery = world.records.list_entity("alice", "product", "p1", PageRequest(10, None))
    assert [r.media_id for r in gallery.records] == [second.media_id, first.media_id]
    [demotion] = world.audit.entries(first.media_id)
    assert demotion.details == {"fields": ["is_primary"], "by": second.media_id}


def test_a_primary_never_demotes_another_owners_primary_of_the_same_entity(world: World) -> None:
    # Given bob's primary item of his own product p1, and alice's item of her product p1
    bobs = in_entity(world, "bob", primary=True)
    alices = in_entity(world, "alice")

    # When alice makes hers the primary (and an admin does the same for another of alice's)
    world.management().update(ALICE, alices.media_id, MediaUpdate(is_primary=True))
    other = in_entity(world, "alice")
    world.management().update(ADMIN, other.media_id, MediaUpdate(is_primary=True))

    # Then bob's gallery is untouched; alice's primary switched within her own gallery
    assert world.stored(bobs.media_id).is_primary
    assert world.stored(bobs.media_id).version == bobs.version
    assert world.records.primary_of("bob", "product", "p1") == world.stored(bobs.media_id)
    assert not world.stored(alices.media_id).is_primary
    assert world.records.primary_of("alice", "product", "p1") == world.stored(other.media_id)


def test_the_repository_refuses_to_demote_another_owners_item(world: World) -> None:
    bobs = in_entity(world, "bob", primary=True)
    alices = in_entity(world, "alice")
    with pytest.raises(Conflict, match="belongs to the entity's owner"):
        world.records.update(alices, {"is_primary": True}, demote=bobs)
    assert world.stored(bobs.media_id).is_primary and not world.stored(alices.media_id).is_primary


def test_primary_needs_an_entity_and_moving_entities_drops_it(world: World) -> None:
    loose = world.awaiting()
    with pytest.raises(InvalidRequest) as refused:
        world.management().update(ALICE, loose.media_id, MediaUpdate(is_primary=True))
    assert refused.value.field == "is_primary"
    primary = in_entity(world, "alice", primary=True)
    moved = world.management().update(
        ALICE, primary.media_id, MediaUpdate(entity={"type": "product", "id": "p2"})
    )
    assert moved.entity == EntityRef(type="product", id="p2") and not moved.is_primary
    assert world.records.primary_of("alice", "product", "p1") is None


def after_primary_reads(
    monkeypatch: pytest.MonkeyPatch, world: World, meanwhile: Callable[[int, MediaRecord | None], None]
) -> list[MediaRecord | None]:
    """What another request writes between our read of "who is primary?" and our write:
    `meanwhile(reads so far, what was read)` after each `primary_of`. Returns the reads."""
    original = world.records.primary_of
    reads: list[MediaRecord | None] = []

    def hooked(owner: str, entity_type: str, entity_id: str) -> MediaRecord | None:
        found = original(owner, entity_type, entity_id)
        reads.append(found)
        meanwhile(len(reads), found)
        return found

    monkeypatch.setattr(world.records, "primary_of", hooked)
    return reads


def primaries_of(world: World, owner: str, entity_id: str = "p1") -> list[str]:
    gallery = world.records.list_entity(owner, "product", entity_id, PageRequest(100, None))
    return [r.media_id for r in gallery.records if r.is_primary]


def test_two_first_primaries_racing_end_with_exactly_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two items of alice's product p1, which has no primary
    first, second = in_entity(world, "alice"), in_entity(world, "alice")

    # When the second is made primary, and after it read "no primary" the first is made primary
    def first_wins(reads: int, _found: MediaRecord | None) -> None:
        if reads == 1:
            world.records.update(world.stored(first.media_id), {"is_primary": True})

    reads = after_primary_reads(monkeypatch, world, first_wins)
    updated = world.management().update(ALICE, second.media_id, MediaUpdate(is_primary=True))

    # Then the second's write lost, read again, and switched from the first: exactly one primary
    assert updated.is_primary and primaries_of(world, "alice") == [second.media_id]
    assert [r.media_id if r else None for r in reads] == [None, first.media_id]
    assert world.records.primary_of("alice", "product", "p1") == world.stored(second.media_id)


def test_a_stale_demotion_never_strips_the_primary_of_another_entity(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice's primary of p1 and another item of p1
    moved, other = in_entity(world, "alice", primary=True), in_entity(world, "alice")

    # When the other is made primary, and after it read who is, that one becomes p2's primary
    def move_it(reads: int, found: MediaRecord | None) -> None:
        if reads == 1:
            assert found is not None and found.media_id == moved.media_id
            p2 = EntityRef(type="product", id="p2")
            world.records.update(world.stored(moved.media_id), {"entity": p2, "is_primary": True})

    after_primary_reads(monkeypatch, world, move_it)
    world.management().update(ALICE, other.media_id, MediaUpdate(is_primary=True))

    # Then p2 keeps its primary (the demotion was for p1's), and p1's is the other
    assert world.stored(moved.media_id).is_primary
    assert primaries_of(world, "alice", "p2") == [moved.media_id]
    assert primaries_of(world, "alice", "p1") == [other.media_id]
    assert world.audit.entries(moved.media_id) == []  # nobody demoted it


def test_a_switch_that_keeps_losing_is_a_conflict_after_bounded_retries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an item of alice's product p1
    mine = in_entity(world, "alice")

    # When, after each of its reads of the primary, another item becomes the primary
    def another_wins(_reads: int, found: MediaRecord | None) -> None:
        winner = in_entity(world, "alice")
        world.records.update(winner, {"is_primary": True}, demote=found)

    reads = after_primary_reads(monkeypatch, world, another_wins)
    with pytest.raises(Conflict, match="others are switching it too"):
        world.management().update(ALICE, mine.media_id, MediaUpdate(is_primary=True))

    # Then it read again a bounded number of times, wrote nothing, and p1 has one primary
    assert len(reads) == PRIMARY_ATTEMPTS
    assert not world.stored(mine.media_id).is_primary
    assert world.stored(mine.media_id).version == mine.version
    assert len(primaries_of(world, "alice")) == 1


def test_the_marker_never_names_media_that_is_not_the_primary_any_more(world: World) -> None:
    marker = ("alice", "product", "p1")
    management = world.management()
    # Set and unset
    primary = in_entity(world, "alice")
    management.update(ALICE, primary.media_id, MediaUpdate(is_primary=True))
    assert world.records.primaries[marker] == primary.media_id
    management.update(ALICE, primary.media_id, MediaUpdate(is_primary=False))
    assert marker not in world.records.primaries
    # Moved to another entity, or unlinked
    for change in (MediaUpdate(entity={"type": "product", "id": "p2"}), MediaUpdate(entity=None)):
        primary = in_entity(world, "alice", primary=True)
        assert world.records.primaries[marker] == primary.media_id
        management.update(ALICE, primary.media_id, change)
        assert marker not in world.records.primaries
        assert world.records.primary_of("alice", "product", "p1") is None
    # Moved to another entity as its primary: the marker moves with it
    primary = in_entity(world, "alice", primary=True)
    management.update(
        ALICE, primary.media_id, MediaUpdate(entity={"type": "product", "id": "p3"}, is_primary=True)
    )
    assert marker not in world.records.primaries
    assert world.records.primaries[("alice", "product", "p3")] == primary.media_id
    # Deleted (a tombstone) or its upload aborted (the record removed)
    primary = in_entity(world, "alice", primary=True)
    management.delete(ALICE, primary.media_id)
    assert marker not in world.records.primaries
    primary = in_entity(world, "alice", primary=True)
    world.uploads().abort(ALICE, primary.media_id)
    assert marker not in world.records.primaries
    assert world.records.primary_of("alice", "product", "p1") is None


def test_media_made_primary_after_the_deleter_read_it_is_deleted_with_its_marker(world: World) -> None:
    # Given an item of p1, read by a deleter, then made p1's primary
    item = in_entity(world, "alice")
    world.management().update(ALICE, item.media_id, MediaUpdate(is_primary=True))
    # When the deleter tombstones it from its stale read, the tombstone is refused (its primacy
    # changed), and the delete, reading again, removes the marker with it
    with pytest.raises(InvalidTransition):
        world.deleter().delete(item, "alice")
    assert world.records.primaries[("alice", "product", "p1")] == item.media_id
    world.management().delete(ALICE, item.media_id)
    assert world.stored(item.media_id).status == Status.DELETED
    assert ("alice", "product", "p1") not in world.records.primaries


def test_a_primary_from_before_the_markers_is_still_demoted(world: World) -> None:
    # Given p1's primary written before markers existed (no marker), and another item
    legacy = in_entity(world, "alice", primary=True)
    world.records.primaries.clear()
    other = in_entity(world, "alice")
    # When the other is made primary, the legacy one (found in the index) is demoted
    world.management().update(ALICE, other.media_id, MediaUpdate(is_primary=True))
    assert not world.stored(legacy.media_id).is_primary
    assert primaries_of(world, "alice") == [other.media_id]
    assert world.records.primaries[("alice", "product", "p1")] == other.media_id


# ------------------------------------------------------------------ reprocess
def test_reprocess_queues_the_pinned_original_and_the_pipeline_runs_again(world: World) -> None:
    # Given ready media, and other bytes since posted to its inbox key (never claimed)
    ready = processed(world, data=b"the checked bytes")
    world.store.seed(UPLOADS, ready.original.key, b"unchecked bytes posted later, longer")
    old_variants = sorted(v.key for v in ready.variants.values())

    # When alice asks for it to be reprocessed
    requested = world.management().reprocess(ALICE, ready.media_id)

    # Then the record carries a one-time token and the queue an ObjectCreated of the pinned version
    assert requested.reprocess_requested
    [sent] = world.queue.sent
    assert (sent.queue_url, sent.bucket, sent.key) == ("https://sqs.test/image", UPLOADS, ready.original.key)
    assert (sent.size, sent.etag) == (len(b"the checked bytes"), ready.original.etag)
    assert world.audit.actions(ready.media_id)[-1] == AuditAction.REPROCESS_REQUESTED

    # and the pipeline, given that message, processes the pinned bytes in a new run
    processor = FakeProcessor()
    assert world.pipeline().handle(sent.as_event(), Attempt(1, 3), processor).outcome == Outcome.READY
    again = world.stored(ready.media_id)
    assert processor.seen == [(ready.original.stored_key, b"the checked bytes")]
    assert again.run_id != ready.run_id and again.reprocess_requested is None
    assert again.original.stored_key == ready.original.stored_key
    assert not set(old_variants) & set(world.store.keys(MEDIA)), "the previous run's variants are removed"
    assert world.store.keys(MEDIA) == sorted(v.key for v in again.variants.values())
    assert world.store.read(UPLOADS, ready.original.stored_key or "") == b"the checked bytes"
    # and the token is spent: the same message again is a duplicate
    assert world.pipeline().handle(sent.as_event(), Attempt(1, 3), processor).outcome == Outcome.DUPLICATE


def test_reprocess_is_a_conflict_when_the_pinned_original_is_gone(world: World) -> None:
    # Given ready media whose pinned copy is gone, though the inbox key holds an object
    ready = processed(world)
    world.store.delete_keys(UPLOADS, [ready.original.stored_key or ""])
    world.store.seed(UPLOADS, ready.original.key, b"an inbox object")

    with pytest.raises(Conflict, match=r"the original of media \w+ is gone; upload it again"):
        world.management().reprocess(ALICE, ready.media_id)
    assert world.queue.sent == []
    assert world.stored(ready.media_id).reprocess_requested is None


def test_reprocess_of_media_still_processing_or_someone_elses_is_refused(world: World) -> None:
    record = world.awaiting()
    world.with_status(record, Status.PROCESSING)
    with pytest.raises(Conflict, match="only ready or failed media is reprocessed"):
        world.management().reprocess(ALICE, record.media_id)
    ready = processed(world)
    with pytest.raises(NotFound):
        world.management().reprocess(BOB, ready.media_id)
    assert world.queue.sent == []


# ------------------------------------------------------------------ moderation
def test_moderation_is_for_admins_only(world: World) -> None:
    ready = processed(world)
    decision = ModerationRequest(status="rejected", reason="not a product photo")
    for caller in (ALICE, BOB):
        with pytest.raises(Forbidden):
            world.management().moderate(caller, ready.media_id, decision)
    assert world.stored(ready.media_id).moderation == Moderation.PENDING

    moderated = world.management().moderate(ADMIN, ready.media_id, decision)

    assert (moderated.moderation, moderated.moderation_reason) == (Moderation.REJECTED, "not a product photo")
    entry = world.audit.entries(ready.media_id)[-1]
    assert (entry.action, entry.actor) == (AuditAction.MODERATED, "root-admin")
    assert entry.details == {"from": "pending", "to": "rejected", "reason": "not a product photo"}
    queue = world.records.list_moderation(Moderation.REJECTED, PageRequest(10, None))
    assert [r.media_id for r in queue.records] == [ready.media_id]
    with pytest.raises(NotFound):
        world.management().moderate(ADMIN, "0" * 32, decision)


def test_a_decision_on_media_still_processing_is_refused_and_changes_nothing(world: World) -> None:
    # Given media whose replacement is being processed (claimed: moderation reset to pending)
    processing = world.records.update(processed(world), {"status": Status.PROCESSING})
    # When an admin approves what they saw before the replacement
    with pytest.raises(Conflict, match="processing; only ready media is moderated"):
        world.management().moderate(ADMIN, processing.media_id, ModerationRequest(status="approved"))
    # Then the replacement nobody reviewed is not approved, and no decision is recorded
    assert world.stored(processing.media_id).moderation == Moderation.PENDING
    assert [e.action for e in world.audit.entries(processing.media_id)].count(AuditAction.MODERATED) == 0


def test_a_decision_for_a_version_since_replaced_is_refused(world: World) -> None:
    # Given an admin who reviewed version N, then the media changed (version N+1)
    ready = processed(world)
    reviewed = ready.version
    changed = world.records.update(ready, {"alt_text": "new bytes, same id"})
    # When the admin approves, naming the version they reviewed
    stale = ModerationRequest(status="approved", version=reviewed)
    with pytest.raises(Conflict, match=f"changed since version {reviewed}"):
        world.management().moderate(ADMIN, ready.media_id, stale)
    # Then nothing is approved; the current version's decision goes through
    assert world.stored(ready.media_id).moderation == Moderation.PENDING
    current = ModerationRequest(status="approved", version=changed.version)
    assert world.management().moderate(ADMIN, ready.media_id, current).moderation == Moderation.APPROVED


# ------------------------------------------------------------------ delete
def test_the_owner_deletes_media_with_every_object(world: World) -> None:
    ready = processed(world)
    world.duplicates.register("alice", ready.media_id, ready.original.sha256 or "", None)

    world.management().delete(ALICE, ready.media_id)

    tombstone = world.stored(ready.media_id)
    assert tombstone.status == Status.DELETED and not tombstone.purge_pending
    assert world.store.keys(UPLOADS) == [] and world.store.keys(MEDIA) == []
    assert not world.duplicates.registered(ready.media_id)
    assert world.records.counters("alice").count == 0
    assert world.records.counters("alice").total_bytes == 0
    [announced] = world.events.of_type(DetailType.DELETED)
    assert announced["media_id"] == ready.media_id and announced["status"] == "deleted"
    assert set(announced["variant_keys"]) == set(ready.variants)
    # Deleting again is answered the same way and announces nothing new
    world.management().delete(ALICE, ready.media_id)
    assert len(world.events.of_type(DetailType.DELETED)) == 1
    # and the tombstone is in no list
    assert world.records.list_owned("alice", MediaFilter(), PageRequest(10, None)).records == []


def test_another_user_cannot_delete_and_an_admin_can(world: World) -> None:
    ready = processed(world)
    with pytest.raises(NotFound):
        world.management().delete(BOB, ready.media_id)
    assert world.stored(ready.media_id).status == Status.READY
    assert world.store.keys(MEDIA)
    world.management().delete(ADMIN, ready.media_id)
    assert world.stored(ready.media_id).status == Status.DELETED


def test_batch_delete_reports_each_id(world: World) -> None:
    mine, also_mine = processed(world), world.awaiting()
    bobs = processed(world, "bob")
    unknown = "f" * 32

    outcomes = world.management().batch_delete(
        ALICE, [mine.media_id, bobs.media_id, unknown, also_mine.media_id, mine.media_id]
    )

    assert [(o.media_id, o.outcome) for o in outcomes] == [
        (mine.media_id, "deleted"),
        (bobs.media_id, "not_found"),
        (unknown, "not_found"),
        (also_mine.media_id, "deleted"),
    ]
    assert world.stored(bobs.media_id).status == Status.READY
    assert world.records.get(also_mine.media_id) is not None
    assert world.stored(also_mine.media_id).status == Status.DELETED
    assert world.records.counters("alice").count == 0 and world.records.counters("bob").count == 1
