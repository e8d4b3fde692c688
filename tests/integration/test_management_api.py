"""The management API through the local stack's gateway: PATCH (and the one primary per
entity, under concurrent switches too), delete and batch-delete (objects, record, counters;
idempotent), reprocess through the queue, moderation, and the IDOR matrix over every route."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from media_core import wiring
from media_core.api.models import MediaUpdate
from media_core.dal.clients import dynamodb_table
from media_core.dal.dynamo.keys import primary_key
from media_core.dal.dynamo.repository import MediaRepository
from media_core.domain.access import Caller
from media_core.domain.models import MediaRecord
from media_core.services.management import MediaManagement
from media_core.wiring import media_repository

from local_stack.stack import LocalStack
from tests.support.flow import deliver, queued_messages
from tests.support.local_stack import running_stack
from tests.support.media_api import awaiting, call, ready_image, sub


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


def objects(stack: LocalStack, bucket: str, media_id: str) -> list[str]:
    listing = stack.client("s3").list_objects_v2(Bucket=stack.buckets[bucket])
    return [o["Key"] for o in listing.get("Contents", []) if f"/{media_id}/" in o["Key"]]


def record(stack: LocalStack, media_id: str) -> dict[str, Any]:
    response = call(stack, "GET", f"/media/{media_id}", "root", admin=True)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestUpdate:
    def test_descriptive_fields_change_and_null_clears(self, stack: LocalStack):
        media_id = awaiting(stack, "alice", alt_text="old", caption="cap")
        response = call(
            stack,
            "PATCH",
            f"/media/{media_id}",
            json={
                "alt_text": "A red bike",
                "caption": None,
                "tags": ["bike", "red", "bike"],
                "visibility": "public",
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["alt_text"], body["caption"], body["tags"], body["visibility"]) == (
            "A red bike",
            None,
            ["bike", "red"],
            "public",
        )
        assert body["version"] == 2
        activity = call(stack, "GET", f"/media/{media_id}/activity").json()["entries"]
        assert activity[-1]["action"] == "updated"
        assert activity[-1]["details"]["fields"] == ["alt_text", "caption", "tags", "visibility"]

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"owner": "mallory"},
            {"visibility": "secret"},
            {"tags": None},
            {"tags": ["x"] * 21},
            {"entity": {"type": "Bad Type", "id": "1"}},
            {"is_primary": True},  # no entity
        ],
    )
    def test_invalid_changes_are_422(self, stack: LocalStack, body: dict[str, Any]):
        media_id = awaiting(stack, "alice")
        response = call(stack, "PATCH", f"/media/{media_id}", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["message"]

    def test_one_primary_per_entity_switched_atomically(self, stack: LocalStack):
        # Given two media of one article, the first primary
        link = {"entity": {"type": "article", "id": "a-7"}}
        first, second = awaiting(stack, "bob"), awaiting(stack, "bob")
        for media_id in (first, second):
            assert call(stack, "PATCH", f"/media/{media_id}", "bob", json=link).status_code == 200
        assert call(stack, "PATCH", f"/media/{first}", "bob", json={"is_primary": True}).json()["is_primary"]
        # When the second becomes primary
        switched = call(stack, "PATCH", f"/media/{second}", "bob", json={"is_primary": True})
        assert switched.status_code == 200 and switched.json()["is_primary"] is True
        # Then the first is not any more, and the gallery shows the second first
        assert record(stack, first)["is_primary"] is False
        gallery = call(stack, "GET", "/entities/article/a-7/media", "bob").json()["items"]
        assert [g["media_id"] for g in gallery] == [second, first]
        # And moving it to another entity drops its primary flag
        moved = call(
            stack, "PATCH", f"/media/{second}", "bob", json={"entity": {"type": "article", "id": "b"}}
        )
        assert moved.json()["is_primary"] is False and moved.json()["entity"] == {
            "type": "article",
            "id": "b",
        }


# ---------------------------------------------------------------- one primary, concurrently
class _RacingRepository(MediaRepository):
    """The repository with a hook after each `primary_of` read: what another request does between
    our read of "who is primary?" and our write (`meanwhile(reads so far, what was read)`)."""

    def __init__(self, table_name: str, meanwhile: Callable[[int, MediaRecord | None], None]) -> None:
        super().__init__(dynamodb_table(table_name))
        self.meanwhile = meanwhile
        self.reads = 0
        self._lock = threading.Lock()

    def primary_of(self, owner: str, entity_type: str, entity_id: str) -> MediaRecord | None:
        found = super().primary_of(owner, entity_type, entity_id)
        with self._lock:
            self.reads += 1
            reads = self.reads
        self.meanwhile(reads, found)
        return found


def racing(stack: LocalStack, meanwhile: Callable[[int, MediaRecord | None], None]) -> MediaManagement:
    """The management service of the stack's manage function, over a _RacingRepository."""
    repository = _RacingRepository(stack.tables["MediaTable"], meanwhile)
    return dataclasses.replace(wiring.media_management(), repository=repository)


