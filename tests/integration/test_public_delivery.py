"""Published copies through the local stack (docs/delivery.md, services/publication.py): public
approved media gets stable unsigned `/cdn/public/...` URLs whose bytes are the variants; made
private, rejected, deleted or replaced, the copies go and `/public/{id}/*` is invalidated; a failed
delete is finished by the cleanup job; post-moderation publishes at ready; path tricks, guesses
and unsigned private requests are refused; without a key pair private media falls back to S3
presigned URLs and the default behaviour refuses everything."""

from __future__ import annotations

import http.client
import io
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from media_core import wiring
from media_core.domain.models import MediaRecord, utc_now
from PIL import Image

from local_stack.stack import LocalStack
from tests.support import images
from tests.support.flow import deliver, queued_messages, start_upload
from tests.support.local_stack import running_stack
from tests.support.media_api import call, ready_image

WINDOW = 3600  # the template's default UrlWindowSeconds


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("public-delivery"), pollers=False) as running:
        yield running


# ---------------------------------------------------------------------------------- helpers
def view(stack: LocalStack, media_id: str, user: str) -> dict[str, Any]:
    response = call(stack, "GET", f"/media/{media_id}", user)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def variant_urls(body: dict[str, Any]) -> dict[str, str]:
    return {name: v["url"] for name, v in body["variants"].items()}


def moderate(stack: LocalStack, media_id: str, status: str) -> None:
    answer = call(
        stack, "PATCH", f"/admin/media/{media_id}/moderation", "root", admin=True, json={"status": status}
    )
    assert answer.status_code == 200, answer.text


def published_image(stack: LocalStack, user: str, seed: int) -> str:
    media_id = ready_image(stack, user, seed=seed, visibility="public")
    moderate(stack, media_id, "approved")
    return media_id


def public_keys(stack: LocalStack, media_id: str) -> list[str]:
    listing = stack.client("s3").list_objects_v2(
        Bucket=stack.buckets["MediaBucket"], Prefix=f"public/{media_id}/"
    )
    return sorted(o["Key"] for o in listing.get("Contents", []))


def stored(stack: LocalStack, media_id: str) -> MediaRecord:
    record = wiring.media_repository(stack.tables["MediaTable"]).get(media_id)
    assert record is not None
    return record


def invalidations(stack: LocalStack) -> list[list[str]]:
    assert stack.gateway is not None and stack.gateway.cdn is not None
    return stack.gateway.cdn.invalidations()


def raw_get(stack: LocalStack, path: str) -> int:
    """A GET with the path sent byte for byte (no client-side dot-segment normalisation)."""
    parts = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path}{path}")
        return connection.getresponse().status
    finally:
        connection.close()


def assert_is_the_variant(url: str, variant: dict[str, Any]) -> None:
    served = requests.get(url, timeout=60)
    assert served.status_code == 200, url
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["Content-Type"] == variant["content_type"]
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (variant["width"], variant["height"])
    assert len(served.content) == variant["bytes"]


def assert_unpublished(stack: LocalStack, media_id: str, old_urls: list[str]) -> None:
    assert public_keys(stack, media_id) == []
    assert any(f"/public/{media_id}/*" in paths for paths in invalidations(stack))
    for url in old_urls:
        assert requests.get(url, timeout=30).status_code in (403, 404), url


