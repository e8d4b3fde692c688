"""Signed transformation URLs: canonical options, signatures, rotation, caps, negotiation."""

from __future__ import annotations

import base64

import pytest
from media_core.domain.transform import (
    InvalidSignature,
    InvalidTransform,
    SigningKeys,
    TransformExpired,
    TransformLimits,
    TransformOptions,
    build_path,
    cache_headers,
    canonical_options,
    negotiate_format,
    parse_options,
    parse_path,
    transform_url,
    with_expiry,
)

MEDIA = "0123456789abcdef0123456789abcdef"
OLD = b"o" * 32
NEW = b"n" * 32
KEYS = SigningKeys(NEW)


def test_equal_requests_give_equal_urls() -> None:
    # Given the same transformation built twice, field by field in a different order
    a = TransformOptions(width=320, height=200, fit="cover", format="webp", dpr=2)
    b = TransformOptions(dpr=2.0, format="webp", fit="cover", height=200, width=320)
    # Then both paths are identical, options sorted with defaults dropped
    assert build_path(MEDIA, a, KEYS) == build_path(MEDIA, b, KEYS)
    assert canonical_options(a) == "dpr_2,f_webp,fit_cover,h_200,w_320"
    assert canonical_options(TransformOptions(width=640, fit="contain", format="auto", dpr=1)) == "w_640"
    assert canonical_options(TransformOptions()) == "-"


def test_a_built_path_parses_back_to_the_same_request() -> None:
    options = TransformOptions(width=640, quality=70, format="avif", dpr=1.5)
    path = build_path(MEDIA, options, KEYS)
    assert path.startswith(f"/t/{MEDIA}/dpr_1.5,f_avif,q_70,w_640/")
    assert len(path.rsplit("/", 1)[1]) == 22
    parsed = parse_path(path, KEYS)
    assert parsed.media_id == MEDIA and parsed.options == options


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),  # signature
        lambda p: p.replace("w_640", "w_641"),  # option
        lambda p: p.replace(MEDIA, MEDIA[::-1]),  # media id
        lambda p: p.replace("w_640", "w_640,q_90"),  # added option
        lambda p: p.rsplit("/", 1)[0],  # no signature
        lambda p: p + "/extra",  # extra segment
        lambda p: p.replace("/t/", "/x/"),  # other prefix
        lambda p: p.rsplit("/", 1)[0] + "/" + "x" * 43,  # full-length garbage
    ],
)
def test_tampering_is_a_signature_error(tamper: object) -> None:
    # Given a valid path, changed in one place
    path = build_path(MEDIA, TransformOptions(width=640), KEYS)
    assert callable(tamper)
    # Then it is refused as unsigned (403), not as a bad option
    with pytest.raises(InvalidSignature):
        parse_path(tamper(path), KEYS)


def test_signature_is_checked_before_options_are_parsed() -> None:
    # Given a path with nonsense options and a wrong signature
    # Then the signature error wins: nobody unauthenticated learns the grammar
    with pytest.raises(InvalidSignature):
        parse_path(f"/t/{MEDIA}/zzz_1,w_99999999/{'A' * 22}", KEYS)


def test_rotation_old_key_works_while_configured_then_fails() -> None:
    # Given a URL signed with the old key
    old_path = build_path(MEDIA, TransformOptions(width=320), SigningKeys(OLD))
    # When the new key is current and the old one still previous, the URL verifies
    rotating = SigningKeys(NEW, previous=OLD)
    assert parse_path(old_path, rotating).options.width == 320
    # and new URLs are signed with the new key
    assert build_path(MEDIA, TransformOptions(width=320), rotating) == build_path(
        MEDIA, TransformOptions(width=320), SigningKeys(NEW)
    )
    # When the old key is removed, the old URL fails
    with pytest.raises(InvalidSignature):
        parse_path(old_path, SigningKeys(NEW))


