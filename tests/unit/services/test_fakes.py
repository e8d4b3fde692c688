"""The fakes keep the ports' contracts: each one has every method of its Protocol with the same
signature and types, and the record and object fakes refuse what DynamoDB and S3 refuse.
(`make lint` also runs mypy on tests/unit/fakes.py, whose `_conformance` assigns each fake to its
Protocol.)"""

from __future__ import annotations

import inspect
import typing
from datetime import timedelta

import pytest
from media_core import ports
from media_core.domain.errors import Conflict, InvalidRequest, InvalidTransition
from media_core.domain.guards import RecordGuard
from media_core.domain.models import Moderation, Status, Variant, utc_now
from media_core.domain.paging import MediaFilter, PageRequest
from media_core.domain.transfers import StorageError, UrlTarget
from media_core.domain.transitions import Transition
from media_core.services.outbox_relay import OutboxRelay

from tests.unit import fakes
from tests.unit.services.conftest import UPLOADS, World

PAIRS = [
    (ports.MediaRecords, fakes.FakeMediaRecords),
    (ports.RecordsByStatus, fakes.FakeMediaRecords),
    (ports.ObjectStorage, fakes.FakeObjectStorage),
    (ports.AuditTrail, fakes.FakeAuditTrail),
    (ports.EventPublisher, fakes.FakeEventPublisher),
    (ports.DuplicateFinder, fakes.FakeDuplicateFinder),
    (ports.WorkSubmitter, fakes.FakeWorkSubmitter),
    (ports.UsageMeter, fakes.FakeUsageMeter),
    (ports.EventBus, fakes.FakeEventPublisher),
    (ports.Outbox, fakes.FakeOutbox),
    (ports.WorkflowRuns, fakes.FakeWorkflowRuns),
    (ports.OutboxFlush, OutboxRelay),
    (ports.DeliveryUrlSource, fakes.FakeDeliveryUrls),
    (ports.Invalidator, fakes.FakeInvalidator),  # the real relay over the fakes: nothing to fake
]


