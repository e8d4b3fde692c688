"""The query API through the local stack's gateway: lists with every filter and cursor
pagination, galleries, O(1) counters (exact under concurrent changes), downloads, the audit
trail, the error answers and the served OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from media_core.domain.errors import InvalidTransition
from media_core.domain.models import Status
from media_core.domain.transitions import Transition
from media_core.wiring import media_repository
from openapi_spec_validator import validate

from local_stack.paths import REPO_ROOT
from local_stack.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.media_api import awaiting, call, ready_image, sub


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False) as running:
        yield running


def all_pages(stack: LocalStack, user: str, query: str, page_size: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        params = f"{query}&page_size={page_size}" + (f"&cursor={cursor}" if cursor else "")
        response = call(stack, "GET", f"/media?{params}", user)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next"]
        if cursor is None:
            return pages


class TestListing:
    def test_pagination_walks_every_record_newest_first_without_duplicates_or_gaps(self, stack: LocalStack):
        # Given 23 records of carol's, and some of dave's
        created = [awaiting(stack, "carol", f"file {i}.pdf") for i in range(23)]
        awaiting(stack, "dave")
        # When she pages through her media 5 at a time
        pages = all_pages(stack, "carol", "x=1", 5)
        # Then she sees exactly her 23, newest first, in 5 pages of 5, 5, 5, 5, 3
        assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
        ids = [item["media_id"] for page in pages for item in page]
        assert ids == list(reversed(created))
        stamps = [item["created_at"] for page in pages for item in page]
        assert stamps == sorted(stamps, reverse=True)

    def test_every_filter_narrows_the_list_and_pages_stay_exact(self, stack: LocalStack):
        # Given erin's media of several kinds, tags, entities and states
        tagged = [awaiting(stack, "erin", f"t{i}.pdf", tags=["red"]) for i in range(7)]
        linked = awaiting(stack, "erin", "l.pdf", entity_type="product", entity_id="p-1")
        other_product = awaiting(stack, "erin", "o.pdf", entity_type="product", entity_id="p-2")
        same_id = awaiting(stack, "erin", "s.pdf", entity_type="article", entity_id="p-1")
        image = ready_image(stack, "erin", seed=3)
        plain = awaiting(stack, "erin", "plain.pdf")

        def ids(query: str, page_size: int = 3) -> list[str]:
            return [i["media_id"] for p in all_pages(stack, "erin", query, page_size) for i in p]

        # Then each filter returns exactly its records, across pages of a filtered query
        assert ids("tag=red") == list(reversed(tagged))
        assert ids("kind=image") == [image]
        assert set(ids("kind=document")) == {*tagged, linked, other_product, same_id, plain}
        assert ids("status=ready") == [image]
        assert set(ids("status=awaiting_upload")) == {*tagged, linked, other_product, same_id, plain}
        assert ids("entity_type=product&entity_id=p-1") == [linked]
        # each half of the entity filter narrows on its own
        assert ids("entity_type=product") == [other_product, linked]
        assert ids("entity_id=p-1") == [same_id, linked]
        assert len(ids("moderation=pending", 100)) == 12
        assert ids("moderation=approved") == []
        assert ids("tag=red&kind=image") == []

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("page_size=0", "page_size"),
            ("page_size=101", "page_size"),
            ("page_size=ten", "page_size"),
            ("kind=spreadsheet", "kind"),
            ("status=lost", "status"),
            ("moderation=maybe", "moderation"),
            ("cursor=not-a-cursor", "cursor"),
            ("cursor=eyJrIjp7fX0", "cursor"),
            ("entity_type=Product", "entity_type"),
            ("entity_id=p%201", "entity_id"),
        ],
    )
    def test_bad_parameters_are_422_with_a_message_naming_the_field(
        self, stack: LocalStack, query: str, field: str
    ):
        response = call(stack, "GET", f"/media?{query}", "alice")
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"] == "validation_error" and field in body["message"]
        assert "Traceback" not in response.text

    def test_a_cursor_only_continues_the_query_it_came_from(self, stack: LocalStack):
        # Given a cursor of frank's first page
        for i in range(3):
            awaiting(stack, "frank", f"f{i}.pdf", tags=["x"])
        first = call(stack, "GET", "/media?page_size=1", "frank").json()
        assert first["next"]
        # Then another user, or another filter, cannot continue it
        for user, query in (("grace", ""), ("frank", "&tag=x"), ("frank", "&kind=image")):
            response = call(stack, "GET", f"/media?page_size=1&cursor={first['next']}{query}", user)
            assert response.status_code == 422, (user, query, response.text)
            assert "cursor" in response.json()["message"]


class TestStats:
    def test_counters_follow_uploads_processing_and_deletes_and_admins_see_everyone(self, stack: LocalStack):
        # Given heidi's three records: one ready image, two awaiting
        image = ready_image(stack, "heidi", seed=1)
        awaiting(stack, "heidi")
        awaiting(stack, "heidi")
        record = media_repository(stack.tables["MediaTable"]).get(image)
        assert record is not None
        stored = record.original.size + sum(v.bytes for v in record.variants.values())
        # When she asks for her stats
        stats = call(stack, "GET", "/media/stats", "heidi").json()
        # Then they count exactly her media
        assert stats == {
            "scope": "owner",
            "count": 3,
            "by_kind": {"image": 1, "video": 0, "audio": 0, "document": 2},
            "by_status": {"awaiting_upload": 2, "processing": 0, "ready": 1, "failed": 0},
            "total_bytes": stored,
        }
        # And deleting the image takes it out
        assert call(stack, "DELETE", f"/media/{image}", "heidi").status_code == 204
        after = call(stack, "GET", "/media/stats", "heidi").json()
        assert after["count"] == 2 and after["by_status"]["ready"] == 0 and after["total_bytes"] == 0
        # Admins may ask for everyone's; others may not
        everyone = call(stack, "GET", "/media/stats?scope=all", "root", admin=True).json()
        assert everyone["scope"] == "all" and everyone["count"] >= 2
        assert call(stack, "GET", "/media/stats?scope=all", "heidi").status_code == 403
        assert call(stack, "GET", "/media/stats?scope=everything", "heidi").status_code == 422

    def test_counters_are_exact_after_parallel_status_changes(self, stack: LocalStack):
        # Given 24 of ivan's records awaiting upload
        repository = media_repository(stack.tables["MediaTable"])
        ids = [awaiting(stack, "ivan", f"p{i}.pdf") for i in range(24)]
        stale = {i: repository.get(i) for i in ids}

        def churn(media_id: str) -> None:
            record = stale[media_id]
            assert record is not None
            claimed = repository.transition(record, Transition(Status.PROCESSING))
            if int(media_id, 16) % 2:
                repository.transition(claimed, Transition(Status.FAILED, changes={"failure_reason": "test"}))

        # When they all change state concurrently (8 threads, every change updating the same
        # two counter items)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(churn, ids))
        # And stale copies then try to move them again (each loses: the record and counters stay)
        for record in stale.values():
            assert record is not None
            with pytest.raises(InvalidTransition):
                repository.transition(record, Transition(Status.PROCESSING))
        # Then the counters equal what the records say
        records = [repository.get(i) for i in ids]
        failed = sum(1 for r in records if r and r.status == Status.FAILED)
        stats = call(stack, "GET", "/media/stats", "ivan").json()
        assert stats["count"] == 24
        assert stats["by_status"] == {
            "awaiting_upload": 0,
            "processing": 24 - failed,
            "ready": 0,
            "failed": failed,
        }
        assert failed == sum(1 for i in ids if int(i, 16) % 2)


class TestOneRecord:
    def test_download_redirects_to_the_original_with_the_file_name_and_is_audited(self, stack: LocalStack):
        # Given judy's ready image
        media_id = ready_image(stack, "judy", seed=5)
        # When she downloads the original and a variant
        response = call(stack, "GET", f"/media/{media_id}/download", "judy")
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        disposition = parse_qs(urlsplit(location).query)["response-content-disposition"][0]
        assert disposition.startswith('attachment; filename="photo 5.jpg"')
        original = requests.get(location, timeout=30)
        assert original.status_code == 200 and original.content[:2] == b"\xff\xd8"
        variant = call(stack, "GET", f"/media/{media_id}/download?variant=thumbnail", "judy")
        assert variant.status_code == 302
        assert (
            "photo 5-thumbnail."
            in parse_qs(urlsplit(variant.headers["Location"]).query)["response-content-disposition"][0]
        )
        # Unknown variants and ids are 404
        assert call(stack, "GET", f"/media/{media_id}/download?variant=nope", "judy").status_code == 404
        assert call(stack, "GET", f"/media/{'0' * 32}/download", "judy").status_code == 404
        # And the activity shows the upload, the processing and both downloads, with actors
        activity = call(stack, "GET", f"/media/{media_id}/activity", "judy").json()
        actions = [(e["action"], e["actor"]) for e in activity["entries"]]
        assert actions[:2] == [("uploaded", sub("judy")), ("processed", "system:image-processor")]
        assert actions[2:] == [("downloaded", sub("judy"))] * 2
        assert [e["details"].get("variant") for e in activity["entries"][2:]] == ["original", "thumbnail"]

    def test_an_original_not_uploaded_yet_cannot_be_downloaded(self, stack: LocalStack):
        media_id = awaiting(stack, "judy")
        response = call(stack, "GET", f"/media/{media_id}/download", "judy")
        assert response.status_code == 409 and "not been uploaded" in response.json()["message"]

    def test_an_unknown_id_is_404_and_a_malformed_one_422(self, stack: LocalStack):
        assert call(stack, "GET", f"/media/{'a' * 32}", "judy").status_code == 404
        assert call(stack, "GET", "/media/NOT-AN-ID", "judy").status_code == 422


class TestGallery:
    def test_the_primary_item_comes_first_and_others_see_only_public_media(self, stack: LocalStack):
        # Given kim's three ready media of one product: private, public, and public primary, the
        # public ones approved (pre-moderation: others see only approved media)
        entity = {"entity_type": "product", "entity_id": "sku-9"}
        private = ready_image(stack, "kim", seed=41, **entity)
        public = ready_image(stack, "kim", seed=42, visibility="public", **entity)
        primary = ready_image(stack, "kim", seed=43, visibility="public", **entity)
        patched = call(stack, "PATCH", f"/media/{primary}", "kim", json={"is_primary": True})
        assert patched.status_code == 200, patched.text
        for media_id in (public, primary):
            approve = {"status": "approved"}
            assert call(stack, "PATCH", f"/admin/media/{media_id}/moderation", "root", True, json=approve).ok

        def gallery(user: str, admin: bool = False, page_size: int = 50) -> list[str]:
            out, cursor = [], None
            while True:
                suffix = f"&cursor={cursor}" if cursor else ""
                response = call(
                    stack,
                    "GET",
                    f"/entities/product/sku-9/media?owner={sub('kim')}&page_size={page_size}{suffix}",
                    user,
                    admin,
                )
                assert response.status_code == 200, response.text
                out += [i["media_id"] for i in response.json()["items"]]
                cursor = response.json()["next"]
                if not cursor:
                    return out

        # Then the owner and admins see all three, primary first (then oldest first)
        assert gallery("kim") == [primary, private, public]
        assert gallery("kim", page_size=1) == [primary, private, public]
        assert gallery("root", admin=True) == [primary, private, public]
        # And anyone else sees the public ones only
        assert gallery("leo") == [primary, public]
        assert gallery("leo", page_size=1) == [primary, public]


class TestOpenApi:
    def test_the_served_document_is_the_committed_one_and_valid(self, stack: LocalStack):
        response = call(stack, "GET", "/openapi.json", "alice")
        assert response.status_code == 200
        served = response.json()
        committed = json.loads((REPO_ROOT / "openapi.json").read_text())
        assert served == committed
        validate(served)
        for path, method in [
            ("/media", "get"),
            ("/media/stats", "get"),
            ("/media/{media_id}", "patch"),
            ("/media/batch-delete", "post"),
            ("/admin/media/{media_id}/moderation", "patch"),
            ("/entities/{entity_type}/{entity_id}/media", "get"),
        ]:
            assert method in served["paths"][path], (path, method)

    def test_the_document_needs_a_token_like_every_route(self, stack: LocalStack):
        assert requests.get(f"{stack.api_url}/openapi.json", timeout=30).status_code == 401
