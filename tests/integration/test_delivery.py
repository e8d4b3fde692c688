"""Delivery through the local stack's CDN (`/cdn/...`, local_stack.cdn): variant URLs identical
within a window, CloudFront signed URLs checked, signed on-demand transformations (refusals cost
no rendition, key rotation, `auto` follows Accept, big outputs stored and redirected) and
revocation (made private, deleted: refused, and the distribution invalidated)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from media_core import wiring
from media_core.domain.transform import SigningKeys, sign
from media_core.processing import lifecycle
from PIL import Image

from local_stack.stack import LocalStack
from tests.support import images
from tests.support.flow import deliver, queued_messages, start_upload, upload
from tests.support.local_stack import running_stack
from tests.support.media_api import call, ready_image

WINDOW = 3600  # the template's default UrlWindowSeconds


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("delivery"), pollers=False) as running:
        yield running


@pytest.fixture(scope="module")
def photo(stack: LocalStack) -> str:
    """alice's 1400x1050 JPEG with EXIF (camera, orientation, GPS): ready, private."""
    data = images.jpeg_with_metadata((1400, 1050))
    media_id = upload(stack, "alice", "big photo.jpg", "image/jpeg", data)
    result = deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
    assert result == {"batchItemFailures": []}, result
    return media_id


def view(stack: LocalStack, media_id: str, user: str = "alice") -> dict[str, Any]:
    response = call(stack, "GET", f"/media/{media_id}", user)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def urls_of(body: dict[str, Any]) -> list[str]:
    return [v["url"] for v in body["variants"].values()] + [e["url"] for e in body["srcset"]]


def rendition_keys(stack: LocalStack, media_id: str) -> list[str]:
    listing = stack.client("s3").list_objects_v2(Bucket=stack.buckets["MediaBucket"])
    return [
        o["Key"] for o in listing.get("Contents", []) if f"/{media_id}/" in o["Key"] and "/t/" in o["Key"]
    ]


def invalidated_paths(stack: LocalStack, since: int = 0) -> set[str]:
    """Every path the CDN was told to drop, from its `since`-th invalidation on."""
    assert stack.gateway is not None and stack.gateway.cdn is not None
    return {path for batch in stack.gateway.cdn.invalidations()[since:] for path in batch}


def post_file(created: dict[str, Any], data: bytes) -> None:
    post = created["upload"]
    sent = requests.post(post["url"], data=post["fields"], files={"file": ("f.jpg", data)}, timeout=60)
    assert sent.status_code in (200, 201, 204), sent.text


def pixel(response: requests.Response) -> tuple[int, ...]:
    with Image.open(io.BytesIO(response.content)) as image:
        value: tuple[int, ...] = image.convert("RGB").getpixel((10, 10))  # type: ignore[assignment]
        return value


def transform_keys(stack: LocalStack) -> SigningKeys:
    assert stack.gateway is not None and stack.gateway.cdn is not None
    return SigningKeys.from_config(stack.gateway.cdn.signing_keys)


def signed_path(stack: LocalStack, media_id: str, options: str, keys: SigningKeys | None = None) -> str:
    """A path signed with the stack's key, for options the query API would never sign."""
    signed = f"/{media_id}/{options}"
    return f"{stack.api_url}/cdn/t{signed}/{sign(signed, keys or transform_keys(stack))}"