def _protocol_methods(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")]


@pytest.mark.parametrize(("protocol", "fake"), PAIRS, ids=lambda p: p.__name__)
def test_each_fake_has_its_protocols_methods_with_the_same_signature_and_types(
    protocol: type, fake: type
) -> None:
    methods = _protocol_methods(protocol)
    assert methods, f"{protocol.__name__} declares no methods?"
    for name in methods:
        wanted, actual = getattr(protocol, name), getattr(fake, name, None)
        assert callable(actual), f"{fake.__name__} lacks {name}"
        assert inspect.signature(actual) == inspect.signature(wanted), f"{fake.__name__}.{name}"
        assert typing.get_type_hints(actual) == typing.get_type_hints(wanted), f"{fake.__name__}.{name}"


def test_every_protocol_of_the_ports_has_a_fake() -> None:
    declared = {
        name
        for name, value in vars(ports).items()
        if isinstance(value, type)
        and getattr(value, "_is_protocol", False)
        and value.__module__ == ports.__name__
    }
    assert declared == {protocol.__name__ for protocol, _ in PAIRS}


# ------------------------------------------------------------------ records
def test_the_state_machine_and_the_stored_state_guard_every_transition(world: World) -> None:
    record = world.awaiting()
    with pytest.raises(InvalidTransition, match="cannot move media from awaiting_upload to ready"):
        world.records.transition(record, Transition(Status.READY))
    processing = world.records.transition(record, Transition(Status.PROCESSING))
    assert processing.version == record.version + 1
    # a write computed from a stale read loses
    with pytest.raises(InvalidTransition, match="no longer in state awaiting_upload"):
        world.records.transition(record, Transition(Status.FAILED))
    # `expected` must include the record's own status
    with pytest.raises(InvalidTransition):
        world.records.transition(processing, Transition(Status.FAILED, expected=[Status.AWAITING_UPLOAD]))
    counters = world.records.counters("alice")
    assert counters.by_status[Status.PROCESSING] == 1 and counters.count == 1


def test_guards_hold_on_the_stored_record(world: World) -> None:
    record = world.awaiting()
    original = record.original.model_copy(update={"etag": "e1"})
    claimed = world.records.transition(
        record, Transition(Status.PROCESSING, changes={"run_id": "r1", "original": original})
    )
    refused = [
        RecordGuard(run_id="r2"),
        RecordGuard(etag="e2"),
        RecordGuard(etag_not="e1"),
        RecordGuard(version_id="v1"),
        RecordGuard(reprocess_token="t"),
    ]
    for guard in refused:
        with pytest.raises(InvalidTransition):
            world.records.transition(claimed, Transition(Status.FAILED, guard=guard))
    assert world.stored(record.media_id).status == Status.PROCESSING
    held = RecordGuard(run_id="r1", etag="e1", etag_not="e0", version_id_not="v1")
    assert world.records.transition(claimed, Transition(Status.FAILED, guard=held)).status == Status.FAILED


def test_counters_move_with_the_record_and_a_ready_record_counts_its_bytes(world: World) -> None:
    record = world.awaiting(size=100)
    processing = world.records.transition(record, Transition(Status.PROCESSING))
    variant = Variant(key="media/alice/x/r/thumb.webp", content_type="image/webp", bytes=10)
    ready = world.records.transition(
        processing, Transition(Status.READY, changes={"variants": {"thumb": variant}})
    )
    assert world.records.counters("alice").total_bytes == 110
    assert world.records.counters(None).total_bytes == 110
    # a ready record read before its bytes changed may not be re-stated
    grown = ready.model_copy(update={"variants": {}})
    with pytest.raises(InvalidTransition):
        world.records.transition(grown, Transition(Status.PROCESSING))
    world.records.tombstone(ready, 123)
    assert world.records.counters("alice").count == 0 and world.records.counters("alice").total_bytes == 0
    assert world.records.counters(None).by_status[Status.READY] == 0


def test_a_tombstone_leaves_every_list_and_is_purged_once(world: World) -> None:
    record = world.awaiting()
    tombstone = world.records.tombstone(record, 999)
    assert tombstone.status == Status.DELETED and tombstone.purge_pending
    assert world.records.expires_at(record.media_id) == 999
    assert world.records.list_owned("alice", MediaFilter(), PageRequest(10, None)).records == []
    assert world.records.list_moderation(Moderation.PENDING, PageRequest(10, None)).records == []
    later = utc_now() + timedelta(seconds=1)
    assert [r.media_id for r in world.records.changed_before(Status.DELETED, later)] == [record.media_id]
    with pytest.raises(InvalidTransition):
        world.records.tombstone(tombstone, 999)
    with pytest.raises(Conflict):
        world.records.update(world.stored(record.media_id), {"caption": "x"})
    assert world.records.purged(tombstone) is True
    assert world.records.purged(tombstone) is False
    assert list(world.records.changed_before(Status.DELETED, later)) == []


def test_a_transition_clears_the_expiry_unless_told_not_to(world: World) -> None:
    record = world.awaiting()
    world.records.items[record.media_id].expires_at = 5
    kept = world.records.transition(record, Transition(Status.FAILED, clear_expiry=False))
    assert world.records.expires_at(record.media_id) == 5
    world.records.transition(kept, Transition(Status.PROCESSING))
    assert world.records.expires_at(record.media_id) is None


def test_creating_an_existing_id_is_a_conflict_and_delete_is_conditional(world: World) -> None:
    record = world.awaiting()
    with pytest.raises(Conflict, match="exists already"):
        world.records.create(record)
    world.records.transition(record, Transition(Status.PROCESSING))
    with pytest.raises(InvalidTransition):
        world.records.delete(record, expected=[Status.AWAITING_UPLOAD])
    assert world.records.get(record.media_id) is not None


def test_lists_page_with_positions_and_refuse_foreign_ones(world: World) -> None:
    now = utc_now()
    made = [
        world.awaiting(at=now + timedelta(seconds=n), tags=["even"] if n % 2 == 0 else []) for n in range(7)
    ]
    world.awaiting("bob")
    newest_first = [r.media_id for r in reversed(made)]
    seen, after = [], None
    while True:
        page = world.records.list_owned("alice", MediaFilter(), PageRequest(3, after))
        seen.extend(r.media_id for r in page.records)
        if page.next_position is None:
            break
        after = page.next_position
    assert seen == newest_first
    # a filtered page may hold fewer records while the position is still right
    tagged = world.records.list_owned("alice", MediaFilter(tag="even"), PageRequest(2, None))
    assert [r.media_id for r in tagged.records] == [made[6].media_id, made[4].media_id]
    rest = world.records.list_owned("alice", MediaFilter(tag="even"), PageRequest(2, tagged.next_position))
    assert [r.media_id for r in rest.records] == [made[2].media_id, made[0].media_id]
    # a position of another owner's partition is refused
    bobs_position = {**(tagged.next_position or {}), "owner_pk": "OWNER#bob"}
    with pytest.raises(InvalidRequest) as refused:
        world.records.list_owned("alice", MediaFilter(), PageRequest(2, bobs_position))
    assert refused.value.field == "cursor"


# ------------------------------------------------------------------ objects
def test_objects_have_md5_etags_and_copies_are_conditional(world: World) -> None:
    store = world.store
    etag = store.seed(UPLOADS, "uploads/a", b"hello")
    assert etag == "5d41402abc4b2a76b9719d911017c592"
    copied = store.copy(UPLOADS, "uploads/a", "originals/a", if_match=etag)
    assert (copied.size, copied.etag) == (5, etag)
    assert store.objects[(UPLOADS, "originals/a")].tags == {"media-state": "claimed"}
    store.seed(UPLOADS, "uploads/a", b"other")
    with pytest.raises(StorageError) as refused:
        store.copy(UPLOADS, "uploads/a", "originals/b", if_match=etag)
    assert refused.value.code == "PreconditionFailed"
    with pytest.raises(StorageError) as missing:
        store.copy(UPLOADS, "uploads/none", "originals/c")
    assert missing.value.code == "NoSuchKey"
    assert store.delete_prefix(UPLOADS, "originals/") == 1
    assert store.keys(UPLOADS) == ["uploads/a"]


def test_multipart_needs_ordered_known_parts_of_at_least_5_mib_but_the_last(world: World) -> None:
    store = world.store
    upload_id = store.start_multipart(UPLOADS, "uploads/m", content_type="video/mp4")
    urls = store.sign_parts(UPLOADS, "uploads/m", upload_id, [(1, 3), (2, 3)], expires_in=60)
    etags = [store.put_part(u.url, b"abc") for u in urls]
    with pytest.raises(StorageError) as small:
        store.complete_multipart(UPLOADS, "uploads/m", upload_id, list(enumerate(etags, start=1)))
    assert small.value.code == "EntityTooSmall"
    with pytest.raises(StorageError) as order:
        store.complete_multipart(UPLOADS, "uploads/m", upload_id, [(2, etags[1]), (1, etags[0])])
    assert order.value.code == "InvalidPartOrder"
    with pytest.raises(StorageError) as wrong:
        store.complete_multipart(UPLOADS, "uploads/m", upload_id, [(1, "0" * 32)])
    assert wrong.value.code == "InvalidPart"
    store.complete_multipart(UPLOADS, "uploads/m", upload_id, [(2, f'"{etags[1]}"')])
    assert store.read(UPLOADS, "uploads/m") == b"abc"
    with pytest.raises(StorageError) as gone:
        store.list_parts(UPLOADS, "uploads/m", upload_id)
    assert gone.value.code == "NoSuchUpload"
    store.abort_multipart(UPLOADS, "uploads/m", upload_id)  # a gone upload: no error, as S3


def test_presigned_urls_are_opaque_and_signed(world: World) -> None:
    store = world.store
    store.seed(UPLOADS, "originals/x.png", b"png")
    url = store.presigned_get(UrlTarget(UPLOADS, "originals/x.png", download_name="x.png"), expires_in=60)
    assert "X-Amz-Signature=" in url and store.get_url(url) == b"png"
    with pytest.raises(StorageError):
        store.get_url(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))


def test_a_versioned_store_keeps_every_version_readable_by_its_id() -> None:
    store = fakes.FakeObjectStorage(versioned=True)
    store.put(UPLOADS, "k", b"one", content_type="text/plain")
    first = store.head(UPLOADS, "k")
    store.put(UPLOADS, "k", b"two", content_type="text/plain")
    assert first is not None and first.version_id is not None
    assert store.read(UPLOADS, "k") == b"two"
    assert store.read(UPLOADS, "k", first.version_id) == b"one"
    store.delete_keys(UPLOADS, ["k"])
    assert store.head(UPLOADS, "k") is None and store.head(UPLOADS, "k", first.version_id) is not None
