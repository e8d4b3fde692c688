"""Poster frame: one JPEG (mjpeg: this ffmpeg build has no png/webp encoders), read with input
seeking (`-ss` before `-i`: the demuxer seeks by index, so over HTTP only a few ranges are read)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import ffmpeg
from PIL import Image

from media_core.domain.errors import MediaRejected
from media_core.engines.av import runner
from media_core.engines.av.probe import MediaInfo

POSTER_TIMEOUT_S = 60.0
POSTER_AT_S = 1.0


@dataclass(frozen=True)
class Poster:
    jpeg: bytes
    width: int
    height: int
    at_s: float


def poster_time(duration_s: float) -> float:
    """1 s in, or the middle of clips shorter than 2 s."""
    return POSTER_AT_S if duration_s >= 2 * POSTER_AT_S else duration_s / 2


def fit_within(width: int, height: int, max_long: int, max_short: int) -> tuple[int, int]:
    """Scale (width, height) to fit max_long x max_short in its own orientation; never upscale;
    even dimensions (H.264 yuv420p needs them)."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, max_long / long_side, max_short / short_side)
    out_w = max(2, int(width * scale) // 2 * 2)
    out_h = max(2, int(height * scale) // 2 * 2)
    return out_w, out_h


def poster_command(
    source: str, info: MediaInfo, at_s: float, max_long: int, max_short: int, quality: int = 3
) -> list[str]:
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    width, height = fit_within(video.width, video.height, max_long, max_short)
    stream = ffmpeg.input(source, ss=f"{at_s:.3f}", **runner.input_options(source, runner.VIDEO_DEMUXERS))
    frame = stream[str(video.index)].filter("scale", width, height).filter("setsar", 1)
    out = ffmpeg.output(
        frame,
        "pipe:",
        vframes=1,
        format="image2pipe",
        vcodec="mjpeg",
        **{"q:v": quality, "color_range": "pc"},
    )
    return runner.compile_ffmpeg(out)


def extract_poster(
    source: str,
    info: MediaInfo,
    *,
    max_long: int = 1920,
    max_short: int = 1080,
    timeout_s: float = POSTER_TIMEOUT_S,
) -> Poster:
    """JPEG poster of the first video stream at `poster_time(duration)`, displayed orientation;
    the first frame when there is no frame at that time."""
    at = poster_time(info.picture_s)
    jpeg = b""
    attempts = (at, 0.0) if at > 0 else (0.0,)
    for attempt_at in attempts:
        args = poster_command(source, info, attempt_at, max_long, max_short)
        try:
            result = runner.run(
                args,
                source=source,
                demuxers=runner.VIDEO_DEMUXERS,
                timeout_s=timeout_s,
                timeout_reason="extracting the poster took too long",
            )
        except MediaRejected:
            # Seeking past the last frame: ffmpeg 8 exits 234 (nothing encoded) where older
            # versions wrote nothing and exited 0. The first frame is the fallback either way.
            if attempt_at == attempts[-1]:
                raise
            continue
        jpeg = result.stdout
        if jpeg:
            at = attempt_at
            break
    if not jpeg:
        raise MediaRejected("no decodable video frame found")
    try:
        with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as img:
            width, height = img.size
    except OSError as exc:
        raise MediaRejected("no decodable video frame found") from exc
    return Poster(jpeg=jpeg, width=width, height=height, at_s=at)
