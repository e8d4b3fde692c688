"""HLS adaptive streaming, end to end, for callers that run everything in one place.

The processing layer's entry points (see each module for detail):

    plan = plan_hls(info, ladder, settings)                  # plan.py: once, JSON via to_dict()
    for task in plan.tasks():                                # one worker per task, concurrently:
        result = encode_task(url, plan, task, out_dir, settings)       # encode.py
    audio = encode_audio(url, plan, out_dir, settings)       # audio_hls.py: one worker, concurrently
    output = assemble(out_dir, plan, results, audio)         # assemble.py: once, at the end
    board = make_storyboard(str(output.mp4), output.duration_s, w, h, out_dir, keyframes_only=True)

`package_hls` with one task covering the file (single) or one task per segment (parallel, run one
after another here) produces the same layout (layout.py), so both paths are comparable.
"""

from __future__ import annotations

import time
from pathlib import Path

from media_core.engines.av.assemble import HlsOutput, assemble
from media_core.engines.av.audio_hls import encode_audio
from media_core.engines.av.encode import TaskResult, encode_task
from media_core.engines.av.ladder import DEFAULT_LADDER, Rung
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.plan import HlsPlan, plan_hls
from media_core.engines.av.probe import MediaInfo
from media_core.engines.av.segments import DEFAULT_GOP_S, DEFAULT_SEGMENT_S

__all__ = ["HlsOutput", "HlsPlan", "package_hls", "plan_hls"]


def package_hls(
    source: str,
    info: MediaInfo,
    out_dir: Path,
    ladder: tuple[Rung, ...] = DEFAULT_LADDER,
    settings: TranscodeOptions | None = None,
    *,
    segment_s: float = DEFAULT_SEGMENT_S,
    gop_s: float = DEFAULT_GOP_S,
    segments_per_task: int | None = None,
    make_mp4: bool = True,
    timeout_s: float | None = None,
) -> HlsOutput:
    """Plan, encode every task one after another, then assemble. `segments_per_task=None`: one task
    covering the file, one ffmpeg process (short clips, the "single" mode); a number: the
    segment-parallel path run locally, each task in its own ffmpeg process (what Lambda workers do
    concurrently)."""
    settings = settings or TranscodeOptions()
    out_dir = Path(out_dir)
    plan = plan_hls(info, ladder, settings, segment_s=segment_s, gop_s=gop_s)
    tasks = (plan.single_task(),) if segments_per_task is None else plan.tasks(segments_per_task)
    started = time.perf_counter()
    results: list[TaskResult] = []
    for task in tasks:
        results.append(encode_task(source, plan, task, out_dir, settings, timeout_s=timeout_s))
    video_s = time.perf_counter() - started
    mark = time.perf_counter()
    audio = encode_audio(source, plan, out_dir, settings, timeout_s=timeout_s)
    audio_s = time.perf_counter() - mark
    output = assemble(out_dir, plan, results, audio, make_mp4=make_mp4)
    output.timings.update({"video_s": video_s, "audio_s": audio_s, "total_s": time.perf_counter() - started})
    output.timings["tasks_s"] = sum(r.elapsed_s for r in results)
    return output