class TestStableUrls:
    def test_two_gets_in_one_window_are_byte_identical_and_the_next_window_gives_new_working_urls(
        self, stack: LocalStack, photo: str, clock: list[float]
    ):
        # Given two reads of alice's photo in the same window
        first, second = view(stack, photo), view(stack, photo)
        # Then every variant URL and every srcset URL is byte-identical (a browser cache can hit)
        assert urls_of(first) == urls_of(second)
        assert all(url.startswith(f"{stack.api_url}/cdn/") for url in urls_of(first))
        # And the srcset covers the configured widths up to the photo's own 1400 px
        assert [e["width"] for e in first["srcset"]] == [320, 640, 960, 1280]
        # When the next window has begun
        clock[0] = WINDOW
        later = view(stack, photo)
        # Then every URL is new (a later expiry), and still works
        assert set(urls_of(later)).isdisjoint(urls_of(first))
        expires = [int(parse_qs(urlsplit(u).query)["Expires"][0]) for u in urls_of(first) if "Expires=" in u]
        later_expires = [
            int(parse_qs(urlsplit(u).query)["Expires"][0]) for u in urls_of(later) if "Expires=" in u
        ]
        assert expires and all(e % WINDOW == 0 for e in expires)
        assert {b - a for a, b in zip(expires, later_expires, strict=True)} == {WINDOW}
        for url in (later["variants"]["small"]["url"], later["srcset"][0]["url"]):
            assert requests.get(url, timeout=60).status_code == 200, url

    def test_variants_are_served_only_with_their_own_valid_cloudfront_signature(
        self, stack: LocalStack, photo: str
    ):
        small = view(stack, photo)["variants"]["small"]["url"]
        medium = view(stack, photo)["variants"]["medium"]["url"]
        # The signed URL works, with an immutable Cache-Control (the browser may keep it)
        ok = requests.get(small, timeout=30)
        assert ok.status_code == 200 and ok.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert Image.open(io.BytesIO(ok.content)).format == "JPEG"
        # Without a signature, with a tampered one, or with another path's: 403, no bytes
        path, query = small.split("?", 1)
        forged = query.replace("Signature=", "Signature=A", 1)
        other = medium.split("?", 1)[0] + "?" + query
        later = query.replace("Expires=", "Expires=9", 1)
        for url in (path, f"{path}?{forged}", other, f"{path}?{later}"):
            refused = requests.get(url, timeout=30)
            assert refused.status_code == 403, url
            assert b"\xff\xd8" not in refused.content[:4]
            assert refused.text.strip(), "a refusal says why"

    def test_a_signed_variant_url_is_refused_once_expired(self, stack: LocalStack, photo: str):
        assert stack.gateway is not None and stack.gateway.cdn is not None
        url = urlsplit(view(stack, photo)["variants"]["small"]["url"])
        path = url.path.removeprefix("/cdn")
        expires = int(parse_qs(url.query)["Expires"][0])
        assert stack.gateway.cdn.verify(path, url.query, now=expires - 1) is None
        assert "expired" in str(stack.gateway.cdn.verify(path, url.query, now=expires))

    def test_another_users_media_stays_hidden_and_its_urls_are_not_issued(
        self, stack: LocalStack, photo: str
    ):
        response = call(stack, "GET", f"/media/{photo}", "mallory")
        assert response.status_code == 404
        assert "cdn" not in response.text