# ---------------------------------------------------------------------------------- tests
class TestPublishedUrls:
    def test_public_approved_media_gets_stable_unsigned_urls_that_serve_the_variants(
        self, stack: LocalStack, clock: list[float]
    ):
        media_id = published_image(stack, "erin", seed=11)
        body = view(stack, media_id, "erin")
        urls = variant_urls(body)
        # Unsigned, under the CDN's /public/{id}/ (no owner id in the path), one per variant
        assert urls and all(
            u.startswith(f"{stack.api_url}/cdn/public/{media_id}/") and "?" not in u for u in urls.values()
        )
        assert stored(stack, media_id).owner not in "".join(urls.values())
        # The same for anyone, and the same in the next window and the one after
        assert variant_urls(view(stack, media_id, "someone-else")) == urls
        for window in (1, 2):
            clock[0] = window * WINDOW
            assert variant_urls(view(stack, media_id, "erin")) == urls
        # The bytes are the variants' (Pillow-checked dimensions, Content-Type, immutable)
        for name, url in urls.items():
            assert_is_the_variant(url, body["variants"][name])
        # The marker names the current run; one copy per variant, nothing else
        record = stored(stack, media_id)
        assert record.public_copy is not None and record.public_copy.run_id == record.run_id
        assert len(public_keys(stack, media_id)) == len(record.variants)

    def test_private_media_gets_signed_urls_and_has_no_public_objects(self, stack: LocalStack):
        media_id = ready_image(stack, "frank", seed=12)
        moderate(stack, media_id, "approved")  # approved, but private: never published
        urls = variant_urls(view(stack, media_id, "frank"))
        assert all("Signature=" in u and "/public/" not in u for u in urls.values())
        assert public_keys(stack, media_id) == []
        assert stored(stack, media_id).public_copy is None

    def test_public_but_pending_media_is_not_published_under_pre_moderation(self, stack: LocalStack):
        media_id = ready_image(stack, "gina", seed=13, visibility="public")
        assert public_keys(stack, media_id) == []
        assert all("Signature=" in u for u in variant_urls(view(stack, media_id, "gina")).values())


class TestUnpublishing:
    def test_made_private_the_copies_go_and_public_paths_are_invalidated(self, stack: LocalStack):
        media_id = published_image(stack, "hank", seed=14)
        old = list(variant_urls(view(stack, media_id, "hank")).values())
        assert all(requests.get(u, timeout=30).status_code == 200 for u in old)
        changed = call(stack, "PATCH", f"/media/{media_id}", "hank", json={"visibility": "private"})
        assert changed.status_code == 200, changed.text
        assert_unpublished(stack, media_id, old)
        assert stored(stack, media_id).public_copy is None
        assert all("Signature=" in u for u in variant_urls(view(stack, media_id, "hank")).values())

    def test_rejected_the_copies_go_and_public_paths_are_invalidated(self, stack: LocalStack):
        media_id = published_image(stack, "ivy", seed=15)
        old = list(variant_urls(view(stack, media_id, "ivy")).values())
        moderate(stack, media_id, "rejected")
        assert_unpublished(stack, media_id, old)
        # Its owner still sees it, with signed URLs only
        assert all("Signature=" in u for u in variant_urls(view(stack, media_id, "ivy")).values())

    def test_deleted_the_copies_go_and_public_paths_are_invalidated(self, stack: LocalStack):
        media_id = published_image(stack, "jack", seed=16)
        old = list(variant_urls(view(stack, media_id, "jack")).values())
        assert call(stack, "DELETE", f"/media/{media_id}", "jack").status_code == 204
        assert_unpublished(stack, media_id, old)
        assert sorted([f"/public/{media_id}/*", f"/t/{media_id}/*"]) in invalidations(stack)

    def test_replaced_only_the_new_run_is_published_after_re_approval(self, stack: LocalStack):
        # (one size: a new version through the same POST carries the size its policy pins)
        first, second = images.same_size(
            images.encode(images.photo_like((320, 240), seed=17), "JPEG", quality=85),
            images.encode(images.photo_like((400, 300), seed=18), "JPEG", quality=85),
        )
        created = start_upload(stack, "kate", "photo.jpg", "image/jpeg", len(first), visibility="public")
        post, media_id = created["upload"], str(created["media_id"])

        def send(data: bytes) -> None:
            sent = requests.post(
                post["url"],
                data=post["fields"],
                files={"file": ("photo.jpg", data, "image/jpeg")},
                timeout=60,
            )
            assert sent.status_code in (200, 201, 204), sent.text
            result = deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
            assert result == {"batchItemFailures": []}, result

        send(first)
        moderate(stack, media_id, "approved")
        old_run = stored(stack, media_id).run_id
        old = list(variant_urls(view(stack, media_id, "kate")).values())
        old_keys = public_keys(stack, media_id)
        assert old_keys and all(f"/{old_run}-" in k for k in old_keys)
        # When kate uploads a new version (moderation back to pending)
        send(second)
        record = stored(stack, media_id)
        assert record.run_id != old_run and record.moderation.value == "pending"
        # Then the old run's copies are gone at once, and nothing is published yet
        assert_unpublished(stack, media_id, old)
        # And after re-approval only the new run is
        moderate(stack, media_id, "approved")
        new_keys = public_keys(stack, media_id)
        assert new_keys and all(f"/{record.run_id}-" in k for k in new_keys)
        body = view(stack, media_id, "kate")
        for name, url in variant_urls(body).items():
            assert url not in old
            assert_is_the_variant(url, body["variants"][name])

    def test_a_failed_delete_of_the_copies_is_finished_by_the_cleanup_job(
        self, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
    ):
        media_id = published_image(stack, "liam", seed=19)
        old = list(variant_urls(view(stack, media_id, "liam")).values())
        store = wiring.object_store()
        real_delete_prefix = store.delete_prefix

        def failing(bucket: str, prefix: str) -> int:
            if prefix.startswith("public/"):
                raise RuntimeError("S3 is unavailable")
            return real_delete_prefix(bucket, prefix)

        monkeypatch.setattr(store, "delete_prefix", failing)
        changed = call(stack, "PATCH", f"/media/{media_id}", "liam", json={"visibility": "private"})
        assert changed.status_code == 200, changed.text  # the change stands
        monkeypatch.undo()
        # The marker went first: no new public URL is handed out, though the objects remain
        assert stored(stack, media_id).public_copy is None
        assert all("Signature=" in u for u in variant_urls(view(stack, media_id, "liam")).values())
        assert public_keys(stack, media_id) != []
        # When the hourly cleanup runs over this id's shard, past the grace period
        now = utc_now() + timedelta(hours=1)
        while now.hour % 16 != int(media_id[0], 16):
            now += timedelta(hours=1)
        report = wiring.cleanup_job().run(now=now)
        # Then the orphans are gone and their edge copies invalidated
        assert [p for p in report.public_orphans if p.startswith(f"public/{media_id}/")]
        assert_unpublished(stack, media_id, old)