def marker(stack: LocalStack, user: str, entity_type: str, entity_id: str) -> str | None:
    """The media id the entity's primary marker names, read from the table itself."""
    key = {k: {"S": v} for k, v in primary_key(sub(user), entity_type, entity_id).items()}
    table = stack.tables["MediaTable"]
    item = stack.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    return item["media_id"]["S"] if item else None


def primaries(stack: LocalStack, user: str, entity_type: str, entity_id: str) -> list[str]:
    gallery = call(stack, "GET", f"/entities/{entity_type}/{entity_id}/media", user).json()["items"]
    return [g["media_id"] for g in gallery if g["is_primary"]]


def as_user(user: str) -> Caller:
    return Caller(sub=sub(user), groups=frozenset())


class TestOnePrimaryUnderConcurrency:
    def test_two_first_primaries_at_once_end_with_exactly_one(self, stack: LocalStack):
        # Given two media of a listing that has no primary yet
        link = {"entity_type": "listing", "entity_id": "race-1"}
        first, second = awaiting(stack, "olga", **link), awaiting(stack, "olga", **link)
        # When both are made its primary at once: each reads "no primary" before either writes
        barrier = threading.Barrier(2)
        waited: set[int] = set()

        def both_read_first(_reads: int, _found: MediaRecord | None) -> None:
            if threading.get_ident() not in waited:  # the first read of each request only
                waited.add(threading.get_ident())
                barrier.wait(timeout=10)

        management = racing(stack, both_read_first)
        results: dict[str, Any] = {}

        def patch(media_id: str) -> None:
            try:
                results[media_id] = management.update(as_user("olga"), media_id, MediaUpdate(is_primary=True))
            except Exception as err:  # reported by the assertion below
                results[media_id] = err

        threads = [threading.Thread(target=patch, args=(m,)) for m in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        # Then both answered (the loser read the winner and switched from it), and exactly one is
        # primary, the one the marker names
        assert all(isinstance(r, MediaRecord) and r.is_primary for r in results.values()), results
        [primary] = primaries(stack, "olga", "listing", "race-1")
        assert marker(stack, "olga", "listing", "race-1") == primary
        demoted = first if primary == second else second
        assert record(stack, demoted)["is_primary"] is False
        trail = call(stack, "GET", f"/media/{demoted}/activity", "olga").json()["entries"]
        assert trail[-1]["details"] == {"fields": ["is_primary"], "by": primary}
        # And a later switch leaves one primary again: the third
        third = awaiting(stack, "olga", **link)
        assert call(stack, "PATCH", f"/media/{third}", "olga", json={"is_primary": True}).ok
        assert primaries(stack, "olga", "listing", "race-1") == [third]
        assert marker(stack, "olga", "listing", "race-1") == third

    def test_a_stale_demotion_never_strips_the_primary_of_another_entity(self, stack: LocalStack):
        # Given pia's primary of listing/s-1 and another of its media
        link = {"entity_type": "listing", "entity_id": "s-1"}
        moved, other = awaiting(stack, "pia", **link), awaiting(stack, "pia", **link)
        assert call(stack, "PATCH", f"/media/{moved}", "pia", json={"is_primary": True}).ok

        # When the other is made primary, and after it read who is primary, that one moves to
        # listing/s-2 as its primary
        def move_it(reads: int, found: MediaRecord | None) -> None:
            if reads == 1:
                assert found is not None and found.media_id == moved
                body = {"entity": {"type": "listing", "id": "s-2"}, "is_primary": True}
                assert call(stack, "PATCH", f"/media/{moved}", "pia", json=body).ok

        switched = racing(stack, move_it).update(as_user("pia"), other, MediaUpdate(is_primary=True))
        # Then the moved one stays the primary of s-2 (the demotion was for s-1), and the other
        # is the primary of s-1
        assert switched.is_primary
        assert record(stack, moved)["is_primary"] is True
        assert primaries(stack, "pia", "listing", "s-2") == [moved]
        assert primaries(stack, "pia", "listing", "s-1") == [other]
        assert marker(stack, "pia", "listing", "s-1") == other
        assert marker(stack, "pia", "listing", "s-2") == moved

    def test_unlinking_the_primary_during_a_switch_leaves_the_new_one_primary(self, stack: LocalStack):
        # Given quinn's primary of listing/u-1 and another of its media
        link = {"entity_type": "listing", "entity_id": "u-1"}
        unlinked, other = awaiting(stack, "quinn", **link), awaiting(stack, "quinn", **link)
        assert call(stack, "PATCH", f"/media/{unlinked}", "quinn", json={"is_primary": True}).ok

        # When the other is made primary, and after it read who is primary, that one is unlinked
        def unlink_it(reads: int, _found: MediaRecord | None) -> None:
            if reads == 1:
                assert call(stack, "PATCH", f"/media/{unlinked}", "quinn", json={"entity": None}).ok

        switched = racing(stack, unlink_it).update(as_user("quinn"), other, MediaUpdate(is_primary=True))
        # Then the switch succeeded (read again, nothing left to demote), and only it is primary
        assert switched.is_primary  # (it was a 409: the demotion of the unlinked one failed)
        assert primaries(stack, "quinn", "listing", "u-1") == [other]
        assert marker(stack, "quinn", "listing", "u-1") == other
        assert (record(stack, unlinked)["is_primary"], record(stack, unlinked)["entity"]) == (False, None)
        # And unlinking the primary, or moving it away, clears the marker
        assert call(stack, "PATCH", f"/media/{other}", "quinn", json={"entity": None}).ok
        assert marker(stack, "quinn", "listing", "u-1") is None
        assert primaries(stack, "quinn", "listing", "u-1") == []

    def test_deleting_the_primary_during_a_switch_touches_no_tombstone(self, stack: LocalStack):
        # Given rita's primary of listing/d-1 and another of its media
        link = {"entity_type": "listing", "entity_id": "d-1"}
        deleted, other = awaiting(stack, "rita", **link), awaiting(stack, "rita", **link)
        assert call(stack, "PATCH", f"/media/{deleted}", "rita", json={"is_primary": True}).ok

        # When the other is made primary, and after it read who is primary, that one is deleted
        def delete_it(reads: int, _found: MediaRecord | None) -> None:
            if reads == 1:
                assert call(stack, "DELETE", f"/media/{deleted}", "rita").status_code == 204

        switched = racing(stack, delete_it).update(as_user("rita"), other, MediaUpdate(is_primary=True))
        # Then the switch succeeded without "demoting" the deleted record: its trail ends with
        # its deletion, and the marker names the new primary
        trail = call(stack, "GET", f"/media/{deleted}/activity", "rita").json()["entries"]
        assert trail[-1]["action"] == "deleted"  # (it was "updated": the tombstone was "demoted")
        assert switched.is_primary
        assert primaries(stack, "rita", "listing", "d-1") == [other]
        assert marker(stack, "rita", "listing", "d-1") == other
        # And deleting the primary (or aborting its upload) clears the marker
        assert call(stack, "DELETE", f"/media/{other}", "rita").status_code == 204
        assert marker(stack, "rita", "listing", "d-1") is None
        aborted = awaiting(stack, "rita", **link)
        assert call(stack, "PATCH", f"/media/{aborted}", "rita", json={"is_primary": True}).ok
        assert marker(stack, "rita", "listing", "d-1") == aborted
        assert call(stack, "DELETE", f"/uploads/{aborted}", "rita").status_code == 204
        assert marker(stack, "rita", "listing", "d-1") is None


class TestDelete:
    def test_delete_removes_original_variants_duplicates_and_record_and_repeats_harmlessly(
        self, stack: LocalStack
    ):
        # Given carol's ready image (original, variants, duplicate-index entries)
        media_id = ready_image(stack, "carol", seed=11)
        assert objects(stack, "UploadsBucket", media_id) and objects(stack, "MediaBucket", media_id)
        table = stack.client("dynamodb")
        before = call(stack, "GET", "/media/stats", "carol").json()
        # When she deletes it
        assert call(stack, "DELETE", f"/media/{media_id}", "carol").status_code == 204
        # Then every object, the index entries and the record are gone
        assert objects(stack, "UploadsBucket", media_id) == []
        assert objects(stack, "MediaBucket", media_id) == []
        dup_items = table.scan(
            TableName=stack.tables["MediaTable"],
            FilterExpression="sk = :id",
            ExpressionAttributeValues={":id": {"S": media_id}},
        )["Items"]
        assert dup_items == []
        assert call(stack, "GET", f"/media/{media_id}", "carol").status_code == 404
        assert call(stack, "GET", "/media", "carol").json()["items"] == []
        after = call(stack, "GET", "/media/stats", "carol").json()
        assert after["count"] == before["count"] - 1 and after["total_bytes"] == 0
        # And deleting again is still 204 for her, 404 for anyone else; counters unchanged
        assert call(stack, "DELETE", f"/media/{media_id}", "carol").status_code == 204
        assert call(stack, "DELETE", f"/media/{media_id}", "dave").status_code == 404
        assert call(stack, "GET", "/media/stats", "carol").json() == after
        # The audit trail keeps the deletion, with its actor
        trail = call(stack, "GET", f"/media/{media_id}/activity", "carol").json()["entries"]
        assert (trail[-1]["action"], trail[-1]["actor"]) == ("deleted", sub("carol"))

    def test_batch_delete_reports_each_id(self, stack: LocalStack):
        mine = [awaiting(stack, "erin") for _ in range(3)]
        theirs = awaiting(stack, "frank")
        unknown = "f" * 32
        response = call(stack, "POST", "/media/batch-delete", "erin", json={"ids": [*mine, theirs, unknown]})
        assert response.status_code == 200, response.text
        assert response.json()["results"] == [
            *({"media_id": m, "outcome": "deleted"} for m in mine),
            {"media_id": theirs, "outcome": "not_found"},
            {"media_id": unknown, "outcome": "not_found"},
        ]
        assert record(stack, theirs)["status"] == "awaiting_upload"
        assert call(stack, "GET", "/media/stats", "erin").json()["count"] == 0

    @pytest.mark.parametrize("ids", [[], ["a" * 32] * 101, ["nope"]])
    def test_batch_delete_limits(self, stack: LocalStack, ids: list[str]):
        assert call(stack, "POST", "/media/batch-delete", "erin", json={"ids": ids}).status_code == 422


class TestReprocess:
    def test_reprocess_runs_the_processor_again_once(self, stack: LocalStack):
        # Given grace's ready image
        media_id = ready_image(stack, "grace", seed=21)
        first = media_repository(stack.tables["MediaTable"]).get(media_id)
        assert first is not None
        # When she asks for a reprocess
        response = call(stack, "POST", f"/media/{media_id}/reprocess", "grace")
        assert response.status_code == 202, response.text
        assert response.json() == {"media_id": media_id, "status": "ready", "reprocess": "queued"}
        # Then the image queue holds an S3-shaped message for the original
        messages = queued_messages(stack, "ImageQueue", 1)
        # And delivering it (twice: at least once delivery) makes exactly one new run
        assert deliver(stack, "ImageQueue", "ImageFunction", messages * 2) == {"batchItemFailures": []}
        again = media_repository(stack.tables["MediaTable"]).get(media_id)
        assert again is not None
        assert again.status.value == "ready" and again.run_id != first.run_id
        assert again.reprocess_requested is None
        keys = objects(stack, "MediaBucket", media_id)
        assert keys and all(f"/{again.run_id}/" in k for k in keys)  # the old run's variants are gone
        actions = [
            e["action"] for e in call(stack, "GET", f"/media/{media_id}/activity", "grace").json()["entries"]
        ]
        assert actions == ["uploaded", "processed", "reprocess_requested", "processed"]

    def test_only_settled_media_is_reprocessed(self, stack: LocalStack):
        media_id = awaiting(stack, "grace")
        response = call(stack, "POST", f"/media/{media_id}/reprocess", "grace")
        assert response.status_code == 409 and "awaiting_upload" in response.json()["message"]


class TestModeration:
    def test_admins_moderate_and_rejected_media_is_hidden_from_everyone_else(self, stack: LocalStack):
        # Given heidi's public media, processed and pending moderation: others do not see it yet
        # (pre-moderation); a decision is about content an admin saw, so only ready media has one
        media_id = ready_image(stack, "heidi", seed=41, visibility="public")
        pending = call(stack, "GET", "/admin/media?moderation=pending&page_size=100", "root", admin=True)
        assert media_id in [i["media_id"] for i in pending.json()["items"]]
        assert call(stack, "GET", f"/media/{media_id}", "ivan").status_code == 404
        # Only admins moderate; an illegal status is 422
        body = {"status": "rejected", "reason": "spam"}
        assert (
            call(stack, "PATCH", f"/admin/media/{media_id}/moderation", "heidi", json=body).status_code == 403
        )
        bad = call(
            stack, "PATCH", f"/admin/media/{media_id}/moderation", "root", True, json={"status": "pending"}
        )
        assert bad.status_code == 422
        assert call(stack, "GET", "/admin/media", "heidi").status_code == 403
        # When an admin rejects it
        rejected = call(stack, "PATCH", f"/admin/media/{media_id}/moderation", "root", True, json=body)
        assert rejected.status_code == 200, rejected.text
        assert (rejected.json()["moderation"], rejected.json()["moderation_reason"]) == ("rejected", "spam")
        # Then only its owner and admins see it; it left the pending queue for the rejected one
        assert call(stack, "GET", f"/media/{media_id}", "ivan").status_code == 404
        assert call(stack, "GET", f"/media/{media_id}", "heidi").status_code == 200
        queue = call(
            stack, "GET", "/admin/media?moderation=rejected&page_size=100", "root", admin=True
        ).json()
        assert media_id in [i["media_id"] for i in queue["items"]]
        trail = call(stack, "GET", f"/media/{media_id}/activity", "heidi").json()["entries"]
        assert trail[-1]["action"] == "moderated" and trail[-1]["details"]["to"] == "rejected"


# ---------------------------------------------------------------- IDOR matrix
READ_ROUTES = [("GET", "/media/{id}", 200)]
OWNER_ROUTES = [
    ("GET", "/media/{id}/download", 302),  # the original: owner and admins only, even when public
    ("GET", "/media/{id}/activity", 200),
    ("PATCH", "/media/{id}", 200),
    ("POST", "/media/{id}/reprocess", 202),
    ("DELETE", "/media/{id}", 204),  # last: it removes the record
]
BODIES = {"PATCH": {"caption": "changed"}}


@pytest.fixture(scope="module")
def idor_media(stack: LocalStack) -> dict[str, str]:
    """One ready image per visibility case, all mallet's (reprocess needs settled media)."""
    media = {
        "private": ready_image(stack, "mallet", seed=31),
        "public": ready_image(stack, "mallet", seed=32, visibility="public"),
        "rejected": ready_image(stack, "mallet", seed=33, visibility="public"),
    }
    rejected = call(
        stack,
        "PATCH",
        f"/admin/media/{media['rejected']}/moderation",
        "root",
        True,
        json={"status": "rejected"},
    )
    assert rejected.status_code == 200
    # Pre-moderation (the default): others see public media only once it is approved
    approved = call(
        stack,
        "PATCH",
        f"/admin/media/{media['public']}/moderation",
        "root",
        True,
        json={"status": "approved"},
    )
    assert approved.status_code == 200
    return media


def expected_status(route_status: int, who: str, case: str, owner_only: bool) -> int:
    if who in ("owner", "admin"):
        return route_status
    if owner_only or case in ("private", "rejected"):
        return 404
    return route_status


@pytest.mark.parametrize("case", ["private", "public", "rejected"])
def test_idor_matrix(stack: LocalStack, idor_media: dict[str, str], case: str):
    media_id = idor_media[case]
    callers = {"other": ("oscar", False), "admin": ("root", True), "owner": ("mallet", False)}
    seen: list[tuple[str, str, str, int, int]] = []
    for routes, owner_only in ((READ_ROUTES, False), (OWNER_ROUTES, True)):
        for method, template, status in routes:
            for who in ("other", "admin", "owner"):  # the owner last: DELETE must run last
                if method == "DELETE" and who == "admin":
                    continue  # the owner deletes; an admin's delete is covered by the 404 check below
                user, admin = callers[who]
                path = template.format(id=media_id)
                response = call(stack, method, path, user, admin, json=BODIES.get(method))
                want = expected_status(status, who, case, owner_only)
                seen.append((method, template, who, response.status_code, want))
                if want == 404:
                    # never the data, never a hint: the answer an id that never existed gets
                    assert response.json() == {"error": "not_found", "message": f"media {media_id} not found"}
                if method == "POST" and response.status_code == 202:
                    deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
    assert [s[3] for s in seen] == [s[4] for s in seen], seen
    # After the owner's delete, everyone gets 404 on the read routes
    for user, admin in callers.values():
        assert call(stack, "GET", f"/media/{media_id}", user, admin).status_code == 404


def test_every_route_needs_a_token(stack: LocalStack):
    for method, path in [
        ("GET", "/media"),
        ("GET", "/media/stats"),
        ("PATCH", f"/media/{'a' * 32}"),
        ("DELETE", f"/media/{'a' * 32}"),
        ("POST", "/media/batch-delete"),
        ("POST", f"/media/{'a' * 32}/reprocess"),
        ("PATCH", f"/admin/media/{'a' * 32}/moderation"),
        ("GET", "/admin/media"),
    ]:
        assert requests.request(method, f"{stack.api_url}{path}", timeout=30).status_code == 401
