"""What a processor handler calls: one function per kind, returning everything to store.

`source` is a local path or an http(s) URL (S3 presigned GET). Probing, the poster and the cover are
read with range requests; the transcode reads the whole stream once. Outputs are written into
`workdir` (owned and cleaned by the caller) under fixed names; on any failure nothing is left there.

Errors: `MediaRejected` (bad file: mark the record failed with `.message`), `SourceUnavailableError`
(could not read the source: retry), `FfmpegNotFoundError` (deployment error).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from media_core.engines.av import runner
from media_core.engines.av.audio import (
    CONTENT_TYPE_MP3,
    CoverArt,
    extract_cover_art,
    probe_audio,
    transcode_audio,
    waveform,
)
from media_core.engines.av.budget import DEFAULT_RESERVE_S, check_budget, estimate_transcode_s
from media_core.engines.av.limits import (
    AudioLimits,
    AudioOptions,
    TranscodeOptions,
    VideoLimits,
    check_video,
)
from media_core.engines.av.poster import Poster, extract_poster
from media_core.engines.av.probe import probe
from media_core.engines.av.transcode import CONTENT_TYPE_MP4, TranscodeMode, plan_transcode, transcode_video

logger = Logger(child=True)

VIDEO_OUTPUT_NAME = "video.mp4"
AUDIO_OUTPUT_NAME = "audio.mp3"
POSTER_ALLOWANCE_S = 5.0  # added to the transcode estimate for the poster extraction


@dataclass(frozen=True)
class OutputFile:
    """A rendition written to a local file, ready to upload."""

    name: str  # file name inside workdir, e.g. "video.mp4"
    path: Path
    content_type: str
    size_bytes: int
    duration_s: float
    width: int | None = None
    height: int | None = None

    def to_metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "duration_s": round(self.duration_s, 3),
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class VideoResult:
    metadata: dict[str, Any]  # JSON-safe: probe facts + transcode path + timings
    poster: Poster  # .jpeg bytes, .width, .height, .at_s
    outputs: list[OutputFile]
    transcode_mode: TranscodeMode  # "copy" (remux + faststart) or "encode"
    estimate_s: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def poster_jpeg(self) -> bytes:
        return self.poster.jpeg


@dataclass(frozen=True)
class AudioResult:
    metadata: dict[str, Any]  # JSON-safe: duration, codec, bitrate, sample rate, channels, tags
    outputs: list[OutputFile]
    cover: CoverArt | None  # .jpeg bytes when the file embeds a picture
    waveform: list[float]  # settings.waveform_points peaks in 0..1
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def cover_jpeg(self) -> bytes | None:
        return self.cover.jpeg if self.cover else None


def process_video(
    source: str,
    workdir: Path,
    limits: VideoLimits | None = None,
    settings: TranscodeOptions | None = None,
    remaining_time_s: float | None = None,
    *,
    cores: float | None = None,
    reserve_s: float = DEFAULT_RESERVE_S,
) -> VideoResult:
    """Probe + validate, check the time budget, poster, MP4 rendition (workdir/video.mp4).

    `remaining_time_s`: what the function has left (context.get_remaining_time_in_millis() / 1000);
    None skips the budget check (local runs). The transcode also gets it as a hard timeout.
    """
    limits = limits or VideoLimits()
    settings = settings or TranscodeOptions()
    workdir = Path(workdir)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    info = probe(source, runner.VIDEO_DEMUXERS)
    check_video(info, limits)
    plan = plan_transcode(info, settings)
    estimate = estimate_transcode_s(info, settings, plan=plan, cores=cores)
    if remaining_time_s is not None:
        check_budget(estimate + POSTER_ALLOWANCE_S, remaining_time_s, reserve_s=reserve_s)
    timings["probe_s"] = time.perf_counter() - started

    mark = time.perf_counter()
    poster = extract_poster(source, info, max_long=settings.max_long, max_short=settings.max_short)
    timings["poster_s"] = time.perf_counter() - mark

    out_path = workdir / VIDEO_OUTPUT_NAME
    timeout = None
    if remaining_time_s is not None:
        timeout = max(1.0, remaining_time_s - (time.perf_counter() - started) - reserve_s / 2)
    mark = time.perf_counter()
    try:
        result = transcode_video(source, out_path, info, settings, plan=plan, timeout_s=timeout)
    except BaseException:
        with contextlib.suppress(OSError):
            out_path.unlink()
        raise
    timings["transcode_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - started
    logger.info(
        "video transcoded",
        output=out_path.name,
        mode=plan.mode,
        reason=plan.reason,
        estimate_s=round(estimate, 1),
        took_s=round(timings["transcode_s"], 1),
    )

    output = OutputFile(
        name=VIDEO_OUTPUT_NAME,
        path=out_path,
        content_type=CONTENT_TYPE_MP4,
        size_bytes=result.size_bytes,
        duration_s=result.duration_s,
        width=result.width,
        height=result.height,
    )
    metadata = info.to_metadata()
    metadata["transcode"] = {
        "mode": plan.mode,
        "reason": plan.reason,
        "preset": settings.preset if plan.mode == "encode" else None,
        "crf": settings.crf if plan.mode == "encode" else None,
        "estimate_s": round(estimate, 1),
        "elapsed_s": round(timings["transcode_s"], 2),
    }
    metadata["poster"] = {"width": poster.width, "height": poster.height, "at_s": round(poster.at_s, 3)}
    metadata["outputs"] = [output.to_metadata()]
    return VideoResult(
        metadata=metadata,
        poster=poster,
        outputs=[output],
        transcode_mode=plan.mode,
        estimate_s=estimate,
        timings=timings,
    )


def process_audio(
    source: str,
    workdir: Path,
    limits: AudioLimits | None = None,
    settings: AudioOptions | None = None,
    remaining_time_s: float | None = None,
    *,
    reserve_s: float = DEFAULT_RESERVE_S,
) -> AudioResult:
    """Probe + validate, MP3 rendition (workdir/audio.mp3), cover art, waveform."""
    limits = limits or AudioLimits()
    settings = settings or AudioOptions()
    workdir = Path(workdir)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    info = probe_audio(source, limits)
    # MP3 encoding runs at ~0.01 core-s per media second; decoding for the waveform about as much.
    estimate = 2.0 + info.duration_s * 0.03
    if remaining_time_s is not None:
        check_budget(estimate, remaining_time_s, reserve_s=reserve_s)
    timings["probe_s"] = time.perf_counter() - started

    out_path = workdir / AUDIO_OUTPUT_NAME
    timeout = None if remaining_time_s is None else max(1.0, remaining_time_s - reserve_s / 2)
    try:
        mark = time.perf_counter()
        result = transcode_audio(source, out_path, info, settings, timeout_s=timeout)
        timings["transcode_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        # The waveform is computed from the local rendition: no second read of the source.
        peaks = waveform(
            str(out_path), probe(str(out_path), ("mp3",)), settings.waveform_points, timeout_s=timeout
        )
        timings["waveform_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        cover = extract_cover_art(source, info, settings)
        timings["cover_s"] = time.perf_counter() - mark
    except BaseException:
        with contextlib.suppress(OSError):
            out_path.unlink()
        raise
    timings["total_s"] = time.perf_counter() - started

    output = OutputFile(
        name=AUDIO_OUTPUT_NAME,
        path=out_path,
        content_type=CONTENT_TYPE_MP3,
        size_bytes=result.size_bytes,
        duration_s=result.duration_s,
    )
    metadata = info.to_metadata()
    metadata["transcode"] = {
        "codec": "mp3",
        "bit_rate": result.bit_rate,
        "sample_rate": result.sample_rate,
        "channels": result.channels,
        "elapsed_s": round(timings["transcode_s"], 2),
    }
    if cover is not None:
        metadata["cover"] = {"width": cover.width, "height": cover.height}
    metadata["outputs"] = [output.to_metadata()]
    return AudioResult(metadata=metadata, outputs=[output], cover=cover, waveform=peaks, timings=timings)
