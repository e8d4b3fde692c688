"""MP4 rendition: H.264 (libx264, yuv420p, CRF) + AAC, `-movflags +faststart`.

Decisions:
* Size: fit within max_long x max_short in the picture's own orientation (1920x1080 landscape,
  1080x1920 portrait), never upscale, even dimensions (4:2:0 chroma needs them), square pixels.
* Rotation: ffmpeg autorotates while decoding (the display matrix becomes a transpose before our
  scale) and does not copy the matrix to the encoded output, so the pixels are upright.
* Frame rate: `-fps_mode vfr`. ffmpeg's default for MP4 is cfr, which pads a phone's variable-rate
  clip up to its nominal rate (or to a bogus r_frame_rate such as 90000/1) by duplicating frames:
  more frames to encode for nothing. vfr keeps the source timestamps (MP4 stores per-sample
  durations, every browser plays it) and audio sync is untouched. Rates above `max_fps` are
  reduced with the fps filter (the result is then constant).
* Metadata: `-map_metadata -1 -map_chapters -1`: no GPS location or device tags leak into the
  rendition. Only the first video stream and first audio stream are kept (no subtitles/data).
* Stream copy: an input that already is H.264 (8-bit 4:2:0) + AAC (or no audio) in an MP4/MOV,
  within the size and frame-rate limits and not heavier than `copy_max_bit_rate`, is remuxed
  with +faststart instead of re-encoded (a fraction of a second instead of minutes). The display
  matrix is kept in that case, so players still show it upright.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ffmpeg

from media_core.domain.errors import MediaRejected
from media_core.engines.av import runner
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.poster import fit_within
from media_core.engines.av.probe import MediaInfo, produced

CONTENT_TYPE_MP4 = "video/mp4"
COPY_VIDEO_PROFILES = frozenset({"Baseline", "Constrained Baseline", "Main", "High"})
COPY_AUDIO_CODECS = frozenset({"aac"})

TranscodeMode = Literal["copy", "encode"]


@dataclass(frozen=True)
class TranscodePlan:
    mode: TranscodeMode
    width: int  # displayed output size
    height: int
    fps_limit: float | None  # apply the fps filter at this rate, or None
    reason: str  # why this mode (for logs and the metadata)


@dataclass(frozen=True)
class TranscodeResult:
    path: Path
    mode: TranscodeMode
    width: int
    height: int
    duration_s: float
    size_bytes: int
    has_audio: bool
    elapsed_s: float
    command: list[str] = field(repr=False)


def plan_transcode(info: MediaInfo, settings: TranscodeOptions) -> TranscodePlan:
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    width, height = fit_within(video.width, video.height, settings.max_long, settings.max_short)
    fps_limit = settings.max_fps if video.fps is not None and video.fps > settings.max_fps + 0.01 else None
    copy_blockers = _copy_blockers(info, settings, width, height, fps_limit)
    if not copy_blockers:
        return TranscodePlan("copy", video.width, video.height, None, "already H.264/AAC MP4 within limits")
    return TranscodePlan("encode", width, height, fps_limit, "; ".join(copy_blockers))


def _copy_blockers(
    info: MediaInfo, settings: TranscodeOptions, width: int, height: int, fps_limit: float | None
) -> list[str]:
    video = info.video
    assert video is not None
    blockers: list[str] = []
    if not settings.allow_stream_copy:
        blockers.append("stream copy disabled")
    if info.container != "mov":
        blockers.append(f"container {info.container}")
    if video.codec != "h264" or video.profile not in COPY_VIDEO_PROFILES or video.pix_fmt != "yuv420p":
        blockers.append(f"video {video.codec}/{video.profile}/{video.pix_fmt}")
    if info.audio is not None and info.audio.codec not in COPY_AUDIO_CODECS:
        blockers.append(f"audio {info.audio.codec}")
    if (width, height) != (video.width, video.height) or video.coded_width % 2 or video.coded_height % 2:
        blockers.append("needs resizing")
    if fps_limit is not None:
        blockers.append("frame rate above limit")
    if info.bit_rate is not None and info.bit_rate > settings.copy_max_bit_rate:
        blockers.append(f"bit rate {info.bit_rate} above {settings.copy_max_bit_rate}")
    return blockers


def transcode_command(
    source: str, out_path: Path, info: MediaInfo, settings: TranscodeOptions, plan: TranscodePlan
) -> list[str]:
    """The complete ffmpeg argument list (the benchmark runs it bare to measure our overhead)."""
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    inp = ffmpeg.input(source, **runner.input_options(source, runner.VIDEO_DEMUXERS))
    common: dict[str, Any] = {
        "format": "mp4",
        "movflags": "+faststart",
        "map_metadata": -1,
        "map_chapters": -1,
    }
    if plan.mode == "copy":
        streams = [inp[str(video.index)]]
        if info.audio is not None:
            streams.append(inp[str(info.audio.index)])
        return runner.compile_ffmpeg(ffmpeg.output(*streams, str(out_path), c="copy", **common))

    v = inp[str(video.index)]
    if plan.fps_limit is not None:
        v = v.filter("fps", plan.fps_limit)
    v = v.filter("scale", plan.width, plan.height).filter("setsar", 1)
    streams = [v]
    opts: dict[str, Any] = {
        **common,
        "c:v": "libx264",
        "preset": settings.preset,
        "crf": settings.crf,
        "pix_fmt": "yuv420p",
        "profile:v": "high",
        "fps_mode": "cfr" if plan.fps_limit is not None else "vfr",
    }
    if info.audio is not None:
        streams.append(inp[str(info.audio.index)])
        opts["c:a"] = "aac"
        opts["b:a"] = settings.audio_bitrate
        if info.audio.channels > 2:
            opts["ac"] = 2
        if info.audio.sample_rate not in (44_100, 48_000):
            opts["ar"] = 48_000
    return runner.compile_ffmpeg(ffmpeg.output(*streams, str(out_path), **opts))


def transcode_video(
    source: str,
    out_path: Path,
    info: MediaInfo,
    settings: TranscodeOptions | None = None,
    *,
    plan: TranscodePlan | None = None,
    timeout_s: float | None = None,
) -> TranscodeResult:
    """Write the MP4 rendition of `source` to `out_path` (written to a temporary name first; nothing
    is left behind on failure)."""
    settings = settings or TranscodeOptions()
    plan = plan or plan_transcode(info, settings)
    out_path = Path(out_path)
    partial = runner.partial_path(out_path)
    args = transcode_command(source, partial, info, settings, plan)

    started = time.perf_counter()
    out_info = runner.run_to_file(
        args,
        partial,
        out_path,
        produced("mov", "video"),
        source=source,
        demuxers=runner.VIDEO_DEMUXERS,
        timeout_s=timeout_s,
        timeout_reason="transcoding exceeded the time budget",
    )
    assert out_info.video is not None
    elapsed = time.perf_counter() - started
    return TranscodeResult(
        path=out_path,
        mode=plan.mode,
        width=out_info.video.width,
        height=out_info.video.height,
        duration_s=out_info.duration_s,
        size_bytes=out_path.stat().st_size,
        has_audio=out_info.has_audio,
        elapsed_s=elapsed,
        command=args,
    )
