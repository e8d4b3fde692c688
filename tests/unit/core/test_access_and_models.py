"""Caller identity from claims, ownership, and the status state machine."""

import pytest
from media_core.domain.access import Caller, caller_from_claims, owned_record, parse_groups
from media_core.domain.errors import NotFound, Unauthorized
from media_core.domain.models import ALLOWED_TRANSITIONS, Kind, MediaRecord, Original, Status


def record(owner: str = "alice", status: Status = Status.READY) -> MediaRecord:
    return MediaRecord(
        media_id="a" * 32,
        owner=owner,
        kind=Kind.IMAGE,
        status=status,
        original=Original(key="k", filename="f.jpg", content_type="image/jpeg", size=1),
    )


@pytest.mark.parametrize(
    ("raw", "groups"),
    [
        (None, set()),
        ("", set()),
        ("admin", {"admin"}),
        ("admin,editors", {"admin", "editors"}),
        ("[admin, editors]", {"admin", "editors"}),
        ("[admin editors]", {"admin", "editors"}),
        ('["admin","editors"]', {"admin", "editors"}),
        (["admin"], {"admin"}),
    ],
)
def test_groups_claim_in_every_shape_api_gateway_sends(raw, groups):
    assert parse_groups(raw) == groups


def test_caller_is_the_sub_claim_and_admin_by_group():
    caller = caller_from_claims({"sub": "u-1", "cognito:groups": "admin"})
    assert caller.sub == "u-1" and caller.is_admin
    assert not caller_from_claims({"sub": "u-2"}).is_admin


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"email": "x@y"}, {"sub": "../x"}])
def test_no_usable_identity_is_unauthorized(claims):
    with pytest.raises(Unauthorized):
        caller_from_claims(claims)


def test_owner_and_admin_see_the_record_others_get_not_found():
    alice, bob, admin = (
        Caller("alice", frozenset()),
        Caller("bob", frozenset()),
        Caller("root", frozenset({"admin"})),
    )
    assert owned_record(alice, record(), "a" * 32).owner == "alice"
    assert owned_record(admin, record(), "a" * 32).owner == "alice"
    with pytest.raises(NotFound, match="not found"):
        owned_record(bob, record(), "a" * 32)
    with pytest.raises(NotFound):
        owned_record(alice, None, "a" * 32)
    with pytest.raises(NotFound):
        owned_record(alice, record(status=Status.DELETED), "a" * 32)


def test_state_machine_shape():
    assert ALLOWED_TRANSITIONS[Status.AWAITING_UPLOAD] >= {Status.PROCESSING}
    assert ALLOWED_TRANSITIONS[Status.PROCESSING] >= {Status.READY, Status.FAILED}
    assert Status.READY not in ALLOWED_TRANSITIONS[Status.AWAITING_UPLOAD]
    assert not ALLOWED_TRANSITIONS[Status.DELETED]
