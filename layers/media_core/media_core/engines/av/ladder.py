"""The HLS bitrate ladder, declared once as data (like the image presets), and the renditions chosen
for one source from it.

A rung is named by its SHORT side ("720p" is 1280x720 landscape, 720x1280 portrait). Rules:
* never upscale: rungs larger than the source are dropped; a source whose short side lies between
  two rungs (more than 10 % above the lower) becomes the top rung at its own size (bitrate scaled
  from the rung above it); a source smaller than every rung gives a single rendition at its own
  size; a source larger than the ladder's top is served up to the top rung only;
* orientation follows the displayed picture (probe applies the rotation), so portrait stays portrait;
* even dimensions (4:2:0 chroma), square pixels.
Bitrates cap a CRF encode (`-crf` + `-maxrate`/`-bufsize`): simple content costs less than the cap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from media_core.domain.errors import MediaRejected
from media_core.engines.av.probe import MediaInfo

MIN_RUNG = 144
MAX_RUNG = 2160
MAX_RUNGS = 8
OWN_RUNG_MARGIN = 0.1  # a source within 10 % above a rung is served by that rung (no near-duplicate)
MP4_MAX_SHORT = 1080  # the progressive MP4 is the highest rendition not above 1080p


@dataclass(frozen=True, slots=True)
class Rung:
    """One ladder step: `height` is the short side of the picture."""

    height: int
    max_bitrate: int  # bits/s, the VBV cap (`-maxrate`)
    buffer_bits: int  # `-bufsize`

    @property
    def name(self) -> str:
        return f"{self.height}p"


# The VBV buffer holds this many seconds at the cap. One second (not the common two) because each
# segment-parallel worker starts with a fresh buffer: with 2 s, a 6 s segment may spend the extra
# initial fill every time and the stitched stream came out 10-12 % above the cap at 1080p (bench).
VBV_BUFFER_S = 1.0

# Apple's HLS authoring spec ladder (H.264, 16:9, 30 fps) as caps for CRF 23.
DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung(1080, 6_000_000, 6_000_000),
    Rung(720, 3_000_000, 3_000_000),
    Rung(480, 1_400_000, 1_400_000),
    Rung(360, 800_000, 800_000),
)
# Known caps for heights a deployment may list without a bitrate.
KNOWN_BITRATES: dict[int, int] = {
    2160: 16_000_000,
    1440: 10_000_000,
    1080: 6_000_000,
    720: 3_000_000,
    540: 2_000_000,
    480: 1_400_000,
    360: 800_000,
    240: 400_000,
    144: 200_000,
}
REFERENCE_HEIGHT = 1080


def default_bitrate(height: int) -> int:
    """The known cap for `height`, else 1080p's cap x (height/1080)^1.5 (rounded to 50 kb/s)."""
    if height in KNOWN_BITRATES:
        return KNOWN_BITRATES[height]
    scaled: float = KNOWN_BITRATES[REFERENCE_HEIGHT] * (height / REFERENCE_HEIGHT) ** 1.5
    return max(100_000, round(scaled / 50_000) * 50_000)


def rung(height: int, max_bitrate: int | None = None) -> Rung:
    rate = max_bitrate if max_bitrate is not None else default_bitrate(height)
    return Rung(height, rate, round(rate * VBV_BUFFER_S))


_ITEM = re.compile(r"^(\d+)p?(?::(\d+(?:\.\d+)?)([kKmM]?))?$")


