"""ffprobe: container and stream facts, read from a local path or an http(s) URL without downloading.

Width and height are reported AS DISPLAYED: the display matrix (or the legacy `rotate` tag) and a
non-square sample aspect ratio are applied, so a phone's portrait clip is portrait here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from media_core.domain.errors import MediaRejected
from media_core.engines.av import runner
from media_core.engines.av.binaries import find_binaries

PROBE_TIMEOUT_S = 60.0
# Tags worth showing in a player. Everything else (GPS location, device make/model, encoder, dates
# of capture) stays out of the record: no metadata leaks.
PUBLIC_TAGS = ("title", "artist", "album", "album_artist", "genre", "date", "track")


@dataclass(frozen=True)
class VideoStream:
    index: int
    codec: str
    profile: str | None
    pix_fmt: str | None
    coded_width: int
    coded_height: int
    width: int  # displayed (rotation and sample aspect ratio applied)
    height: int
    rotation: int  # clockwise degrees a player turns the coded picture: 0, 90, 180 or 270
    fps: float | None  # average frame rate
    variable_frame_rate: bool
    bit_rate: int | None
    level: int | None = None
    # The stream's own length when the file states it (MP4's stream duration, Matroska's DURATION
    # tag): a container can run longer than its picture when the audio ends later.
    duration_s: float | None = None


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    profile: str | None
    channels: int
    sample_rate: int
    bit_rate: int | None


@dataclass(frozen=True)
class MediaInfo:
    container: str  # demuxer short name, e.g. "mov", "matroska", "mp3"
    format_names: tuple[str, ...]  # e.g. ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")
    duration_s: float
    bit_rate: int | None
    size_bytes: int | None
    video: VideoStream | None
    audio: AudioStream | None
    cover_art_index: int | None  # an attached picture (album art), not a video stream
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def picture_s(self) -> float:
        """How long there is a picture: the video stream's own length where the file states it
        (a container runs longer when the audio ends later), else the container's."""
        video_s = self.video.duration_s if self.video is not None else None
        return min(self.duration_s, video_s or self.duration_s)

    @property
    def duration_text(self) -> str:
        return format_duration(self.duration_s)

    def to_metadata(self) -> dict[str, Any]:
        """JSON-safe dict for the media record."""
        meta: dict[str, Any] = {
            "container": self.container,
            "duration_s": round(self.duration_s, 3),
            "duration": self.duration_text,
            "bit_rate": self.bit_rate,
            "size_bytes": self.size_bytes,
            "has_audio": self.has_audio,
            "has_cover_art": self.cover_art_index is not None,
        }
        if self.video is not None:
            v = asdict(self.video)
            v.pop("index")
            if v["fps"] is not None:
                v["fps"] = round(v["fps"], 3)
            meta["video"] = v
            meta["width"] = self.video.width
            meta["height"] = self.video.height
        if self.audio is not None:
            a = asdict(self.audio)
            a.pop("index")
            meta["audio"] = a
        if self.tags:
            meta["tags"] = dict(self.tags)
        return meta


