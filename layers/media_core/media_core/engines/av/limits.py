"""Limits (what is accepted) and settings (how it is produced), with defaults. The handler maps its
typed environment settings onto these; the domain never reads the environment itself."""

from __future__ import annotations

from dataclasses import dataclass

from media_core.domain.errors import MediaRejected
from media_core.engines.av.probe import MediaInfo, format_duration

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


@dataclass(frozen=True)
class VideoLimits:
    """Accepted input. Width/height are compared orientation-free (long side vs the long limit)."""

    max_width: int = 7680
    max_height: int = 4320
    max_duration_s: float = 30 * 60
    max_fps: float = 240.0


@dataclass(frozen=True)
class TranscodeOptions:
    """The MP4 rendition: H.264 (libx264, yuv420p) + AAC, `+faststart`."""

    preset: str = "veryfast"  # chosen from bench/bench_video.py (see README of av / report)
    crf: int = 23
    max_long: int = 1920  # fit within 1920x1080, or 1080x1920 for portrait; never upscale
    max_short: int = 1080
    max_fps: float = 60.0  # higher rates are reduced to this (constant) rate
    audio_bitrate: str = "128k"
    allow_stream_copy: bool = True  # remux compliant H.264/AAC MP4 with +faststart instead of encoding
    copy_max_bit_rate: int = 12_000_000  # ...unless it is heavier than this (bits/s) and worth shrinking

    def __post_init__(self) -> None:
        if self.preset not in X264_PRESETS:
            raise ValueError(f"unknown x264 preset {self.preset!r}")
        if not 0 <= self.crf <= 51:
            raise ValueError("crf must be within 0..51")
        if self.max_short > self.max_long or self.max_short < 2:
            raise ValueError("max_short must be within 2..max_long")


@dataclass(frozen=True)
class AudioLimits:
    max_duration_s: float = 3 * 3600


@dataclass(frozen=True)
class AudioOptions:
    """The MP3 rendition and the player extras."""

    bitrate: str = "128k"
    sample_rate: int = 44_100
    waveform_points: int = 200
    cover_max_size: int = 1000  # cover art is scaled to fit this square


def check_video(info: MediaInfo, limits: VideoLimits) -> None:
    """Raise MediaRejected unless `info` is a video within `limits`."""
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    long_side, short_side = max(video.width, video.height), min(video.width, video.height)
    limit_long = max(limits.max_width, limits.max_height)
    limit_short = min(limits.max_width, limits.max_height)
    if long_side > limit_long or short_side > limit_short:
        size, limit = f"{video.width}x{video.height}", f"{limits.max_width}x{limits.max_height}"
        raise MediaRejected(f"resolution {size} exceeds the {limit} limit")
    if video.fps is not None and video.fps > limits.max_fps:
        raise MediaRejected(f"frame rate {video.fps:.0f} fps exceeds the {limits.max_fps:.0f} fps limit")
    check_duration(info, limits.max_duration_s)


def check_audio(info: MediaInfo, limits: AudioLimits) -> None:
    """Raise MediaRejected unless `info` is audio (no real video) within `limits`."""
    if info.audio is None:
        raise MediaRejected("no audio stream found")
    if info.video is not None:
        raise MediaRejected("file contains a video stream: upload it as a video")
    check_duration(info, limits.max_duration_s)


def check_duration(info: MediaInfo, max_duration_s: float) -> None:
    if info.duration_s > max_duration_s:
        raise MediaRejected(
            f"duration {format_duration(info.duration_s)} exceeds the {format_duration(max_duration_s)} limit"
        )
