"""A curated, JSON-safe subset of EXIF. Never the raw blob: it can hold serial numbers, maker
notes and location, and it is the caller's data, not ours to republish."""

from __future__ import annotations

import math
from typing import Any

from PIL import Image

__all__ = ["camera_exif", "gps"]

_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825

_MAKE, _MODEL = 0x010F, 0x0110
_EXPOSURE, _FNUMBER, _ISO = 0x829A, 0x829D, 0x8827
_TAKEN, _OFFSET = 0x9003, 0x9011
_FOCAL, _FOCAL_35 = 0x920A, 0xA405
_LENS_MAKE, _LENS_MODEL = 0xA433, 0xA434

_MAX_TEXT = 100


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:_MAX_TEXT] or None


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]  # IFDRational, int, float
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None  # 0/0 rationals are NaN: not JSON


def _first(value: object) -> object:
    return value[0] if isinstance(value, tuple) and value else value


def _taken_at(raw: object, offset: object) -> str | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" (+ optional "+HH:MM") -> ISO-8601."""
    text = _text(raw)
    if not text or len(text) < 19 or text.startswith("0000"):
        return None
    date, time = text[:10].replace(":", "-"), text[11:19]
    if not (date[:4].isdigit() and date[5:7].isdigit() and date[8:10].isdigit()):
        return None
    tz = _text(offset) or ""
    return f"{date}T{time}{tz if len(tz) == 6 and tz[0] in '+-' else ''}"


def camera_exif(image: Image.Image) -> dict[str, Any]:
    """make, model, lens, taken_at, exposure_time (s), f_number, iso, focal_length (mm)."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(_IFD_EXIF)
    except Exception:  # malformed EXIF: no camera data rather than a failed image
        return {}
    fields: dict[str, Any] = {
        "make": _text(exif.get(_MAKE)),
        "model": _text(exif.get(_MODEL)),
        "lens": _text(sub.get(_LENS_MODEL)) or _text(sub.get(_LENS_MAKE)),
        "taken_at": _taken_at(sub.get(_TAKEN), sub.get(_OFFSET)),
        "exposure_time": _number(sub.get(_EXPOSURE)),
        "f_number": _number(sub.get(_FNUMBER)),
        "iso": _number(_first(sub.get(_ISO))),
        "focal_length": _number(sub.get(_FOCAL)),
        "focal_length_35mm": _number(sub.get(_FOCAL_35)),
    }
    if fields["iso"] is not None:
        fields["iso"] = int(fields["iso"])
    return {k: v for k, v in fields.items() if v is not None}


def _degrees(dms: object, ref: object) -> float | None:
    if not isinstance(dms, tuple) or len(dms) != 3:
        return None
    parts = [_number(p) for p in dms]
    if any(p is None for p in parts):
        return None
    d, m, s = (p for p in parts if p is not None)
    value = d + m / 60 + s / 3600
    if _text(ref) in ("S", "W"):
        value = -value
    return round(value, 6)


def gps(image: Image.Image) -> dict[str, float]:
    """{"lat", "lon", "altitude"} in decimal degrees / metres, for what is present and sane."""
    try:
        info = image.getexif().get_ifd(_IFD_GPS)
    except Exception:
        return {}
    lat, lon = _degrees(info.get(2), info.get(1)), _degrees(info.get(4), info.get(3))
    result: dict[str, float] = {}
    if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        result |= {"lat": lat, "lon": lon}
    altitude = _number(info.get(6))
    if altitude is not None:
        below_sea = info.get(5) in (1, b"\x01")
        result["altitude"] = round(-altitude if below_sea else altitude, 2)
    return result