class TestPostModeration:
    def test_post_moderation_publishes_at_ready(self, stack: LocalStack):
        saved = os.environ.get("MODERATION_MODE")
        os.environ["MODERATION_MODE"] = "post"
        wiring.reset_caches()
        try:
            media_id = ready_image(stack, "mia", seed=20, visibility="public")
            record = stored(stack, media_id)
            assert record.moderation.value == "pending" and record.public_copy is not None
            body = view(stack, media_id, "someone-else")
            for name, url in variant_urls(body).items():
                assert url.startswith(f"{stack.api_url}/cdn/public/{media_id}/")
                assert_is_the_variant(url, body["variants"][name])
        finally:
            if saved is None:
                del os.environ["MODERATION_MODE"]
            else:
                os.environ["MODERATION_MODE"] = saved
            wiring.reset_caches()


class TestAttacks:
    def test_unsigned_private_guessed_and_traversing_requests_are_refused(self, stack: LocalStack):
        private = ready_image(stack, "nina", seed=21)
        published = published_image(stack, "nina", seed=22)
        small = urlsplit(variant_urls(view(stack, private, "nina"))["small"]).path  # /cdn/media/...
        owner_key = small.removeprefix("/cdn/")
        record = stored(stack, private)
        # An unsigned request for a private variant key: 403, no bytes
        refused = requests.get(f"{stack.api_url}{small}", timeout=30)
        assert refused.status_code == 403 and b"\xff\xd8" not in refused.content[:4]
        # /public/ paths of private media: nothing is there, whatever the guess
        for guess in (
            f"/cdn/public/{private}/{record.run_id}/small.jpg",
            f"/cdn/public/{private}/{record.run_id}-000000000000/small.jpg",
        ):
            assert requests.get(f"{stack.api_url}{guess}", timeout=30).status_code in (403, 404), guess
        # Path tricks out of public/ into a private object: refused before the bucket is read
        copy = stored(stack, published).public_copy
        assert copy is not None
        run_dir = copy.prefix.split("/")[2]
        for trick in (
            f"/cdn/public/../{owner_key}",
            f"/cdn/public/{published}/../../{owner_key}",
            f"/cdn/public/{published}/{run_dir}/..%2F..%2F..%2F{owner_key.replace('/', '%2F')}",
            f"/cdn/public/{published}/{run_dir}%2F..%2F..%2F{owner_key.replace('/', '%2F')}",
            f"/cdn/public/{published}/%2e%2e/small.jpg",
            f"/cdn/public/{published}/{run_dir}/..\\small.jpg",
            f"/cdn/public/{owner_key}",
        ):
            status = raw_get(stack, trick)
            assert 400 <= status < 500, (trick, status)
        # A path under another prefix is the signed behaviour: 403 without a signature
        assert raw_get(stack, f"/cdn/{owner_key.replace('media/', 'originals/', 1)}") == 403


