"""The CDN, locally: the gateway serves `{api}/cdn/...` as the distribution serves its paths.

- `/cdn/t/{media_id}/{options}/{signature}`: Accept normalised as the CloudFront Function does
  (cloudfront/normalize_accept.js; media_core.domain.transform.normalize_accept is its mirror),
  then the Transform function in-process with a function-URL event, its response as is.
- `/cdn/public/{media_id}/{copy}/{file}`: a published copy (services/publication.py), unsigned,
  as the `/public/*` behaviour serves it; anything else spelled under `public/` (dot segments,
  encoded slashes or backslashes, another shape) is refused with 400 before the bucket is read.
- `/cdn/{key}`: an object of the media bucket, only with a valid CloudFront signed URL (canned
  policy, RSA-SHA1, the key pair generated here), as the distribution's trusted key group
  demands; `Cache-Control` and `ETag` from the object, like S3 behind CloudFront. With
  `signed=False` (a deployment without a key pair) every such request is refused, as the
  template's CloudFront Function on the default behaviour does (cloudfront/deny_unsigned.js).

Secrets are created in the emulator (the CloudFront private key PEM, the transformation HMAC
keys) and a distribution in moto's CloudFront, so the functions read and call the same AWS APIs
as deployed. The response-headers policy is mirrored (security headers, CORS for the origins).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore.exceptions import ClientError
from botocore.signers import CloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local_stack.emulator import Emulator
from local_stack.functions import FunctionError, LocalFunction

log = logging.getLogger("local_stack.cdn")

PREFIX = "/cdn"
TRANSFORM_FUNCTION = "TransformFunction"
KEY_PAIR_ID = "KLOCALCDNKEY01"
LOCAL_DOMAIN = "local-cdn.invalid"  # the host name custom policies are matched against
# public/{media_id}/{run_id}-{token}/{variant}.{ext}, the only shape a published copy has
_PUBLIC_KEY = re.compile(r"^public/[0-9a-f]{32}/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,64}\.[a-z0-9]{1,8}$")
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

Answer = tuple[int, list[tuple[str, str]], bytes]


def _unb64(text: str) -> bytes:
    """CloudFront's URL-safe base64 (+ -> -, = -> _, / -> ~)."""
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