def format_duration(seconds: float) -> str:
    """m:ss below an hour, h:mm:ss above (rounded to whole seconds)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def run_ffprobe(
    source: str, demuxers: Sequence[str], *, timeout_s: float = PROBE_TIMEOUT_S
) -> dict[str, Any]:
    """Raw `ffprobe -print_format json -show_format -show_streams` output for `source`."""
    runner.check_source(source)
    args = [
        str(find_binaries().ffprobe),
        "-v",
        "error",
        "-hide_banner",
        *runner.input_args(source, demuxers),
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-i",
        source,
    ]
    result = runner.run(
        args,
        source=source,
        demuxers=demuxers,
        timeout_s=timeout_s,
        timeout_reason="probing the file took too long",
    )
    try:
        data: dict[str, Any] = json.loads(result.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise MediaRejected("not a media file") from exc
    if "format" not in data:
        raise MediaRejected("not a media file")
    return data


def probe(
    source: str, demuxers: Sequence[str] = runner.VIDEO_DEMUXERS, *, timeout_s: float = PROBE_TIMEOUT_S
) -> MediaInfo:
    """Probe `source` (local path or http(s) URL). Raises MediaRejected for non-media input."""
    return parse_probe(run_ffprobe(source, demuxers, timeout_s=timeout_s))


def produced(demuxer: str, stream: Literal["audio", "video"]) -> Callable[[Path], MediaInfo]:
    """A `runner.run_to_file` check: probe the file ffmpeg wrote (as `demuxer`) and reject it
    (MediaRejected) when it holds no `stream`; its MediaInfo is what run_to_file returns."""

    def check(path: Path) -> MediaInfo:
        info = probe(str(path), (demuxer,))
        if (info.audio if stream == "audio" else info.video) is None:
            raise MediaRejected(f"transcoding produced no {stream}")
        return info

    return check


def parse_probe(data: dict[str, Any]) -> MediaInfo:
    fmt: dict[str, Any] = data.get("format", {})
    streams: list[dict[str, Any]] = data.get("streams", [])
    video: VideoStream | None = None
    audio: AudioStream | None = None
    cover: int | None = None
    for s in streams:
        kind = s.get("codec_type")
        attached = bool(s.get("disposition", {}).get("attached_pic"))
        if kind == "video" and attached:
            cover = s["index"] if cover is None else cover
        elif kind == "video" and video is None and _int(s.get("width")):
            video = _video_stream(s)
        elif kind == "audio" and audio is None:
            audio = _audio_stream(s)
    names = tuple(str(fmt.get("format_name", "")).split(","))
    duration = _float(fmt.get("duration"))
    if duration is None:
        durations = [d for s in streams if (d := _float(s.get("duration"))) is not None]
        duration = max(durations) if durations else None
    if duration is None or not math.isfinite(duration) or duration <= 0:
        # Still images in a video container, or a live stream without an index.
        raise MediaRejected("unknown or zero duration")
    tags = _public_tags(fmt.get("tags"))
    if audio is not None:  # Ogg/Opus and FLAC-in-Ogg keep their comments on the stream
        stream_tags = _public_tags(streams_by_index(streams).get(audio.index, {}).get("tags"))
        tags = {**stream_tags, **tags}
    return MediaInfo(
        container=names[0],
        format_names=names,
        duration_s=duration,
        bit_rate=_int(fmt.get("bit_rate")),
        size_bytes=_int(fmt.get("size")),
        video=video,
        audio=audio,
        cover_art_index=cover,
        tags=tags,
    )


def streams_by_index(streams: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(s["index"]): s for s in streams if "index" in s}


def _public_tags(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    lowered = {str(k).lower(): str(v).strip() for k, v in raw.items()}
    return {k: lowered[k][:500] for k in PUBLIC_TAGS if lowered.get(k)}


def _video_stream(s: dict[str, Any]) -> VideoStream:
    coded_w, coded_h = int(s["width"]), int(s["height"])
    rotation = _rotation(s)
    display_w, display_h = coded_w, coded_h
    sar = _fraction(s.get("sample_aspect_ratio"))
    if sar is not None and sar > 0 and sar != 1:
        display_w = max(2, round(coded_w * sar))
    if rotation in (90, 270):
        display_w, display_h = display_h, display_w
    avg = _fraction(s.get("avg_frame_rate"))
    real = _fraction(s.get("r_frame_rate"))
    fps = float(avg) if avg else (float(real) if real else None)
    vfr = bool(avg and real and abs(float(avg) - float(real)) > 0.01 * float(real))
    return VideoStream(
        index=int(s["index"]),
        codec=str(s.get("codec_name", "unknown")),
        profile=s.get("profile"),
        pix_fmt=s.get("pix_fmt"),
        coded_width=coded_w,
        coded_height=coded_h,
        width=display_w,
        height=display_h,
        rotation=rotation,
        fps=fps,
        variable_frame_rate=vfr,
        bit_rate=_int(s.get("bit_rate")),
        level=_int(s.get("level")),
        duration_s=_stream_duration(s),
    )


def _stream_duration(s: dict[str, Any]) -> float | None:
    duration = _float(s.get("duration"))
    if duration is None:
        duration = _clock_seconds((s.get("tags") or {}).get("DURATION"))
    return duration if duration is not None and math.isfinite(duration) and duration > 0 else None


def _clock_seconds(text: Any) -> float | None:
    """'HH:MM:SS.fraction' (Matroska's DURATION tag) in seconds."""
    if not isinstance(text, str):
        return None
    try:
        hours, minutes, seconds = text.strip().split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def _audio_stream(s: dict[str, Any]) -> AudioStream:
    return AudioStream(
        index=int(s["index"]),
        codec=str(s.get("codec_name", "unknown")),
        profile=s.get("profile"),
        channels=_int(s.get("channels")) or 0,
        sample_rate=_int(s.get("sample_rate")) or 0,
        bit_rate=_int(s.get("bit_rate")),
    )


def _rotation(s: dict[str, Any]) -> int:
    """Clockwise display rotation. ffprobe's display-matrix `rotation` is counter-clockwise; the
    legacy `rotate` tag is clockwise."""
    for side in s.get("side_data_list") or []:
        if side.get("side_data_type") == "Display Matrix" and side.get("rotation") is not None:
            return _quarter(-float(side["rotation"]))
    tag = (s.get("tags") or {}).get("rotate")
    if tag is not None:
        try:
            return _quarter(float(tag))
        except ValueError:
            return 0
    return 0


def _quarter(degrees: float) -> int:
    return (round(degrees / 90) * 90) % 360


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fraction(value: Any) -> Fraction | None:
    if not value or value in ("0/0", "N/A"):
        return None
    try:
        frac = Fraction(str(value).replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return None
    return frac if frac > 0 else None
