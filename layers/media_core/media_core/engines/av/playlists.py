"""HLS playlist text (pure functions: no files, no ffmpeg), following Apple's HLS authoring spec.

* media playlists: `EXT-X-VERSION:7` (fMP4 with EXT-X-MAP needs >= 6), `EXT-X-TARGETDURATION` =
  the longest EXTINF rounded to the nearest integer (RFC 8216: >= every rounded EXTINF),
  `EXT-X-PLAYLIST-TYPE:VOD`,
  `EXT-X-INDEPENDENT-SEGMENTS` (every segment starts with an IDR), `EXT-X-MAP` for the init
  segment, `EXT-X-ENDLIST`;
* master playlist: per variant `BANDWIDTH` = peak segment bit rate and `AVERAGE-BANDWIDTH` = mean
  bit rate, both MEASURED from the segment sizes (video + the audio rendition played with it),
  `CODECS` from the produced init segments, `RESOLUTION`, `FRAME-RATE`, `AUDIO` group;
* URIs are relative to the playlist.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HLS_VERSION = 7
AUDIO_GROUP = "aac"


def round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


@dataclass(frozen=True, slots=True)
class MediaSegment:
    uri: str
    duration_s: float
    size_bytes: int

    @property
    def bits_per_second(self) -> float:
        return self.size_bytes * 8 / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class MediaPlaylist:
    init_uri: str
    segments: tuple[MediaSegment, ...]

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)

    @property
    def target_duration(self) -> int:
        # RFC 8216 4.3.3.1: each EXTINF rounded to the NEAREST integer must be <= the target.
        return max(1, max(round_half_up(s.duration_s) for s in self.segments))

    @property
    def peak_bandwidth(self) -> int:
        return math.ceil(max(s.bits_per_second for s in self.segments))

    @property
    def average_bandwidth(self) -> int:
        total_bits = sum(s.size_bytes for s in self.segments) * 8
        return math.ceil(total_bits / self.duration_s) if self.duration_s > 0 else 0


def render_media_playlist(playlist: MediaPlaylist) -> str:
    if not playlist.segments:
        raise ValueError("a media playlist needs at least one segment")
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{HLS_VERSION}",
        f"#EXT-X-TARGETDURATION:{playlist.target_duration}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{playlist.init_uri}"',
    ]
    for seg in playlist.segments:
        lines += [f"#EXTINF:{seg.duration_s:.6f},", seg.uri]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class AudioEntry:
    uri: str
    channels: int
    codecs: str
    name: str = "Audio"


@dataclass(frozen=True, slots=True)
class VariantEntry:
    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str  # "avc1.64001f,mp4a.40.2"
    width: int
    height: int
    frame_rate: float


def render_master_playlist(variants: Sequence[VariantEntry], audio: AudioEntry | None) -> str:
    if not variants:
        raise ValueError("a master playlist needs at least one variant")
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{HLS_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio is not None:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="{audio.name}",DEFAULT=YES,'
            f'AUTOSELECT=YES,CHANNELS="{audio.channels}",URI="{audio.uri}"'
        )
    for v in variants:
        attrs = [
            f"BANDWIDTH={v.bandwidth}",
            f"AVERAGE-BANDWIDTH={v.average_bandwidth}",
            f'CODECS="{v.codecs}"',
            f"RESOLUTION={v.width}x{v.height}",
            f"FRAME-RATE={v.frame_rate:.3f}",
        ]
        if audio is not None:
            attrs.append(f'AUDIO="{AUDIO_GROUP}"')
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), v.uri]
    return "\n".join(lines) + "\n"
