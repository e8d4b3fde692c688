"""Transition and RecordGuard: the rules both MediaRecords implementations (DynamoDB and the fake)
take from them: allowed moves, the expected states, the error when the record moved on, the new
record; the preconditions a guard sets."""

from __future__ import annotations

import pytest
from media_core.dal.dynamo.expressions import Expression
from media_core.domain.errors import InvalidTransition
from media_core.domain.guards import Condition, RecordGuard
from media_core.domain.models import Kind, MediaRecord, Original, Status
from media_core.domain.transitions import Transition


def record(status: Status = Status.PROCESSING) -> MediaRecord:
    return MediaRecord(
        media_id="a" * 32,
        owner="alice",
        kind=Kind.IMAGE,
        status=status,
        original=Original(key="k", filename="f.jpg", content_type="image/jpeg", size=1),
    )


def test_the_expected_states_default_to_the_records_own() -> None:
    assert Transition(Status.READY).expected_of(record()) == {Status.PROCESSING}
    claim = Transition(Status.PROCESSING, expected=[Status.AWAITING_UPLOAD, Status.FAILED])
    assert claim.expected_of(record()) == {Status.AWAITING_UPLOAD, Status.FAILED}


def test_a_move_the_state_machine_forbids_is_refused() -> None:
    with pytest.raises(InvalidTransition, match=r"^cannot move media from ready to failed$"):
        Transition(Status.FAILED).check(record(Status.READY))
    with pytest.raises(InvalidTransition, match=r"^cannot move media from deleted to processing$"):
        Transition(Status.PROCESSING, expected=[Status.DELETED]).check(record(Status.DELETED))


def test_a_record_in_none_of_the_expected_states_has_moved_on() -> None:
    change = Transition(Status.PROCESSING, expected=[Status.FAILED, Status.AWAITING_UPLOAD])
    message = f"^media {'a' * 32} is no longer in state awaiting_upload or failed$"
    with pytest.raises(InvalidTransition, match=message):
        change.check(record(Status.READY))
    assert str(change.lost(record(Status.READY))) == message.strip("^$")
    change.check(record(Status.FAILED))  # allowed, and in an expected state: no error


def test_applied_sets_the_status_the_changes_and_a_newer_timestamp() -> None:
    before = record()
    after = Transition(Status.FAILED, changes={"failure_reason": "bad"}).applied(before)
    assert (after.status, after.failure_reason) == (Status.FAILED, "bad")
    assert after.updated_at >= before.updated_at
    assert (before.status, before.failure_reason) == (Status.PROCESSING, None)  # a copy
    assert after.version == before.version  # the store bumps it when it writes


# ---------------------------------------------------------------------------------- guards


def test_a_guard_lists_only_what_it_sets_in_a_fixed_order() -> None:
    assert RecordGuard().conditions() == []
    guard = RecordGuard(reprocess_token="t", etag_not="e0", run_id="r1", version_id="v1")
    assert guard.conditions() == [
        Condition("run_id", "r1", True),
        Condition("original.etag", "e0", False),
        Condition("original.version_id", "v1", True),
        Condition("reprocess_requested", "t", True),
    ]


def test_the_data_layer_writes_one_clause_per_guard_condition() -> None:
    expression = Expression()
    expression.guarded(RecordGuard(run_id="r1", version_id_not="v0"))
    assert expression.condition_expression() == (
        "#n0 = :v0 AND (attribute_not_exists(#n1.#n2) OR #n1.#n2 <> :v1)"
    )
    assert expression.names == {"#n0": "run_id", "#n1": "original", "#n2": "version_id"}
    assert expression.values == {":v0": "r1", ":v1": "v0"}
    unguarded = Expression()
    unguarded.guarded(None)
    assert unguarded.conditions == []