class TestTransformRefusals:
    def test_tampered_oversize_or_disallowed_requests_are_refused_and_render_nothing(
        self, stack: LocalStack, photo: str
    ):
        good = view(stack, photo)["srcset"][0]["url"]
        before = rendition_keys(stack, photo)
        prefix, _, signature = good.rpartition("/")
        other = ready_image(stack, "bob", seed=7)
        cases = {
            # a wrong signature: 403, nothing parsed
            f"{prefix}/{'A' * 22}": 403,
            f"{prefix}/{signature[:-1]}{'B' if signature[-1] != 'B' else 'C'}": 403,
            # a valid signature moved to another item, or to other options
            good.replace(photo, other): 403,
            good.replace("w_320", "w_640"): 403,
            f"{prefix.rsplit('/', 1)[0]}/-/{signature}": 403,
            # not a transformation path at all
            f"{stack.api_url}/cdn/t/{photo}": 403,
            # signed, but over the caps or outside the allowed widths, or not canonical
            signed_path(stack, photo, "w_5000"): 400,
            signed_path(stack, photo, "w_500"): 400,
            signed_path(stack, photo, "h_9000,w_320"): 400,
            signed_path(stack, photo, "w_320,f_jpeg"): 400,
            signed_path(stack, photo, "w_320,x_1"): 400,
            signed_path(stack, photo, "dpr_7,w_320"): 400,
            # signed and well-formed, but expired
            signed_path(stack, photo, "exp_1000000000,w_320"): 403,
        }
        for url, status in cases.items():
            response = requests.get(url, headers={"Accept": "image/avif"}, timeout=30)
            assert response.status_code == status, (url, response.status_code, response.text)
            body = response.json()
            assert body["error"] in ("forbidden", "bad_request") and body["message"], body
            assert not response.headers.get("Content-Type", "").startswith("image/")
        # And the 400s name what is wrong
        too_wide = requests.get(signed_path(stack, photo, "w_5000"), timeout=30).json()["message"]
        assert "w" in too_wide and "5000" in too_wide
        # And no rendition was written for any of them
        assert rendition_keys(stack, photo) == before

    def test_an_unknown_or_unready_media_id_is_not_found(self, stack: LocalStack):
        missing = "0" * 32
        response = requests.get(signed_path(stack, missing, "w_320"), timeout=30)
        assert response.status_code == 404 and response.json()["error"] == "not_found"

    def test_rotation_the_previous_key_works_while_configured_and_fails_once_removed(
        self, stack: LocalStack, photo: str
    ):
        old = view(stack, photo)["srcset"][0]["url"]
        assert stack.gateway is not None and stack.gateway.cdn is not None
        old_keys = stack.gateway.cdn.signing_keys
        new_key = "ab" * 32
        secrets = stack.client("secretsmanager")
        arn = os.environ["TRANSFORM_SIGNING_KEYS_SECRET_ARN"]
        try:
            # When a new key becomes current and the old one previous (a new cold start)
            secrets.put_secret_value(SecretId=arn, SecretString=f"{new_key},{old_keys}")
            wiring.reset_caches()
            new = view(stack, photo)["srcset"][0]["url"]
            # Then new URLs are signed by the new key, and both old and new URLs work
            assert new != old and new.rsplit("/", 1)[0] == old.rsplit("/", 1)[0]
            assert requests.get(old, timeout=60).status_code == 200
            assert requests.get(new, timeout=60).status_code == 200
            # When the old key is removed
            secrets.put_secret_value(SecretId=arn, SecretString=new_key)
            wiring.reset_caches()
            # Then the old URL is refused and the new one still works
            assert requests.get(old, timeout=60).status_code == 403
            assert requests.get(new, timeout=60).status_code == 200
        finally:
            secrets.put_secret_value(SecretId=arn, SecretString=old_keys)
            wiring.reset_caches()
        assert requests.get(old, timeout=60).status_code == 200