def parse_ladder(text: str) -> tuple[Rung, ...]:
    """A deployment's ladder from a string parameter: comma-separated short sides, each optionally
    with its cap: "1080,720,480,360" or "1080:6M,720:3000k,360". Raises ValueError saying what is
    wrong (a malformed setting must fail the cold start, not the first upload)."""
    items = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part for part in items):
        raise ValueError(f"ladder {text!r}: expected comma-separated heights such as '1080,720,480,360'")
    rungs: list[Rung] = []
    for item in items:
        match = _ITEM.match(item)
        if match is None:
            raise ValueError(
                f"ladder rung {item!r}: expected a height such as '720' or '720p', optionally ':3000k'"
            )
        height = int(match.group(1))
        if not MIN_RUNG <= height <= MAX_RUNG:
            raise ValueError(f"ladder rung {item!r}: height must be within {MIN_RUNG}..{MAX_RUNG}")
        if height % 2:
            raise ValueError(f"ladder rung {item!r}: height must be even (4:2:0 video)")
        bitrate: int | None = None
        if match.group(2) is not None:
            unit = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(3).lower()]
            bitrate = round(float(match.group(2)) * unit)
            if bitrate < 50_000:
                raise ValueError(f"ladder rung {item!r}: bitrate below 50k is not usable")
        rungs.append(rung(height, bitrate))
    heights = [r.height for r in rungs]
    if len(set(heights)) != len(heights):
        raise ValueError(f"ladder {text!r}: a height is listed twice")
    if heights != sorted(heights, reverse=True):
        raise ValueError(f"ladder {text!r}: list heights from the largest to the smallest")
    if len(rungs) > MAX_RUNGS:
        raise ValueError(f"ladder {text!r}: at most {MAX_RUNGS} rungs")
    return tuple(rungs)


@dataclass(frozen=True, slots=True)
class Rendition:
    """One video rendition for one source: displayed size and the rung's caps."""

    name: str  # directory and playlist name, e.g. "720p"
    width: int
    height: int
    max_bitrate: int
    buffer_bits: int

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _size_for(short: int, src_w: int, src_h: int) -> tuple[int, int]:
    if src_w >= src_h:
        return _even(short * src_w / src_h), short
    return short, _even(short * src_h / src_w)


def choose_renditions(info: MediaInfo, ladder: tuple[Rung, ...] = DEFAULT_LADDER) -> tuple[Rendition, ...]:
    """The renditions for this source, largest first (see the module docstring for the rules)."""
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    if not ladder:
        raise ValueError("empty ladder")
    w, h = video.width, video.height
    if w < 2 or h < 2:
        raise MediaRejected(f"video size {w}x{h} is too small")
    src_short = min(w, h)
    ordered = sorted(ladder, key=lambda r: r.height, reverse=True)
    kept = [r for r in ordered if r.height <= src_short]
    above = [r for r in ordered if r.height > src_short]
    out: list[Rendition] = []
    between = bool(above) and (not kept or src_short > kept[0].height * (1 + OWN_RUNG_MARGIN))
    if between:
        # The source's own size lies between rungs (or below all of them): it becomes the top rung.
        own_short = src_short // 2 * 2
        ref = above[-1]
        scaled: float = ref.max_bitrate * (own_short / ref.height) ** 1.5
        rate = max(100_000, round(scaled / 50_000) * 50_000)
        if kept:  # never above the rate of the rung it replaces as the top
            rate = max(rate, kept[0].max_bitrate)
        ow, oh = _size_for(own_short, w, h)
        out.append(Rendition(f"{own_short}p", ow, oh, rate, round(rate * VBV_BUFFER_S)))
    for r in kept:
        rw, rh = _size_for(r.height, w, h)
        out.append(Rendition(r.name, rw, rh, r.max_bitrate, r.buffer_bits))
    return tuple(out)


class Sized(Protocol):
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


SizedT = TypeVar("SizedT", bound=Sized)


def _short_side(r: Sized) -> int:
    return min(r.width, r.height)


def mp4_rendition(renditions: Sequence[SizedT]) -> SizedT:
    """The rendition the progressive MP4 is made from: the largest whose short side is <= 1080
    (planned renditions, or the assembled variants that describe them)."""
    fitting = [r for r in renditions if _short_side(r) <= MP4_MAX_SHORT]
    if fitting:
        return max(fitting, key=_short_side)
    return min(renditions, key=_short_side)
