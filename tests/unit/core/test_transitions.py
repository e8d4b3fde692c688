"""Transition: the state-machine rules both MediaRecords implementations (DynamoDB and the fake)
take from it: allowed moves, the expected states, the error when the record moved on, the new
record."""

from __future__ import annotations

import pytest
from media_core.domain.errors import InvalidTransition
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
