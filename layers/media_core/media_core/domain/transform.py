"""Signed on-demand image transformation URLs: grammar, canonical form, signature, format negotiation.

Pure (no AWS, no Pillow): the query API builds URLs with it, the Transform function checks them,
and `cloudfront/normalize_accept.js` mirrors `normalize_accept` for the CDN's cache key.

Path shape: ``/t/{media_id}/{options}/{signature}``

- ``media_id`` first, so one CloudFront invalidation ``/t/{media_id}/*`` purges every
  transformation of a deleted or rejected item (invalidation wildcards only work at the end of a
  path; with the signature first, per-item purges would be impossible).
- ``options``: comma-separated ``key_value`` pairs, sorted by key, defaults left out, ``-`` when
  every option is the default: ``dpr_2,f_webp,fit_cover,h_200,w_320,v_0a1b2c3d4e5f``. Only the
  canonical spelling is accepted, so one transformation has exactly one URL (one cache entry).
  ``v`` is the processing run the URL was issued for: a replacement or a reprocess gives new
  URLs (the CDN's and the browsers' year-long copies of the old ones are never shown for the new
  content), and the Transform function refuses a run that is no longer the record's.
- ``signature``: HMAC-SHA256 over ``/{media_id}/{options}`` (everything before it), base64url
  without padding, truncated to 16 bytes (128 bits, above the 80-bit floor NIST SP 800-107 sets
  for truncated HMACs; 22 characters). It is checked before the options are even parsed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "ACCEPT_TOKENS",
    "DEFAULT_LIMITS",
    "PATH_PREFIX",
    "VARY",
    "AcceptToken",
    "Fit",
    "InvalidSignature",
    "InvalidTransform",
    "RequestedFormat",
    "SigningKeys",
    "TransformError",
    "TransformExpired",
    "TransformLimits",
    "TransformOptions",
    "TransformRequest",
    "accept_header_for",
    "build_path",
    "cache_headers",
    "canonical_options",
    "negotiate_format",
    "normalize_accept",
    "parse_options",
    "parse_path",
    "sign",
    "transform_paths",
    "transform_url",
    "validate",
    "verify_signature",
    "with_expiry",
]

Fit = Literal["cover", "contain", "fill"]
RequestedFormat = Literal["jpeg", "png", "webp", "avif", "auto"]
OutputFormat = Literal["jpeg", "png", "webp", "avif"]
AcceptToken = Literal["avif", "webp", "jpeg"]

PATH_PREFIX = "/t/"
VARY = "Accept"
"""Sent with every `format=auto` response; the CDN caches on the normalised Accept only."""

ACCEPT_TOKENS: tuple[AcceptToken, ...] = ("avif", "webp", "jpeg")
_FITS: tuple[Fit, ...] = ("contain", "cover", "fill")
_FORMATS: tuple[RequestedFormat, ...] = ("auto", "jpeg", "png", "webp", "avif")
_NO_OPTIONS = "-"
_SIGNATURE_BYTES = 16
_SIGNATURE_CHARS = 22  # base64url of 16 bytes, unpadded
_MEDIA_ID = re.compile(r"[0-9a-f]{32}")  # media_core.domain.keys.new_media_id: uuid4().hex
_MIN_KEY_BYTES = 32
_INT = re.compile(r"[1-9][0-9]{0,5}")
_UNIX_TIME = re.compile(r"[1-9][0-9]{0,11}")
_DPR = re.compile(r"[1-3](\.[1-9])?")
_RUN = re.compile(r"[0-9a-f]{8,32}")  # media_core.processing.lifecycle: uuid4().hex[:12]
# RFC 9110 qvalue; anything else counts as q=0 (cloudfront/normalize_accept.js uses the same rule).
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


class TransformError(Exception):
    """Base of everything a transformation URL can be refused for."""


class InvalidSignature(TransformError):
    """Not signed by a configured key, or not shaped like a signed path at all (HTTP 403).

    Raised before any option is parsed: unauthenticated callers learn nothing about the grammar."""


class TransformExpired(InvalidSignature):
    """Correctly signed, but its `exp` has passed (HTTP 403, like an expired S3 URL)."""


class InvalidTransform(TransformError):
    """Signed, but the options are malformed or outside the configured caps (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class TransformLimits:
    """Caps on what a transformation may ask for (the output, after `dpr`)."""

    max_width: int = 4096
    max_height: int = 4096
    max_pixels: int = 16_000_000
    allowed_widths: tuple[int, ...] | None = None
    """When set, `w` (before dpr) must be one of these: bounds the number of cache entries."""
    allowed_heights: tuple[int, ...] | None = None


DEFAULT_LIMITS = TransformLimits()


@dataclass(frozen=True, slots=True)
class TransformOptions:
    """One transformation. `width`/`height` are CSS pixels; the output is `dpr` times that."""

    width: int | None = None
    height: int | None = None
    fit: Fit = "contain"
    format: RequestedFormat = "auto"
    quality: int | None = None
    """None: the encoder's default for the chosen format (see engines.imaging.transform)."""
    dpr: float = 1.0
    expires: int | None = None
    """Unix time after which the URL is refused (private media); None: never expires."""
    version: str | None = None
    """The processing run (`run_id`) the URL is for: the Transform function serves only the
    record's current run. None only in tests of the grammar and the renderer."""

    @property
    def box(self) -> tuple[int | None, int | None]:
        """Requested output box in device pixels (None: unconstrained on that axis)."""
        return (
            None if self.width is None else round(self.width * self.dpr),
            None if self.height is None else round(self.height * self.dpr),
        )

    @property
    def varies_by_accept(self) -> bool:
        return self.format == "auto"


@dataclass(frozen=True, slots=True)
class TransformRequest:
    media_id: str
    options: TransformOptions


# ---------------------------------------------------------------------------------- options


def _dpr_text(dpr: float) -> str:
    return f"{dpr:.1f}".removesuffix(".0")


def canonical_options(options: TransformOptions) -> str:
    """The one spelling of `options`: sorted keys, defaults dropped, `-` for all defaults."""
    parts: dict[str, str] = {}
    if options.width is not None:
        parts["w"] = str(options.width)
    if options.height is not None:
        parts["h"] = str(options.height)
    if options.fit != "contain":
        parts["fit"] = options.fit
    if options.format != "auto":
        parts["f"] = options.format
    if options.quality is not None:
        parts["q"] = str(options.quality)
    if options.dpr != 1.0:
        parts["dpr"] = _dpr_text(options.dpr)
    if options.expires is not None:
        parts["exp"] = str(options.expires)
    if options.version is not None:
        parts["v"] = options.version
    return ",".join(f"{k}_{parts[k]}" for k in sorted(parts)) or _NO_OPTIONS


def _int(key: str, text: str) -> int:
    if not _INT.fullmatch(text):
        raise InvalidTransform(f"{key}: {text!r} is not a positive integer")
    return int(text)


def validate(options: TransformOptions, limits: TransformLimits = DEFAULT_LIMITS) -> TransformOptions:
    """Raise InvalidTransform naming the first rule `options` breaks; return them unchanged."""
    if options.fit not in _FITS:
        raise InvalidTransform(f"fit: {options.fit!r} is not one of {', '.join(_FITS)}")
    if options.format not in _FORMATS:
        raise InvalidTransform(f"f: {options.format!r} is not one of {', '.join(_FORMATS)}")
    if options.fit != "contain" and (options.width is None or options.height is None):
        raise InvalidTransform(f"fit {options.fit} needs both w and h")
    if options.quality is not None and not 1 <= options.quality <= 100:
        raise InvalidTransform(f"q: {options.quality} is outside 1..100")
    if not 1.0 <= options.dpr <= 3.0 or _dpr_text(options.dpr) != f"{options.dpr:g}":
        raise InvalidTransform(f"dpr: {options.dpr:g} is not one of 1, 1.1 .. 3 (one decimal)")
    for key, value, allowed in (
        ("w", options.width, limits.allowed_widths),
        ("h", options.height, limits.allowed_heights),
    ):
        if value is not None and value < 1:
            raise InvalidTransform(f"{key}: {value} is not a positive integer")
        if value is not None and allowed is not None and value not in allowed:
            raise InvalidTransform(f"{key}: {value} is not an allowed size ({', '.join(map(str, allowed))})")
    box_w, box_h = options.box
    if box_w is not None and box_w > limits.max_width:
        raise InvalidTransform(f"w: {box_w} px (w x dpr) exceeds the maximum width {limits.max_width}")
    if box_h is not None and box_h > limits.max_height:
        raise InvalidTransform(f"h: {box_h} px (h x dpr) exceeds the maximum height {limits.max_height}")
    if box_w is not None and box_h is not None and box_w * box_h > limits.max_pixels:
        raise InvalidTransform(
            f"{box_w}x{box_h} px exceeds the maximum of {limits.max_pixels / 1e6:g} MP per output"
        )
    if options.expires is not None and options.expires < 1:
        raise InvalidTransform(f"exp: {options.expires} is not a Unix time")
    if options.version is not None and not _RUN.fullmatch(options.version):
        raise InvalidTransform(f"v: {options.version!r} is not a run id (8 to 32 lowercase hex digits)")
    return options


def parse_options(text: str, limits: TransformLimits = DEFAULT_LIMITS) -> TransformOptions:
    """Parse the canonical option string; errors say which option is wrong and why."""
    if text == _NO_OPTIONS:
        return TransformOptions()
    values: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("_")
        if not sep or not key or not value:
            raise InvalidTransform(f"option {part!r} is not key_value (e.g. w_640)")
        if key in values:
            raise InvalidTransform(f"option {key!r} is given twice")
        values[key] = value
    unknown = sorted(set(values) - {"w", "h", "fit", "f", "q", "dpr", "exp", "v"})
    if unknown:
        raise InvalidTransform(f"unknown option {unknown[0]!r} (known: w, h, fit, f, q, dpr, exp, v)")
    fit, fmt = values.get("fit", "contain"), values.get("f", "auto")
    if fit not in _FITS:
        raise InvalidTransform(f"fit: {fit!r} is not one of {', '.join(_FITS)}")
    if fmt not in _FORMATS:
        raise InvalidTransform(f"f: {fmt!r} is not one of {', '.join(_FORMATS)}")
    dpr_text = values.get("dpr")
    if dpr_text is not None and not _DPR.fullmatch(dpr_text):
        raise InvalidTransform(f"dpr: {dpr_text!r} is not a number 1..3 with at most one decimal")
    options = TransformOptions(
        width=_int("w", values["w"]) if "w" in values else None,
        height=_int("h", values["h"]) if "h" in values else None,
        fit=fit,
        format=fmt,
        quality=_int("q", values["q"]) if "q" in values else None,
        dpr=float(dpr_text) if dpr_text is not None else 1.0,
        expires=int(values["exp"]) if _UNIX_TIME.fullmatch(values.get("exp", "")) else None,
        version=values.get("v"),
    )
    if "exp" in values and options.expires is None:
        raise InvalidTransform(f"exp: {values['exp']!r} is not a Unix time")
    validate(options, limits)
    canonical = canonical_options(options)
    if text != canonical:
        # Another spelling of the same transformation would be a second cache entry.
        raise InvalidTransform(f"options are not in canonical form: expected {canonical!r}")
    return options


# ---------------------------------------------------------------------------------- signature


def _decode_key(text: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text) if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text) else b""
        if not raw:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ValueError("a signing key is neither hex nor base64url") from None
    return raw


