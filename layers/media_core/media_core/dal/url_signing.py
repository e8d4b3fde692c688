"""Download URLs that caches can use: identical for every call inside a time window.

A SigV4 presigned URL embeds its signing time, so every call gives a new URL and no browser or CDN
cache ever hits. Here every URL depends only on the window a call falls in:

- `CloudFrontUrlSigner`: CloudFront signed URLs (canned policy, botocore's CloudFrontSigner,
  RSA-SHA1 by `cryptography`); the expiry is rounded UP to the end of a window.
- `WindowedS3Presigner`: S3 presigned GETs (no CDN configured) signed as if at the START of the
  window: the same query parameters, so the same signature.
- `public_url`: published copies of public media (`public/...`), stable unsigned URLs under the
  distribution's domain (its `/public/*` behaviour trusts no key group).

The price of stability is lifetime: a URL stays valid between `ttl` and `ttl + window` seconds
after the call that made it (it is valid from the window's start, and one window longer).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.signers import CloudFrontSigner

from media_core.dal.s3 import get_params
from media_core.domain.keys import PUBLIC_PREFIX
from media_core.domain.transfers import UrlTarget

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from mypy_boto3_s3.client import S3Client

__all__ = [
    "DEFAULT_WINDOW_SECONDS",
    "SIGV4_MAX_EXPIRES",
    "Clock",
    "CloudFrontUrlSigner",
    "CredentialsSource",
    "DeliveryUrls",
    "RelativeCloudFrontUrls",
    "WindowedS3Presigner",
    "object_path",
    "public_url",
    "window_end",
    "window_start",
]

Clock = Callable[[], float]
DEFAULT_WINDOW_SECONDS = 3600
SIGV4_MAX_EXPIRES = 7 * 24 * 3600  # S3 refuses X-Amz-Expires above 7 days
_SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def window_start(now: float, window_seconds: int) -> int:
    return int(now // window_seconds * window_seconds)


def window_end(moment: float, window_seconds: int) -> int:
    """`moment` rounded up to a multiple of the window (unchanged when already on one)."""
    return int(math.ceil(moment / window_seconds) * window_seconds)


def _check_window(window_seconds: int) -> None:
    if window_seconds < 1:
        raise ValueError(f"window_seconds must be positive, got {window_seconds}")


def object_path(key: str) -> str:
    """URL path of an object key behind a CDN whose origin is the bucket ("/" stays a separator)."""
    return "/" + quote(key, safe="/~")


def public_url(base_url: str, key: str) -> str:
    """Stable unsigned URL of a public object, e.g. `https://dxxxx.cloudfront.net/{key}`."""
    return base_url.rstrip("/") + object_path(key)


# ---------------------------------------------------------------------------------- CloudFront


class CloudFrontUrlSigner:
    """Signed URLs for a distribution whose behaviour trusts a key group holding `key_id`.

    `key_id` is the CloudFront public key id (the `Key-Pair-Id` parameter), `private_key_pem`
    its RSA private key (PKCS#1 or PKCS#8 PEM, e.g. read from Secrets Manager at cold start).
    PKCS#1 v1.5 signatures are deterministic, so equal policies give byte-identical URLs.
    """

    def __init__(
        self,
        base_url: str,
        key_id: str,
        private_key_pem: bytes,
        *,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        _check_window(window_seconds)
        # Imported here: only a deployment with a key pair signs with RSA (~30 ms at cold start).
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("CloudFront signed URLs need an RSA private key")
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.window_seconds = window_seconds
        self._clock = clock
        self._signer = CloudFrontSigner(key_id, _rsa_sha1_signer(key))

    def signed_url(self, path: str, *, ttl_seconds: int, now: float | None = None) -> str:
        """Canned-policy URL of `base_url + path`, valid for at least `ttl_seconds` from `now`
        and at most `ttl_seconds + window_seconds`: the expiry is rounded up to the end of a
        window, so every call in one window returns the same URL.

        `path` is used verbatim (the policy signs the exact URL): an object's `object_path(key)`
        or a transformation path `/t/...`. No query string (CloudFront appends its own)."""
        expires = self._expiry(ttl_seconds, now)  # checks ttl_seconds first
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ValueError(f"expected a URL path without query, got {path!r}")
        return str(self._signer.generate_presigned_url(self.base_url + path, date_less_than=expires))

    def object_url(self, key: str, *, ttl_seconds: int, now: float | None = None) -> str:
        return self.signed_url(object_path(key), ttl_seconds=ttl_seconds, now=now)

    def relative_url(self, path: str, *, ttl_seconds: int, now: float | None = None) -> str:
        """`path?Policy=…&Signature=…&Key-Pair-Id=…`, a custom policy for `https://*{path}`: valid
        under any domain of a distribution that trusts the key group, for an origin that cannot
        know the distribution's domain (the Transform function's redirects). A browser resolves
        it against the CDN URL it requested. Same window rounding as `signed_url`."""
        expires = self._expiry(ttl_seconds, now)  # checks ttl_seconds first
        if not path.startswith("/") or "?" in path or "#" in path or "*" in path:
            raise ValueError(f"expected a URL path without query or wildcard, got {path!r}")
        policy = self._signer.build_policy(f"https://*{path}", expires)
        return str(self._signer.generate_presigned_url(path, policy=policy))

    def _expiry(self, ttl_seconds: int, now: float | None) -> dt.datetime:
        """`now + ttl_seconds` rounded up to the end of a window (the one rounding every URL here
        shares)."""
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        moment = self._clock() if now is None else now
        return dt.datetime.fromtimestamp(window_end(moment + ttl_seconds, self.window_seconds), dt.UTC)


def _rsa_sha1_signer(key: RSAPrivateKey) -> Callable[[bytes], bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def sign(message: bytes) -> bytes:
        # CloudFront verifies RSA-SHA1 with PKCS#1 v1.5 padding (its documented scheme).
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    return sign


# ---------------------------------------------------------------------------------- S3


class _PinnedTimeS3SigV4QueryAuth(S3SigV4QueryAuth):
    """botocore's own S3 query signer, with the signing time given instead of read from the clock.

    `SigV4Auth.add_auth` stores the current time in `request.context["timestamp"]` and then
    calls `_modify_request_before_signing`, after which everything (X-Amz-Date, credential
    scope, signing key) reads that context value. Overriding that one hook to put the pinned time
    there changes nothing else in botocore's signing and touches no global state: thread-safe,
    unlike patching `botocore.auth.get_current_datetime`. A test checks the result is byte-identical
    to botocore's own presigned URL at a frozen clock, so a change in botocore shows up there.
    """

    def __init__(
        self,
        credentials: Credentials | ReadOnlyCredentials,
        service_name: str,
        region_name: str,
        expires: int,
        signing_time: dt.datetime,
    ) -> None:
        super().__init__(credentials, service_name, region_name, expires=expires)
        self._signing_timestamp = signing_time.strftime(_SIGV4_TIMESTAMP)

    def _modify_request_before_signing(self, request: AWSRequest) -> Any:
        request.context["timestamp"] = self._signing_timestamp
        return super()._modify_request_before_signing(request)  # type: ignore[misc]  # not in the stubs


CredentialsSource = Callable[[], Credentials | ReadOnlyCredentials | None]


class WindowedS3Presigner:
    """Presigned S3 GETs that are identical for every call inside one window.

    The URL (endpoint, addressing style, key escaping, response-* parameters) comes from the
    client's own `generate_presigned_url`; its SigV4 query parameters are then replaced by a
    signature made with the signing time pinned to the start of the window and
    `X-Amz-Expires = ttl + window`. Validity: from the window start until window start + ttl +
    window, i.e. between `ttl` and `ttl + window` seconds after the call.

    Temporary credentials (a Lambda role) also end a URL: it stops working when the session
    token expires, and a new session gives new URLs. `credentials` returns the credentials to
    sign with, normally the default session's `get_credentials` (the source the clients use;
    botocore keeps a client's credentials private); refreshable ones refresh on each call.
    """

    def __init__(
        self,
        client: S3Client,
        credentials: CredentialsSource,
        *,
        window_seconds: int = DEFAULT_WINDOW_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        _check_window(window_seconds)
        self._s3 = client
        self._credentials = credentials
        self.window_seconds = window_seconds
        self._clock = clock

    def presigned_get(self, target: UrlTarget, *, expires_in: int, now: float | None = None) -> str:
        """Same contract as `ObjectStore.presigned_get`, stable within the window (see class)."""
        expires = expires_in + self.window_seconds
        if expires_in < 1 or expires > SIGV4_MAX_EXPIRES:
            raise ValueError(f"expires_in + window must be within 1..{SIGV4_MAX_EXPIRES} s, got {expires}")
        found = self._credentials()
        if found is None:
            raise RuntimeError("no AWS credentials to sign S3 URLs with")
        credentials = found.get_frozen_credentials() if isinstance(found, Credentials) else found
        url = self._s3.generate_presigned_url("get_object", Params=get_params(target), ExpiresIn=expires)
        start = window_start(self._clock() if now is None else now, self.window_seconds)
        return _resign(
            url,
            credentials,
            expires=expires,
            signing_time=dt.datetime.fromtimestamp(start, dt.UTC).replace(tzinfo=None),
        )


def _resign(
    url: str,
    credentials: ReadOnlyCredentials,
    *,
    expires: int,
    signing_time: dt.datetime,
) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    scope = dict(query).get("X-Amz-Credential", "").split("/")
    if len(scope) != 5:
        raise RuntimeError("the S3 client must sign with SigV4 (Config(signature_version='s3v4'))")
    # Sign for the region and service the client chose (its endpoint rules pick them).
    _key_id, _date, region, service, _terminator = scope
    # Keep the operation parameters (response-content-disposition...), drop the SigV4 ones: the
    # signer adds them back, with the pinned time.
    operation = [(k, v) for k, v in query if not k.startswith("X-Amz-")]
    unsigned = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(operation, quote_via=quote), ""))
    request = AWSRequest(method="GET", url=unsigned)
    if not credentials.access_key or not credentials.secret_key:
        raise RuntimeError("incomplete AWS credentials: no access key or secret key")
    signer = _PinnedTimeS3SigV4QueryAuth(
        Credentials(credentials.access_key, credentials.secret_key, credentials.token),
        service,
        region,
        expires=expires,
        signing_time=signing_time,
    )
    signer.add_auth(request)
    return str(request.url)


# ---------------------------------------------------------------------------------- choice


class RelativeCloudFrontUrls:
    """`DeliveryUrls.object_url` for an origin behind the distribution that does not know its
    domain: relative CloudFront signed URLs (`CloudFrontUrlSigner.relative_url`)."""

    def __init__(self, signer: CloudFrontUrlSigner, *, ttl_seconds: int = 3600) -> None:
        self._signer = signer
        self.ttl_seconds = ttl_seconds

    def object_url(self, target: UrlTarget, *, public: bool = False, now: float | None = None) -> str:
        return self._signer.relative_url(object_path(target.key), ttl_seconds=self.ttl_seconds, now=now)


class DeliveryUrls:
    """The one entry point for the query API: the right stable URL for an object.

    - a published copy (`public=True` and a key under `public/`) with `public_base` (the
      distribution): unsigned; only that prefix is served unsigned, so nothing else ever is;
    - else CloudFront signed URLs when `cloudfront` is configured (a key pair);
    - else (no key pair, no CDN, downloads, whose `response-content-disposition` only S3
      applies, and one version of an object) windowed S3 presigned GETs.
    """

    def __init__(
        self,
        s3: WindowedS3Presigner,
        *,
        cloudfront: CloudFrontUrlSigner | None = None,
        public_base: str | None = None,
        ttl_seconds: int = 3600,
    ) -> None:
        self._s3 = s3
        self._cloudfront = cloudfront
        self._public_base = public_base.rstrip("/") if public_base else None
        self.ttl_seconds = ttl_seconds

    def object_url(self, target: UrlTarget, *, public: bool = False, now: float | None = None) -> str:
        plain = target.download_name is None and target.version_id is None  # what only S3 serves
        if plain and public and self._public_base and target.key.startswith(PUBLIC_PREFIX):
            return public_url(self._public_base, target.key)
        if plain and self._cloudfront is not None:
            return self._cloudfront.object_url(target.key, ttl_seconds=self.ttl_seconds, now=now)
        return self._s3.presigned_get(target, expires_in=self.ttl_seconds, now=now)