def test_keys_from_config() -> None:
    keys = SigningKeys.from_config(f"{NEW.hex()}, {OLD.hex()}")
    assert keys.active == (NEW, OLD)
    b64 = base64.urlsafe_b64encode(OLD).rstrip(b"=").decode()
    assert SigningKeys.from_config(b64).current == OLD
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SigningKeys.from_config("abcd")
    with pytest.raises(ValueError, match="one or two"):
        SigningKeys.from_config(",".join([NEW.hex()] * 3))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("w_640,x_1", "unknown option 'x'"),
        ("w_abc", "w: 'abc' is not a positive integer"),
        ("w_0", "w: '0' is not a positive integer"),
        ("w_-5", "w: '-5' is not a positive integer"),
        ("w_1,w_2", "given twice"),
        ("w640", "not key_value"),
        ("fit_zoom,h_1,w_1", "fit: 'zoom' is not one of contain, cover, fill"),
        ("f_gif", "f: 'gif' is not one of"),
        ("fit_cover,w_100", "fit cover needs both w and h"),
        ("q_101", "q: 101 is outside 1..100"),
        ("dpr_4", "dpr: '4' is not a number 1..3"),
        ("dpr_1.25", "dpr: '1.25'"),
        ("dpr_0.5", "dpr: '0.5'"),
        ("w_5000", "w: 5000 px (w x dpr) exceeds the maximum width 4096"),
        ("dpr_3,w_2000", "w: 6000 px (w x dpr) exceeds the maximum width 4096"),
        ("h_4096,w_4000", "exceeds the maximum of 16 MP"),
        ("w_640,h_480", "not in canonical form: expected 'h_480,w_640'"),
        ("dpr_1,w_640", "not in canonical form: expected 'w_640'"),
        ("f_auto", "not in canonical form: expected '-'"),
        ("exp_soon", "exp: 'soon' is not a Unix time"),
        ("exp_²", "exp: '²' is not a Unix time"),
    ],
)
def test_invalid_options_say_what_is_wrong(options: str, message: str) -> None:
    with pytest.raises(InvalidTransform, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_options(options)


def test_allowed_widths_and_caps_also_apply_when_building() -> None:
    limits = TransformLimits(allowed_widths=(320, 640, 1280), max_pixels=1_000_000)
    assert parse_options("w_640", limits).width == 640
    with pytest.raises(InvalidTransform, match="w: 500 is not an allowed size"):
        parse_options("w_500", limits)
    with pytest.raises(InvalidTransform, match="not an allowed size"):
        build_path(MEDIA, TransformOptions(width=500), KEYS, limits)
    with pytest.raises(InvalidTransform, match="exceeds the maximum of 1 MP"):
        build_path(MEDIA, TransformOptions(width=1280, height=1280), KEYS, limits)
    with pytest.raises(InvalidTransform, match="media id"):
        build_path("../etc/passwd", TransformOptions(width=320), KEYS)


def test_expiring_urls_are_stable_within_a_window_and_refused_after() -> None:
    # Given two builds in the same hour, one in the next
    window = 3600
    t0 = 1_800_000_000 - 1_800_000_000 % window
    a = build_path(MEDIA, with_expiry(TransformOptions(width=320), t0 + 5, 3600, window), KEYS)
    b = build_path(MEDIA, with_expiry(TransformOptions(width=320), t0 + 3500, 3600, window), KEYS)
    c = build_path(MEDIA, with_expiry(TransformOptions(width=320), t0 + 3605, 3600, window), KEYS)
    # Then the first two are identical and the third differs
    assert a == b != c
    request = parse_path(a, KEYS, now=t0 + 5)
    assert request.options.expires == t0 + 2 * window
    # And past the expiry the signed URL is refused as expired (a kind of signature error)
    with pytest.raises(TransformExpired):
        parse_path(a, KEYS, now=t0 + 2 * window)


@pytest.mark.parametrize(
    ("requested", "accept", "alpha", "expected"),
    [
        ("auto", "image/avif,image/webp,*/*", False, "avif"),
        ("auto", "image/webp,*/*", False, "webp"),
        ("auto", "*/*", False, "jpeg"),
        ("auto", None, True, "png"),
        ("auto", "image/webp", True, "webp"),
        ("auto", "avif", True, "avif"),
        ("jpeg", "image/avif", True, "jpeg"),
        ("png", None, False, "png"),
    ],
)
def test_auto_format_negotiation(requested: str, accept: str | None, alpha: bool, expected: str) -> None:
    assert negotiate_format(requested, accept, has_alpha=alpha) == expected  # type: ignore[arg-type]


def test_cache_headers() -> None:
    # Given an auto-format transformation, Then caches keep it a year and vary on Accept
    assert cache_headers(TransformOptions(width=320), now=0) == {
        "Cache-Control": "public, max-age=31536000, immutable",
        "Vary": "Accept",
    }
    # Given an explicit format expiring in 600 s, Then no Vary and caches stop at the expiry
    assert cache_headers(TransformOptions(width=320, format="webp", expires=1600), now=1000) == {
        "Cache-Control": "public, max-age=600"
    }


def test_transform_url_for_public_and_private_media() -> None:
    options = TransformOptions(width=320)
    # Given public media, Then the URL never expires and is the same at any time
    public = transform_url("https://cdn.example.com/", MEDIA, options, KEYS, private=False, now=0)
    assert public == transform_url("https://cdn.example.com", MEDIA, options, KEYS, private=False, now=9e9)
    assert public.startswith(f"https://cdn.example.com/t/{MEDIA}/w_320/")
    # Given private media, Then it carries an expiry rounded up to the window
    private = transform_url("https://cdn.example.com", MEDIA, options, KEYS, private=True, now=100)
    assert f"/t/{MEDIA}/exp_7200,w_320/" in private
    assert parse_path(private.removeprefix("https://cdn.example.com"), KEYS, now=7199).options.expires == 7200