class TestWithoutAKeyPair:
    def test_private_media_gets_s3_presigned_urls_and_the_default_behaviour_refuses_all(
        self, stack: LocalStack
    ):
        assert stack.gateway is not None and stack.gateway.cdn is not None
        cdn = stack.gateway.cdn
        private = ready_image(stack, "olga", seed=23)
        published = published_image(stack, "olga", seed=24)
        signed_before = variant_urls(view(stack, private, "olga"))["small"]
        saved = {k: os.environ[k] for k in ("CDN_KEY_PAIR_ID", "CDN_PRIVATE_KEY_SECRET_ARN")}
        os.environ.update(CDN_KEY_PAIR_ID="", CDN_PRIVATE_KEY_SECRET_ARN="")
        cdn.signed = False
        wiring.reset_caches()
        try:
            body = view(stack, private, "olga")
            # Private media: windowed S3 presigned GETs that work and are the variants
            for name, url in variant_urls(body).items():
                assert "X-Amz-Signature=" in url and "/cdn/" not in url, url
                assert_is_the_variant(url, body["variants"][name])
            assert variant_urls(view(stack, private, "olga")) == variant_urls(body)  # stable
            # The default behaviour refuses everything, even a URL signed earlier
            assert requests.get(signed_before, timeout=30).status_code == 403
            # Published copies are served unsigned as before
            shown = view(stack, published, "someone-else")
            for name, url in variant_urls(shown).items():
                assert url.startswith(f"{stack.api_url}/cdn/public/{published}/")
                assert_is_the_variant(url, shown["variants"][name])
        finally:
            os.environ.update(saved)
            cdn.signed = True
            wiring.reset_caches()

    def test_a_big_rendition_redirects_to_an_s3_presigned_url(self, stack: LocalStack):
        media_id = ready_image(stack, "paul", seed=25)
        url = view(stack, media_id, "paul")["srcset"][0]["url"]
        saved = {k: os.environ[k] for k in ("CDN_KEY_PAIR_ID", "CDN_PRIVATE_KEY_SECRET_ARN", "CDN_BASE_URL")}
        # As deployed without a key pair nor a custom domain
        os.environ.update(
            CDN_KEY_PAIR_ID="",
            CDN_PRIVATE_KEY_SECRET_ARN="",
            CDN_BASE_URL="",
            TRANSFORM_MAX_INLINE_BYTES="100",
        )
        wiring.reset_caches()
        try:
            answer = requests.get(url, headers={"Accept": "image/webp"}, allow_redirects=False, timeout=60)
        finally:
            del os.environ["TRANSFORM_MAX_INLINE_BYTES"]
            os.environ.update(saved)
            wiring.reset_caches()
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert "X-Amz-Signature=" in location and "/t/" in urlsplit(location).path
        stored_rendition = requests.get(location, timeout=60)
        assert stored_rendition.status_code == 200
        with Image.open(io.BytesIO(stored_rendition.content)) as image:
            assert image.format == "WEBP" and image.size[0] == 320