class TestRenditions:
    @pytest.mark.parametrize(
        ("accept", "expected"),
        [
            ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "AVIF"),
            ("image/webp,*/*", "WEBP"),
            ("image/avif;q=0,image/webp", "WEBP"),
            ("*/*", "JPEG"),
            (None, "JPEG"),
        ],
    )
    def test_auto_follows_accept_and_strips_metadata(
        self, stack: LocalStack, photo: str, accept: str | None, expected: str
    ):
        url = next(e["url"] for e in view(stack, photo)["srcset"] if e["width"] == 640)
        headers = {"Accept": accept} if accept is not None else {}
        response = requests.get(url, headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        assert response.headers["Vary"] == "Accept"
        assert response.headers["Content-Type"] == f"image/{expected.lower()}"
        # Private media: cacheable until the URL's own expiry, not for a year
        max_age = int(response.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert 0 < max_age <= 2 * WINDOW + 60 and "immutable" not in response.headers["Cache-Control"]
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == expected
            assert image.size == (640, 480)
            assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info
            assert 0x8825 not in image.getexif()  # no GPS IFD

    def test_auto_is_smaller_than_jpeg_for_the_same_size(self, stack: LocalStack, photo: str):
        url = next(e["url"] for e in view(stack, photo)["srcset"] if e["width"] == 960)
        sizes = {
            accept: len(requests.get(url, headers={"Accept": accept}, timeout=60).content)
            for accept in ("image/avif", "image/webp", "image/jpeg")
        }
        assert sizes["image/avif"] < sizes["image/jpeg"] and sizes["image/webp"] < sizes["image/jpeg"]

    def test_a_big_output_is_stored_once_and_redirected_to(self, stack: LocalStack, photo: str):
        url = next(e["url"] for e in view(stack, photo)["srcset"] if e["width"] == 1280)
        assert rendition_keys(stack, photo) == []
        os.environ["TRANSFORM_MAX_INLINE_BYTES"] = "1000"  # every output is "too big" for the body
        wiring.reset_caches()
        try:
            first = requests.get(url, headers={"Accept": "image/webp"}, allow_redirects=False, timeout=60)
            # Then a redirect to the stored rendition under the media bucket's CDN path
            assert first.status_code == 302, first.text
            assert first.headers["Cache-Control"] == "no-store"
            location = first.headers["Location"]
            assert location.startswith(f"{stack.api_url}/cdn/media/") and "Signature=" in location
            (key,) = rendition_keys(stack, photo)
            assert key.endswith(".webp") and urlsplit(location).path == f"/cdn/{key}"
            stored = requests.get(location, timeout=60)
            assert stored.status_code == 200
            with Image.open(io.BytesIO(stored.content)) as image:
                assert image.format == "WEBP" and image.size == (1280, 960)
            # And a second request redirects to the same object without writing another
            again = requests.get(url, headers={"Accept": "image/webp"}, allow_redirects=False, timeout=60)
            assert again.status_code == 302 and urlsplit(again.headers["Location"]).path == f"/cdn/{key}"
            assert rendition_keys(stack, photo) == [key]
        finally:
            del os.environ["TRANSFORM_MAX_INLINE_BYTES"]
            wiring.reset_caches()

    def test_without_a_known_cdn_domain_the_redirect_is_a_relative_cloudfront_signed_url(
        self, stack: LocalStack, photo: str
    ):
        # As deployed without a custom domain: the Transform function has no CDN_BASE_URL
        url = next(e["url"] for e in view(stack, photo)["srcset"] if e["width"] == 960)
        saved = os.environ["CDN_BASE_URL"]
        os.environ.update(TRANSFORM_MAX_INLINE_BYTES="1000", CDN_BASE_URL="")
        wiring.reset_caches()
        try:
            answer = requests.get(url, headers={"Accept": "image/avif"}, allow_redirects=False, timeout=60)
            again = requests.get(url, headers={"Accept": "image/avif"}, allow_redirects=False, timeout=60)
        finally:
            del os.environ["TRANSFORM_MAX_INLINE_BYTES"]
            os.environ["CDN_BASE_URL"] = saved
            wiring.reset_caches()
        # Then the Location is relative (the browser resolves it against the CDN URL it asked),
        # signed with a custom policy for this one object under any host, stable within a window
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith("/media/") and "Policy=" in location and "Signature=" in location
        assert again.headers["Location"] == location
        stored = requests.get(f"{stack.api_url}/cdn{location}", timeout=60)
        assert stored.status_code == 200
        with Image.open(io.BytesIO(stored.content)) as image:
            assert image.format == "AVIF" and image.size == (960, 720)
        # And the policy opens that object only, and only with its own signature
        path, query = location.split("?", 1)
        small = urlsplit(view(stack, photo)["variants"]["small"]["url"]).path
        for forged in (f"{small}?{query}", f"/cdn{path}?{query.replace('Signature=', 'Signature=A', 1)}"):
            refused = requests.get(f"{stack.api_url}{forged}", timeout=60)
            assert refused.status_code == 403 and "Access denied" in refused.text, forged


class TestRevocation:
    def test_public_urls_are_stable_until_made_private_then_refused_and_invalidated(self, stack: LocalStack):
        assert stack.gateway is not None and stack.gateway.cdn is not None
        media_id = ready_image(stack, "carol", seed=3, visibility="public")
        approved = call(
            stack,
            "PATCH",
            f"/admin/media/{media_id}/moderation",
            "root",
            admin=True,
            json={"status": "approved"},
        )
        assert approved.status_code == 200, approved.text
        # A public image's transformation URL has no expiry and may be cached for a year
        url = view(stack, media_id, "carol")["srcset"][0]["url"]
        assert "exp_" not in url
        assert view(stack, media_id, "someone-else")["srcset"][0]["url"] == url
        served = requests.get(url, timeout=60)
        assert served.status_code == 200 and "immutable" in served.headers["Cache-Control"]
        # When carol makes it private
        changed = call(stack, "PATCH", f"/media/{media_id}", "carol", json={"visibility": "private"})
        assert changed.status_code == 200, changed.text
        # Then the public URL is refused and the CDN is told to drop its copies
        assert requests.get(url, timeout=60).status_code == 403
        # (its transformations, and its published copies: services/publication.py)
        assert {f"/t/{media_id}/*", f"/public/{media_id}/*"} <= invalidated_paths(stack)
        # And the URLs she now gets expire
        assert "exp_" in view(stack, media_id, "carol")["srcset"][0]["url"]

    def test_deleted_media_stops_rendering_and_is_invalidated(self, stack: LocalStack):
        assert stack.gateway is not None and stack.gateway.cdn is not None
        media_id = ready_image(stack, "dave", seed=4)
        body = view(stack, media_id, "dave")
        url, small = body["srcset"][0]["url"], body["variants"]["small"]["url"]
        assert requests.get(url, timeout=60).status_code == 200
        assert call(stack, "DELETE", f"/media/{media_id}", "dave").status_code == 204
        assert requests.get(url, timeout=60).status_code == 404
        assert requests.get(small, timeout=60).status_code == 404  # the origin object is gone
        assert f"/t/{media_id}/*" in invalidated_paths(stack)


class TestReplacement:
    def test_a_replacement_gets_new_transformation_urls_and_the_earlier_runs_are_refused_and_removed(
        self, stack: LocalStack
    ):
        # Given erin's red swatch, processed, and its 1280 px transformation stored and redirected to
        red, blue = images.same_size(
            images.encode(Image.new("RGB", (1400, 1050), (255, 0, 0)), "JPEG", quality=90),
            images.encode(Image.new("RGB", (1400, 1050), (0, 0, 255)), "JPEG", quality=90),
        )
        created = start_upload(stack, "erin", "swatch.jpg", "image/jpeg", len(red))
        media_id = created["media_id"]
        post_file(created, red)
        assert deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1)) == {
            "batchItemFailures": []
        }
        old_url = next(e["url"] for e in view(stack, media_id, "erin")["srcset"] if e["width"] == 1280)
        os.environ["TRANSFORM_MAX_INLINE_BYTES"] = "1000"  # every output is stored and redirected to
        wiring.reset_caches()
        try:
            first = requests.get(old_url, headers={"Accept": "image/jpeg"}, allow_redirects=False, timeout=60)
            assert first.status_code == 302, first.text
            assert pixel(requests.get(first.headers["Location"], timeout=60))[0] > 200
            (old_rendition,) = rendition_keys(stack, media_id)
            # When erin uploads blue bytes through the same presigned POST, and they are processed
            post_file(created, blue)
            assert deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1)) == {
                "batchItemFailures": []
            }
            body = view(stack, media_id, "erin")
            new_url = next(e["url"] for e in body["srcset"] if e["width"] == 1280)
            # Then the transformation URL is new (a year-long cached copy of the old one is never it)
            assert body["status"] == "ready" and new_url != old_url
            # ... the old one is refused, saying why, and renders nothing
            refused = requests.get(
                old_url, headers={"Accept": "image/jpeg"}, allow_redirects=False, timeout=60
            )
            assert refused.status_code == 404 and "earlier version" in refused.text, refused.text
            # ... the old run's stored rendition is gone with its variants
            assert old_rendition not in rendition_keys(stack, media_id)
            # ... and the new URL serves the new bytes
            again = requests.get(new_url, headers={"Accept": "image/jpeg"}, allow_redirects=False, timeout=60)
            assert again.status_code == 302, again.text
            assert urlsplit(again.headers["Location"]).path.removeprefix("/cdn/") != old_rendition
            assert pixel(requests.get(again.headers["Location"], timeout=60))[2] > 200
        finally:
            del os.environ["TRANSFORM_MAX_INLINE_BYTES"]
            wiring.reset_caches()

    def test_flagging_public_media_purges_its_transformations_at_the_edge(self, stack: LocalStack):
        # Given frank's public, approved image, its public transformation URL served (cacheable)
        media_id = ready_image(stack, "frank", seed=5, visibility="public")
        moderation = f"/admin/media/{media_id}/moderation"
        assert (
            call(stack, "PATCH", moderation, "root", admin=True, json={"status": "approved"}).status_code
            == 200
        )
        url = view(stack, media_id, "frank")["srcset"][0]["url"]
        assert "exp_" not in url and requests.get(url, timeout=60).status_code == 200
        assert stack.gateway is not None and stack.gateway.cdn is not None
        since = len(stack.gateway.cdn.invalidations())
        # When an admin flags it
        flagged = call(stack, "PATCH", moderation, "root", admin=True, json={"status": "flagged"})
        assert flagged.status_code == 200, flagged.text
        # Then the origin refuses the public URL, and the CDN drops its year-long copies of it
        assert requests.get(url, timeout=60).status_code == 403
        assert f"/t/{media_id}/*" in invalidated_paths(stack, since)

    def test_a_moderation_decision_while_a_replacement_is_processing_is_refused(self, stack: LocalStack):
        # Given gina's public image, and a replacement of its bytes uploaded, not yet processed
        red, blue = images.same_size(
            images.encode(Image.new("RGB", (640, 480), (255, 0, 0)), "JPEG", quality=90),
            images.encode(Image.new("RGB", (640, 480), (0, 0, 255)), "JPEG", quality=90),
        )
        created = start_upload(stack, "gina", "a.jpg", "image/jpeg", len(red), visibility="public")
        media_id, moderation = created["media_id"], f"/admin/media/{created['media_id']}/moderation"
        post_file(created, blue)
        deliver(stack, "ImageQueue", "ImageFunction", queued_messages(stack, "ImageQueue", 1))
        reviewed = view(stack, media_id, "gina")["version"]
        post_file(created, red)
        messages = queued_messages(stack, "ImageQueue", 1)
        # When an admin approves what they saw while the replacement is claimed (processing)
        original = lifecycle.ProcessingPipeline.finish
        answers: list[Any] = []

        def finish_after_the_click(self: Any, claimed: Any, *args: Any, **kwargs: Any) -> Any:
            answers.append(call(stack, "PATCH", moderation, "root", admin=True, json={"status": "approved"}))
            return original(self, claimed, *args, **kwargs)

        lifecycle.ProcessingPipeline.finish = finish_after_the_click  # type: ignore[method-assign]
        try:
            deliver(stack, "ImageQueue", "ImageFunction", messages)
        finally:
            lifecycle.ProcessingPipeline.finish = original  # type: ignore[method-assign]
        # Then it is refused (409, saying why), and the replacement is still pending for everyone
        assert [a.status_code for a in answers] == [409], [a.text for a in answers]
        assert "is processing; only ready media is moderated" in answers[0].text
        after = view(stack, media_id, "gina")
        assert after["status"] == "ready" and after["moderation"] == "pending"
        assert call(stack, "GET", f"/media/{media_id}", "victor").status_code == 404
        # ... and a decision naming the version reviewed before the replacement is refused too
        stale = call(
            stack, "PATCH", moderation, "root", admin=True, json={"status": "approved", "version": reviewed}
        )
        assert stale.status_code == 409 and f"changed since version {reviewed}" in stale.text, stale.text
        current = call(
            stack,
            "PATCH",
            moderation,
            "root",
            admin=True,
            json={"status": "approved", "version": after["version"]},
        )
        assert current.status_code == 200 and current.json()["moderation"] == "approved", current.text