class LocalCdn:
    def __init__(self, base_url: str, emulator: Emulator, *, signing_keys: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._emulator = emulator
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_keys = signing_keys or secrets.token_hex(32)
        self.media_bucket = ""
        self.origins: list[str] = []
        self.distribution_id = ""
        self._transform: LocalFunction | None = None
        # False: as deployed without a key pair (the default behaviour refuses every request).
        self.signed = True
        self._s3: Any = None  # built once: a boto3 client costs ~100 ms

    # ------------------------------------------------------------------ set-up
    def environment(self, media_bucket: str, origins: list[str]) -> dict[str, str]:
        """Create the secrets and the distribution in the emulator; the variables pointing the
        functions at them (overriding the template's placeholders for the real distribution)."""
        self.media_bucket, self.origins = media_bucket, origins
        sm = self._emulator.client("secretsmanager")
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        private_arn = sm.create_secret(
            Name=f"local-cdn-private-key-{uuid.uuid4().hex[:8]}", SecretString=pem
        )["ARN"]
        keys_arn = sm.create_secret(
            Name=f"local-transform-keys-{uuid.uuid4().hex[:8]}", SecretString=self.signing_keys
        )["ARN"]
        self.distribution_id = self._distribution()
        return {
            "CDN_BASE_URL": self.base_url,
            "CDN_KEY_PAIR_ID": KEY_PAIR_ID,
            "CDN_PRIVATE_KEY_SECRET_ARN": private_arn,
            "CDN_DISTRIBUTION_ID": self.distribution_id,
            "TRANSFORM_SIGNING_KEYS_SECRET_ARN": keys_arn,
        }

    def _distribution(self) -> str:
        """A distribution in moto, so deletes run the real CreateInvalidation call against it."""
        cloudfront = self._emulator.client("cloudfront")
        origin = {"Id": "media-bucket", "DomainName": f"{self.media_bucket}.s3.amazonaws.com"}
        config: Any = {
            "CallerReference": uuid.uuid4().hex,
            "Comment": "local media CDN",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{**origin, "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "media-bucket",
                "ViewerProtocolPolicy": "https-only",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
        return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])

    def attach(self, functions: Mapping[str, LocalFunction]) -> None:
        self._transform = functions.get(TRANSFORM_FUNCTION)

    @property
    def public_key_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def invalidations(self) -> list[list[str]]:
        """The paths of every invalidation made so far, newest first (for tests)."""
        cloudfront = self._emulator.client("cloudfront")
        listed = cloudfront.list_invalidations(DistributionId=self.distribution_id)
        found = []
        for item in (listed.get("InvalidationList") or {}).get("Items") or []:
            full = cloudfront.get_invalidation(DistributionId=self.distribution_id, Id=item["Id"])
            found.append(list(full["Invalidation"]["InvalidationBatch"]["Paths"].get("Items") or []))
        return found

    # ------------------------------------------------------------------ serving
    @staticmethod
    def serves(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def respond(self, method: str, raw_target: str, headers: list[tuple[str, str]], client_ip: str) -> Answer:
        split = urlsplit(raw_target)
        raw_path = split.path[len(PREFIX) :] or "/"
        lowered = {k.lower(): v for k, v in headers}
        if method not in ("GET", "HEAD"):
            return self._finish(405, [("Allow", "GET, HEAD")], b"method not allowed\n", lowered)
        if raw_path.startswith("/t/"):
            status, out, body = self._transform_request(method, unquote(raw_path), lowered, client_ip)
        elif raw_path.startswith("/public/"):
            status, out, body = self._published(method, raw_path)
        else:
            status, out, body = self._object(method, raw_path, split.query)
        return self._finish(status, out, body, lowered)

    def _finish(
        self, status: int, headers: list[tuple[str, str]], body: bytes, request: Mapping[str, str]
    ) -> Answer:
        out = [*headers, *SECURITY_HEADERS.items()]
        origin = request.get("origin")
        if origin and origin in self.origins:  # the response-headers policy's CORS part
            out += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        return status, out, body

    def _transform_request(
        self, method: str, path: str, headers: Mapping[str, str], client_ip: str
    ) -> Answer:
        from media_core.domain.transform import accept_header_for, normalize_accept

        if self._transform is None:
            return 404, [("Content-Type", "text/plain")], b"no Transform function\n"
        forwarded = {"accept": accept_header_for(normalize_accept(headers.get("accept")))}
        event = {
            "version": "2.0",
            "rawPath": path,
            "rawQueryString": "",
            "headers": forwarded,
            "requestContext": {
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": client_ip},
                "requestId": str(uuid.uuid4()),
                "timeEpoch": int(time.time() * 1000),
            },
            "isBase64Encoded": False,
        }
        try:
            result = self._transform.invoke(event, f"cdn {method} {path}")
        except FunctionError:
            return 502, [("Content-Type", "text/plain")], b"transform function error\n"
        out = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        return int(result["statusCode"]), out, body

    def _refuse(self, message: str) -> Answer:
        # CloudFront's own answer to a missing or bad signature: 403, not cacheable.
        log.info("cdn -> 403 (%s)", message)
        return 403, [("Content-Type", "text/plain"), ("Cache-Control", "no-store")], f"{message}\n".encode()

    def verify(self, raw_path: str, query: str, now: float | None = None) -> str | None:
        """Why a request for `raw_path?query` is refused, or None: a signed URL with a canned
        policy (`Expires=`) or a custom one (`Policy=`, from CloudFrontUrlSigner.relative_url)."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        signature, key_pair = params.get("Signature"), params.get("Key-Pair-Id")
        expires, custom = params.get("Expires"), params.get("Policy")
        if not (signature and key_pair and (expires or custom)):
            return "Missing Key-Pair-Id query parameter or cookie value"
        if key_pair != KEY_PAIR_ID:
            return "Invalid Key-Pair-Id"
        if custom:
            return self._verify_custom(raw_path, custom, signature, now)
        if not expires or not expires.isdigit():
            return "Invalid Expires"
        moment = int(expires)
        policy = CloudFrontSigner(KEY_PAIR_ID, lambda _m: b"").build_policy(
            self.base_url + raw_path, dt.datetime.fromtimestamp(moment, dt.UTC)
        )
        return self._check(policy.encode(), signature, moment, now)

    def _verify_custom(self, raw_path: str, encoded: str, signature: str, now: float | None) -> str | None:
        """Its Resource, with `*` and `?` wildcards, must cover the URL as the https-only
        distribution sees it."""
        try:
            policy = _unb64(encoded)
            (statement,) = json.loads(policy)["Statement"]
            resource = str(statement["Resource"])
            moment = int(statement["Condition"]["DateLessThan"]["AWS:EpochTime"])
        except (ValueError, KeyError, TypeError):
            return "Access denied: malformed policy"
        pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in resource)
        if not re.fullmatch(pattern, f"https://{LOCAL_DOMAIN}{raw_path}"):
            return "Access denied: the policy does not cover this URL"
        return self._check(policy, signature, moment, now)

    def _check(self, policy: bytes, signature: str, moment: int, now: float | None) -> str | None:
        try:
            self._key.public_key().verify(
                _unb64(signature),
                policy,
                padding.PKCS1v15(),
                hashes.SHA1(),  # noqa: S303  (CloudFront's documented scheme)
            )
        except (InvalidSignature, ValueError):
            return "Access denied: the signature does not match"
        if (time.time() if now is None else now) >= moment:
            return "Access denied: the signed URL has expired"
        return None

    def _published(self, method: str, raw_path: str) -> Answer:
        """`/public/*`: no signature, but only a key of the published copies' shape; encoded
        separators and dot segments never reach the bucket (no way out of `public/`)."""
        lowered = raw_path.lower()
        if any(trick in lowered for trick in ("%2f", "%5c", "%2e", "\\")):
            return 400, [("Content-Type", "text/plain")], b"malformed public path\n"
        key = unquote(raw_path).lstrip("/")
        if not _PUBLIC_KEY.match(key):
            return 400, [("Content-Type", "text/plain")], b"malformed public path\n"
        return self._read(method, key)

    def _object(self, method: str, raw_path: str, query: str) -> Answer:
        if not self.signed:
            return self._refuse("private media needs a signed URL")
        refused = self.verify(raw_path, query)
        if refused is not None:
            return self._refuse(refused)
        return self._read(method, unquote(raw_path).lstrip("/"))

    def _read(self, method: str, key: str) -> Answer:
        if self._s3 is None:
            self._s3 = self._emulator.client("s3")
        try:
            found = self._s3.get_object(Bucket=self.media_bucket, Key=key)
        except ClientError as err:
            if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return 404, [("Content-Type", "text/plain"), ("Cache-Control", "no-store")], b"not found\n"
            raise
        body = found["Body"].read()
        out = [("Content-Type", found.get("ContentType") or "application/octet-stream")]
        if found.get("CacheControl"):
            out.append(("Cache-Control", found["CacheControl"]))
        if found.get("ETag"):
            out.append(("ETag", found["ETag"]))
        return 200, out, body if method == "GET" else b""
