"""Will a transcode fit in what is left of the function's time? Estimate from duration, output
resolution, frame rate, preset and the measured x264 throughput; refuse early instead of timing out.

Throughput is in core-seconds per second of media for a 1920x1080, 30 fps, *noisy* (phone-like)
source: noisy sources cost 1.5-2x clean ones, so the estimate errs on the safe side. Figures were
measured on a 2-core x86_64 machine with ffmpeg 8.1 / x264 from the pinned build
(bench/bench_video.py; DESIGN.md "Performance"). Re-measure on Graviton (arm64) before tightening.
"""

from __future__ import annotations

import math
import os

from media_core.domain.errors import MediaRejected
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.poster import fit_within
from media_core.engines.av.probe import MediaInfo
from media_core.engines.av.transcode import TranscodePlan, plan_transcode

REFERENCE_PIXELS = 1920 * 1080
REFERENCE_FPS = 30.0
LAMBDA_MB_PER_VCPU = 1769  # Lambda: 1 vCPU at 1,769 MB, proportional below and above

# x264 CRF 23 encode only, core-seconds per media second at 1080p30, noisy source. Measured with
# bench/bench_video.py on a 2-core x86_64 (ffmpeg 8.1): ultrafast 0.59, superfast ~1.3-1.6,
# veryfast 1.49, faster 2.37, medium 4.34 (DESIGN.md: veryfast 1.46, medium 3.39); rounded up.
ENCODE_CORE_S_PER_S: dict[str, float] = {
    "ultrafast": 0.65,
    "superfast": 1.35,
    "veryfast": 1.55,
    "faster": 2.40,
    "fast": 3.30,
    "medium": 4.40,
    "slow": 7.0,
    "slower": 12.0,
    "veryslow": 25.0,
}
# Decode (+ scale) per media second at 1080p30, per source pixel. Measured 0.86-0.92 for a
# ~30 Mbit/s noisy H.264 source; phone files (10-20 Mbit/s) decode faster. HEVC/VP9/AV1 cost more.
DECODE_CORE_S_PER_S: dict[str, float] = {"h264": 0.5, "hevc": 0.7, "vp9": 0.7, "av1": 0.9}
DEFAULT_DECODE_CORE_S_PER_S = 0.6
COPY_S_PER_GB = 4.0  # remux: bound by I/O
FIXED_OVERHEAD_S = 1.0  # process start, probe of the output, moov relocation of +faststart
DEFAULT_RESERVE_S = 20.0  # left for uploading the result and writing the record


def available_cores() -> float:
    """Cores this function may use: in Lambda proportional to memory, else the machine's."""
    cpus = float(os.cpu_count() or 1)
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if memory and memory.isdigit():
        return max(0.1, min(cpus, int(memory) / LAMBDA_MB_PER_VCPU))
    return cpus


def estimate_transcode_s(
    info: MediaInfo,
    settings: TranscodeOptions | None = None,
    *,
    plan: TranscodePlan | None = None,
    cores: float | None = None,
) -> float:
    """Wall seconds the MP4 rendition is expected to take (conservative)."""
    settings = settings or TranscodeOptions()
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    plan = plan or plan_transcode(info, settings)
    if plan.mode == "copy":
        size_gb = (info.size_bytes or (info.bit_rate or 0) * info.duration_s / 8) / 1e9
        return FIXED_OVERHEAD_S + size_gb * COPY_S_PER_GB
    cores = cores if cores is not None else available_cores()
    out_w, out_h = fit_within(video.width, video.height, settings.max_long, settings.max_short)
    fps = min(video.fps or REFERENCE_FPS, settings.max_fps)
    fps_factor = fps / REFERENCE_FPS
    encode = ENCODE_CORE_S_PER_S[settings.preset] * (out_w * out_h / REFERENCE_PIXELS) * fps_factor
    decode_rate = DECODE_CORE_S_PER_S.get(video.codec, DEFAULT_DECODE_CORE_S_PER_S)
    decode = (
        decode_rate
        * (video.coded_width * video.coded_height / REFERENCE_PIXELS)
        * ((video.fps or REFERENCE_FPS) / REFERENCE_FPS)
    )
    audio = 0.01 if info.audio is not None else 0.0
    core_seconds = info.duration_s * (encode + decode + audio)
    # x264 does not scale perfectly: count at most ~85 % of each extra core.
    effective = min(cores, 1.0) + 0.85 * max(0.0, cores - 1.0)
    return FIXED_OVERHEAD_S + core_seconds / max(effective, 0.1)


def format_estimate(seconds: float) -> str:
    return f"{math.ceil(seconds)} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"


def check_budget(estimate_s: float, remaining_s: float, *, reserve_s: float = DEFAULT_RESERVE_S) -> None:
    """Raise MediaRejected when `estimate_s` plus a reserve does not fit in `remaining_s`."""
    if estimate_s + reserve_s > remaining_s:
        raise MediaRejected(f"too long for single-function transcoding (est. {format_estimate(estimate_s)})")