@dataclass(frozen=True)
class SigningKeys:
    """The active HMAC keys: `current` signs, `current` or `previous` verify.

    Rotation: add the new key as current and the old one as previous, wait until every cached
    URL signed by the old key is past its CDN TTL, then drop previous. Verification tries both
    (no key id in the URL: rotating does not change the URL grammar)."""

    current: bytes
    previous: bytes | None = None

    def __post_init__(self) -> None:
        for key in (self.current, self.previous):
            if key is not None and len(key) < _MIN_KEY_BYTES:
                raise ValueError(f"signing keys need at least {_MIN_KEY_BYTES} bytes, got {len(key)}")

    @classmethod
    def from_config(cls, value: str) -> SigningKeys:
        """`current[,previous]`, each hex or base64url (e.g. from `TRANSFORM_SIGNING_KEYS`)."""
        parts = [p for p in (s.strip() for s in value.split(",")) if p]
        if not 1 <= len(parts) <= 2:
            raise ValueError(f"expected one or two signing keys, got {len(parts)}")
        keys = [_decode_key(p) for p in parts]
        return cls(keys[0], keys[1] if len(keys) == 2 else None)

    @property
    def active(self) -> tuple[bytes, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)


def _mac(key: bytes, signed: str) -> str:
    digest = hmac.new(key, signed.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(signed_part: str, keys: SigningKeys) -> str:
    return _mac(keys.current, signed_part)


def verify_signature(signed_part: str, signature: str, keys: SigningKeys) -> None:
    """Raise InvalidSignature unless a configured key signed `signed_part` (constant-time)."""
    given = signature.encode()
    # Compare with every key, no early exit: the time taken does not tell which key matched.
    matched = False
    for key in keys.active:
        matched |= hmac.compare_digest(_mac(key, signed_part).encode(), given)
    if not matched:
        raise InvalidSignature("signature does not match")


# ---------------------------------------------------------------------------------- paths


def build_path(
    media_id: str,
    options: TransformOptions,
    keys: SigningKeys,
    limits: TransformLimits = DEFAULT_LIMITS,
) -> str:
    """The signed path `/t/{media_id}/{options}/{signature}`; equal options give equal paths.

    Validates first: a URL the Transform function would refuse is never handed out."""
    if not _MEDIA_ID.fullmatch(media_id):
        raise InvalidTransform(f"media id {media_id!r} is not 32 lowercase hex digits")
    validate(options, limits)
    signed = f"/{media_id}/{canonical_options(options)}"
    return f"{PATH_PREFIX.rstrip('/')}{signed}/{sign(signed, keys)}"


def transform_paths(media_id: str) -> list[str]:
    """The CDN paths of every transformation of a media item (one wildcard invalidation)."""
    return [f"{PATH_PREFIX}{media_id}/*"]


def with_expiry(
    options: TransformOptions, now: float, ttl_seconds: int, window_seconds: int
) -> TransformOptions:
    """`options` expiring at least `ttl_seconds` from `now`, rounded up to the window so URLs
    built within one window are identical (lifetime: between ttl and ttl + window)."""
    expires = math.ceil((now + ttl_seconds) / window_seconds) * window_seconds
    return replace(options, expires=int(expires))


def transform_url(
    base_url: str,
    media_id: str,
    options: TransformOptions,
    keys: SigningKeys,
    *,
    private: bool,
    now: float,
    ttl_seconds: int = 3600,
    window_seconds: int = 3600,
    limits: TransformLimits = DEFAULT_LIMITS,
) -> str:
    """Absolute transformation URL under the CDN's `base_url`, for the query API.

    Public media: no expiry (cacheable for a year). Private media: `exp` rounded up to the
    window, so the URL is stable within a window and dies between ttl and ttl + window."""
    if private:
        options = with_expiry(options, now, ttl_seconds, window_seconds)
    return base_url.rstrip("/") + build_path(media_id, options, keys, limits)


def parse_path(
    path: str,
    keys: SigningKeys,
    limits: TransformLimits = DEFAULT_LIMITS,
    *,
    now: float | None = None,
) -> TransformRequest:
    """Check and decode a request path. Order: shape, signature, expiry, options.

    Raises InvalidSignature (403) for anything not signed by an active key, TransformExpired
    (403) past `exp` (checked only when `now` is given), InvalidTransform (400) otherwise."""
    if not path.startswith(PATH_PREFIX):
        raise InvalidSignature(f"not a transformation path (expected {PATH_PREFIX}...)")
    segments = path[len(PATH_PREFIX) :].split("/")
    if len(segments) != 3 or not all(segments):
        raise InvalidSignature("expected /t/{media_id}/{options}/{signature}")
    media_id, option_text, signature = segments
    if len(signature) != _SIGNATURE_CHARS:
        raise InvalidSignature("signature does not match")
    verify_signature(f"/{media_id}/{option_text}", signature, keys)
    options = parse_options(option_text, limits)
    if not _MEDIA_ID.fullmatch(media_id):  # only reachable with a signed bad id: our own bug
        raise InvalidTransform(f"media id {media_id!r} is not 32 lowercase hex digits")
    if now is not None and options.expires is not None and now >= options.expires:
        raise TransformExpired("this transformation URL has expired")
    return TransformRequest(media_id, options)


# ---------------------------------------------------------------------------------- Accept


def _accepted(accept: str) -> dict[str, float]:
    """Media range -> q, for the explicitly listed types (wildcards do not promise AVIF/WebP)."""
    ranges: dict[str, float] = {}
    for item in accept.lower().split(","):
        media, *params = (p.strip() for p in item.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.fullmatch(value) else 0.0
        ranges[media] = max(q, ranges.get(media, 0.0))
    return ranges


def normalize_accept(accept: str | None) -> AcceptToken:
    """Map any Accept header to one of three cache keys: avif, webp, jpeg.

    Only explicitly listed types count (`image/*` and `*/*` promise nothing: every browser that
    decodes AVIF or WebP lists it); q=0 excludes a type. Idempotent: a token, or the header
    `accept_header_for` writes, maps to itself. `cloudfront/normalize_accept.js` mirrors this
    and both are tested on `cloudfront/accept_cases.json`."""
    text = (accept or "").strip().lower()
    if text in ACCEPT_TOKENS:
        return text
    ranges = _accepted(text)
    if ranges.get("image/avif", 0.0) > 0:
        return "avif"
    if ranges.get("image/webp", 0.0) > 0:
        return "webp"
    return "jpeg"


def accept_header_for(token: AcceptToken) -> str:
    """The Accept value the CDN forwards (a valid media type, so any origin can read it)."""
    return f"image/{token}"


def negotiate_format(requested: RequestedFormat, accept: str | None, *, has_alpha: bool) -> OutputFormat:
    """The format to encode: an explicit one as asked; `auto` -> AVIF, else WebP, else JPEG, and
    PNG instead of JPEG when the image has transparency JPEG would flatten."""
    if requested != "auto":
        return requested
    negotiated = normalize_accept(accept)
    if negotiated == "jpeg" and has_alpha:
        return "png"
    return negotiated


# ---------------------------------------------------------------------------------- response


_YEAR = 365 * 24 * 3600


def cache_headers(options: TransformOptions, *, now: float) -> dict[str, str]:
    """Cache-Control (and Vary for `auto`) for a rendered transformation.

    A transformation URL names immutable bytes (a new source gets a new media id or a purge), so
    caches may keep it a year; an expiring URL may be cached only until it expires. `public` is
    right for private media too: the signed URL itself is the capability, and the CDN keys on it."""
    max_age = _YEAR if options.expires is None else max(0, min(_YEAR, int(options.expires - now)))
    headers = {
        "Cache-Control": f"public, max-age={max_age}" + (", immutable" if options.expires is None else "")
    }
    if options.varies_by_accept:
        headers["Vary"] = VARY
    return headers
