"""Download URLs stable within a window: CloudFront signed URLs, S3 presigned GETs, public URLs.

S3 URLs are fetched from a moto server (routing, key escaping, response-content-disposition) and
from SeaweedFS, which, unlike moto, verifies SigV4 query signatures and expiry."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.auth
import pytest
import requests
from botocore.credentials import Credentials
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from media_core.dal.s3 import content_disposition, get_params
from media_core.dal.url_signing import (
    CloudFrontUrlSigner,
    DeliveryUrls,
    WindowedS3Presigner,
    object_path,
    public_url,
)
from media_core.domain.transfers import UrlTarget

from local_stack.emulator import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Emulator
from tests.support import seaweed

WINDOW = 3600
T0 = 1_800_000_000 - 1_800_000_000 % WINDOW  # a window start
KEY = "media/alice/" + "a" * 32 + "/run1/large é+x.jpg"
BUCKET = "delivery-media"
BODY = b"\xff\xd8 not really a jpeg"


# ---------------------------------------------------------------------------------- CloudFront


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cf_signer(key: rsa.RSAPrivateKey) -> CloudFrontUrlSigner:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return CloudFrontUrlSigner("https://d111.cloudfront.net/", "K2JCJMDEHXQW5F", pem, window_seconds=WINDOW)


def cf_b64decode(text: str) -> bytes:
    # CloudFront's URL-safe alphabet: + -> -, = -> _, / -> ~
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_cloudfront_url_is_identical_within_a_window_and_changes_in_the_next(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    signer = cf_signer(rsa_key)
    # Given two calls in the same window and one in the next
    a = signer.object_url(KEY, ttl_seconds=3600, now=T0 + 1)
    b = signer.object_url(KEY, ttl_seconds=3600, now=T0 + WINDOW - 1)
    c = signer.object_url(KEY, ttl_seconds=3600, now=T0 + WINDOW + 1)
    # Then the first two are byte-identical, the third is not
    assert a == b
    assert c != a
    # And the expiry is the end of the window after now + ttl: lifetime between ttl and ttl + window
    assert parse_qs(urlsplit(a).query)["Expires"] == [str(T0 + 2 * WINDOW)]
    assert parse_qs(urlsplit(c).query)["Expires"] == [str(T0 + 3 * WINDOW)]


def test_cloudfront_signature_verifies_with_the_public_key(rsa_key: rsa.RSAPrivateKey) -> None:
    url = cf_signer(rsa_key).object_url(KEY, ttl_seconds=600, now=T0 + 10)
    base, _, query = url.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    assert base == "https://d111.cloudfront.net/" + "media/alice/" + "a" * 32 + "/run1/large%20%C3%A9%2Bx.jpg"
    assert params["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    # The canned policy CloudFront rebuilds from the URL and Expires (exact bytes, no spaces)
    policy = json.dumps(
        {
            "Statement": [
                {"Resource": base, "Condition": {"DateLessThan": {"AWS:EpochTime": int(params["Expires"])}}}
            ]
        },
        separators=(",", ":"),
    ).encode()
    public = rsa_key.public_key()
    public.verify(cf_b64decode(params["Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())
    # A changed resource does not verify
    with pytest.raises(InvalidSignature):
        public.verify(
            cf_b64decode(params["Signature"]),
            policy.replace(b"large", b"small"),
            padding.PKCS1v15(),
            hashes.SHA1(),
        )


def test_cloudfront_signs_transformation_paths_verbatim(rsa_key: rsa.RSAPrivateKey) -> None:
    path = "/t/" + "a" * 32 + "/dpr_2,f_webp,w_320/abcdefghijklmnopqrstuv"
    url = cf_signer(rsa_key).signed_url(path, ttl_seconds=60, now=T0)
    assert url.startswith("https://d111.cloudfront.net" + path + "?Expires=")
    with pytest.raises(ValueError, match="without query"):
        cf_signer(rsa_key).signed_url(path + "?x=1", ttl_seconds=60)


def test_signed_and_relative_urls_share_the_window_rounding_and_the_ttl_check(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    signer = cf_signer(rsa_key)
    signed = query(signer.signed_url("/a.jpg", ttl_seconds=600, now=T0 + 10))
    relative = query(signer.relative_url("/a.jpg", ttl_seconds=600, now=T0 + 10))
    policy = json.loads(cf_b64decode(relative["Policy"]))
    expiry = policy["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
    assert int(signed["Expires"]) == expiry == T0 + WINDOW  # both rounded up to the window's end
    for make in (signer.signed_url, signer.relative_url):
        with pytest.raises(ValueError, match=r"^ttl_seconds must be positive, got 0$"):
            make("/a.jpg?x", ttl_seconds=0)  # the ttl is checked before the path


def test_public_url_is_plain_and_stable() -> None:
    assert (
        public_url("https://cdn.example.com/", "media/a/b c.jpg")
        == "https://cdn.example.com/media/a/b%20c.jpg"
    )
    assert object_path("media/x~y/z.jpg") == "/media/x~y/z.jpg"


# ---------------------------------------------------------------------------------- S3 on moto


@pytest.fixture(scope="module")
def moto() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    try:
        emulator.client("s3").create_bucket(Bucket=BUCKET)
        emulator.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=BODY, ContentType="image/jpeg")
        yield emulator
    finally:
        emulator.stop()


def moto_presigner(emulator: Emulator, now: list[float]) -> WindowedS3Presigner:
    creds = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    return WindowedS3Presigner(
        emulator.client("s3"), lambda: creds, window_seconds=WINDOW, clock=lambda: now[0]
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_s3_url_is_identical_within_a_window_and_changes_in_the_next(moto: Emulator) -> None:
    now = [T0 + 5.0]
    presigner = moto_presigner(moto, now)
    # Given two calls in one window (clock injected) and one in the next
    a = presigner.presigned_get(UrlTarget(BUCKET, KEY), expires_in=900)
    now[0] = T0 + WINDOW - 0.5
    b = presigner.presigned_get(UrlTarget(BUCKET, KEY), expires_in=900)
    now[0] = T0 + WINDOW
    c = presigner.presigned_get(UrlTarget(BUCKET, KEY), expires_in=900)
    # Then the first two are byte-identical, the third is signed at the next window start
    assert a == b != c
    assert query(a)["X-Amz-Date"] == dt.datetime.fromtimestamp(T0, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    # And X-Amz-Expires covers ttl from any moment in the window: lifetime in [ttl, ttl + window]
    assert query(a)["X-Amz-Expires"] == str(900 + WINDOW)


def test_s3_url_fetches_the_object_from_moto(moto: Emulator) -> None:
    url = moto_presigner(moto, [T0 + 5.0]).presigned_get(
        UrlTarget(BUCKET, KEY, download_name="été.jpg"), expires_in=900
    )
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == BODY
    assert response.headers["Content-Disposition"].endswith("filename*=UTF-8''%C3%A9t%C3%A9.jpg")


@pytest.mark.parametrize("download_name", [None, 'été "x".jpg'])
def test_s3_url_is_what_botocore_itself_signs_at_that_time(
    moto: Emulator, monkeypatch: pytest.MonkeyPatch, download_name: str | None
) -> None:
    client = moto.client("s3")
    # Given a URL from the windowed presigner, some time into a window
    url = moto_presigner(moto, [T0 + 1234.0]).presigned_get(
        UrlTarget(BUCKET, KEY, download_name=download_name), expires_in=900
    )
    # When botocore's own presigner signs the same request with its clock frozen at the window start
    start = dt.datetime.fromtimestamp(T0, dt.UTC).replace(tzinfo=None)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: start)
    params: dict[str, Any] = {"Bucket": BUCKET, "Key": KEY}
    if download_name:
        params["ResponseContentDisposition"] = content_disposition(download_name)
    reference = client.generate_presigned_url("get_object", Params=params, ExpiresIn=900 + WINDOW)
    # Then both are byte-identical: a change in botocore's signing internals shows up here
    assert url == reference


@pytest.mark.parametrize(
    ("region", "style"), [("us-east-1", "auto"), ("eu-west-1", "virtual"), ("ap-southeast-2", "path")]
)
def test_s3_url_matches_botocore_on_real_aws_endpoints(
    monkeypatch: pytest.MonkeyPatch, region: str, style: str
) -> None:
    # Given an S3 client for AWS itself (presigning needs no network), as media_core.dal.clients builds it
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "s3",
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(signature_version="s3v4", s3={"addressing_style": style}),  # type: ignore[typeddict-item]
    )
    creds = Credentials("AKIDEXAMPLE", "secret", "token")
    url = WindowedS3Presigner(
        client, lambda: creds, window_seconds=WINDOW, clock=lambda: T0 + 99
    ).presigned_get(UrlTarget(BUCKET, KEY, download_name="a b.jpg"), expires_in=300)
    # When botocore signs the same request at the window start with the same credentials
    start = dt.datetime.fromtimestamp(T0, dt.UTC).replace(tzinfo=None)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: start)
    token_client = boto3.session.Session().client(
        "s3",
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        aws_session_token="token",
        config=Config(signature_version="s3v4", s3={"addressing_style": style}),  # type: ignore[typeddict-item]
    )
    reference = token_client.generate_presigned_url(
        "get_object",
        Params={"Bucket": BUCKET, "Key": KEY, "ResponseContentDisposition": content_disposition("a b.jpg")},
        ExpiresIn=300 + WINDOW,
    )
    # Then the URLs are byte-identical (host, region scope, escaping, token)
    assert url == reference
    assert region in query(url)["X-Amz-Credential"]


def test_s3_presigner_is_thread_safe(moto: Emulator) -> None:
    # Given many threads signing at once, each with its own window
    from concurrent.futures import ThreadPoolExecutor

    client = moto.client("s3")
    creds = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)

    def sign(window: int) -> tuple[int, str]:
        presigner = WindowedS3Presigner(
            client, lambda: creds, window_seconds=WINDOW, clock=lambda: T0 + window * WINDOW + 7
        )
        return window, presigner.presigned_get(UrlTarget(BUCKET, KEY), expires_in=60)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(sign, [i % 4 for i in range(64)]))
    # Then every URL carries its own window's time (no shared, patched clock)
    for window, url in results:
        stamp = dt.datetime.fromtimestamp(T0 + window * WINDOW, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        assert query(url)["X-Amz-Date"] == stamp
    assert len({url for _, url in results}) == 4


def test_delivery_urls_pick_public_cloudfront_or_s3(moto: Emulator, rsa_key: rsa.RSAPrivateKey) -> None:
    s3 = moto_presigner(moto, [T0])
    cdn = cf_signer(rsa_key)
    urls = DeliveryUrls(s3, cloudfront=cdn, public_base="https://d111.cloudfront.net", ttl_seconds=600)
    # A published copy of public media: plain URL under the distribution's /public/ path
    published = "public/" + "a" * 32 + "/run1-tok/small.jpg"
    assert urls.object_url(UrlTarget(BUCKET, published), public=True, now=T0) == public_url(
        "https://d111.cloudfront.net", published
    )
    # Any other key stays signed, even when called as public (only /public/* is unsigned)
    assert "Key-Pair-Id=" in urls.object_url(UrlTarget(BUCKET, KEY), public=True, now=T0)
    # Private media: CloudFront signed
    assert "Key-Pair-Id=" in urls.object_url(UrlTarget(BUCKET, KEY), now=T0)
    # Downloads (Content-Disposition) and no CDN: the windowed S3 URL
    assert "X-Amz-Signature=" in urls.object_url(
        UrlTarget(BUCKET, KEY, download_name="a.jpg"), public=True, now=T0
    )
    assert "X-Amz-Signature=" in DeliveryUrls(s3).object_url(UrlTarget(BUCKET, KEY), public=True, now=T0)
    # One version of an object: only S3 serves it, with the version signed in
    versioned = query(urls.object_url(UrlTarget(BUCKET, KEY, version_id="v1"), public=True, now=T0))
    assert versioned["versionId"] == "v1" and "X-Amz-Signature" in versioned


def test_get_params_carry_the_download_name_and_the_version() -> None:
    assert get_params(UrlTarget(BUCKET, KEY)) == {"Bucket": BUCKET, "Key": KEY}
    assert get_params(UrlTarget(BUCKET, KEY, download_name="a b.jpg", version_id="v1")) == {
        "Bucket": BUCKET,
        "Key": KEY,
        "ResponseContentDisposition": content_disposition("a b.jpg"),
        "VersionId": "v1",
    }


def test_s3_url_with_a_session_token_carries_it(moto: Emulator) -> None:
    creds = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, "session-token/+=")
    presigner = WindowedS3Presigner(moto.client("s3"), lambda: creds, window_seconds=WINDOW, clock=lambda: T0)
    assert (
        query(presigner.presigned_get(UrlTarget(BUCKET, KEY), expires_in=60))["X-Amz-Security-Token"]
        == "session-token/+="
    )


def test_s3_lifetime_is_capped_at_seven_days(moto: Emulator) -> None:
    presigner = moto_presigner(moto, [T0])
    with pytest.raises(ValueError, match=r"within 1\.\.604800"):
        presigner.presigned_get(UrlTarget(BUCKET, KEY), expires_in=7 * 24 * 3600)


# ---------------------------------------------------------------------------------- S3 on SeaweedFS


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[seaweed.SeaweedS3]:
    with seaweed.seaweed_s3(Path(tmp_path_factory.mktemp("weed")), BUCKET) as server:
        server.client().put_object(Bucket=BUCKET, Key=KEY, Body=BODY, ContentType="image/jpeg")
        yield server


def weed_presigner(server: seaweed.SeaweedS3, now: float) -> WindowedS3Presigner:
    creds = Credentials(seaweed.ACCESS_KEY, seaweed.SECRET_KEY)
    return WindowedS3Presigner(server.client(), lambda: creds, window_seconds=WINDOW, clock=lambda: now)


@pytest.mark.slow
def test_s3_url_passes_a_server_that_verifies_signatures(weed: seaweed.SeaweedS3) -> None:
    import time

    # Given a URL signed as of the current window's start (up to an hour in the past)
    url = weed_presigner(weed, time.time()).presigned_get(
        UrlTarget(BUCKET, KEY, download_name="a.jpg"), expires_in=600
    )
    # Then a server that checks SigV4 serves it
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == BODY
    # And a tampered signature or key is refused
    bad = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert requests.get(bad, timeout=30).status_code == 403
    assert requests.get(url.replace("large", "small"), timeout=30).status_code in (403, 404)


@pytest.mark.slow
def test_s3_url_from_an_old_window_is_expired_on_a_verifying_server(weed: seaweed.SeaweedS3) -> None:
    import time

    # Given a URL made two windows ago with a ttl shorter than that
    url = weed_presigner(weed, time.time() - 2 * WINDOW - 60).presigned_get(
        UrlTarget(BUCKET, KEY), expires_in=60
    )
    # Then it is refused (X-Amz-Date + X-Amz-Expires is in the past)
    assert requests.get(url, timeout=30).status_code == 403


def test_a_relative_url_carries_a_custom_policy_for_that_path_under_any_host(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    signer = cf_signer(rsa_key)
    a = signer.relative_url("/media/alice/x/t/abc.webp", ttl_seconds=3600, now=T0 + 1)
    b = signer.relative_url("/media/alice/x/t/abc.webp", ttl_seconds=3600, now=T0 + WINDOW - 1)
    c = signer.relative_url("/media/alice/x/t/abc.webp", ttl_seconds=3600, now=T0 + WINDOW + 1)
    # Stable within a window, like the absolute URLs
    assert a == b != c
    path, _, query = a.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    assert path == "/media/alice/x/t/abc.webp" and set(params) == {"Policy", "Signature", "Key-Pair-Id"}
    policy = cf_b64decode(params["Policy"])
    (statement,) = json.loads(policy)["Statement"]
    assert statement == {
        "Resource": "https://*/media/alice/x/t/abc.webp",
        "Condition": {"DateLessThan": {"AWS:EpochTime": T0 + 2 * WINDOW}},
    }
    rsa_key.public_key().verify(cf_b64decode(params["Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())
    # A wildcard in the path itself would widen the grant: refused
    with pytest.raises(ValueError, match="wildcard"):
        signer.relative_url("/media/alice/*", ttl_seconds=3600, now=T0)
