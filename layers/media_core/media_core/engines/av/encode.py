"""The segment worker: encode one range of planned segments for every rung, as HLS fMP4 segments.

One ffmpeg process per task: input seeking (`-ss start -i SRC`, accurate: frames before `start`
are decoded and dropped), the `fps` filter puts frames on the plan's exact grid (constant rate, so
frame n is at n/fps everywhere; `start_time=0` pads a range whose first source frame comes late,
as in variable-rate clips, so every range starts at its own time 0 and the init segments match),
`split` feeds one scaler + libx264 per rung, and each output stops after exactly the planned
number of frames (the last task reads to the end of the source).

x264 settings are identical for every task and rung size: closed fixed GOPs (`keyint = min-keyint
= gop`, `scenecut=0`, `open-gop=0`, `stitchable=1`), so every range starts with an IDR, segment
starts are keyframes aligned across rungs, and the SPS/PPS (hence the init segment) never vary.
Each output is a fragmented MP4 with one fragment per GOP whose `tfdt` starts at 0; `fmp4.py`
shifts `tfdt` by the range's start and cuts it into segment files. A single-process encode of the
whole file is the same function with one task covering every segment.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from media_core.domain.errors import MediaRejected
from media_core.engines.av import fmp4, runner
from media_core.engines.av.ladder import Rendition
from media_core.engines.av.layout import INIT_NAME, Layout, segment_name
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.plan import HlsPlan
from media_core.engines.av.segments import SegmentPlan, Task

logger = Logger(child=True)

FRAG_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof+delay_moov+skip_trailer"
SEEK_BACKOFF_FRAMES = Fraction(1, 4)  # seek a quarter frame early: rounding never skips frame n


@dataclass(frozen=True, slots=True)
class SegmentFile:
    index: int
    frames: int
    size_bytes: int

    def to_dict(self) -> dict[str, int]:
        return {"index": self.index, "frames": self.frames, "size_bytes": self.size_bytes}


@dataclass(frozen=True, slots=True)
class RenditionPart:
    """What one task produced for one rendition."""

    name: str
    width: int
    height: int
    init_sha256: str
    codecs: str  # avc1.PPCCLL from the produced avcC
    segments: tuple[SegmentFile, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "init_sha256": self.init_sha256,
            "codecs": self.codecs,
            "segments": [s.to_dict() for s in self.segments],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RenditionPart:
        segs = tuple(
            SegmentFile(int(s["index"]), int(s["frames"]), int(s["size_bytes"])) for s in d["segments"]
        )
        return cls(
            str(d["name"]), int(d["width"]), int(d["height"]), str(d["init_sha256"]), str(d["codecs"]), segs
        )


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A worker's answer (JSON-safe via to_dict: small enough for a Step Functions payload)."""

    first: int
    count: int
    renditions: tuple[RenditionPart, ...]
    elapsed_s: float
    command: list[str] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "count": self.count,
            "renditions": [r.to_dict() for r in self.renditions],
            "elapsed_s": round(self.elapsed_s, 3),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskResult:
        parts = tuple(RenditionPart.from_dict(r) for r in d["renditions"])
        return cls(int(d["first"]), int(d["count"]), parts, float(d.get("elapsed_s", 0.0)))


VBV_INIT = 0.5  # initial VBV fullness (x264 default 0.9): see x264_params


def x264_params(plan: SegmentPlan) -> str:
    """Closed fixed GOPs, and `vbv-init=0.5`: every task starts with a fresh VBV buffer, and with
    x264's default 0.9 fill each 6 s segment could overspend ~0.9 s worth of the cap. Half a buffer
    (with a 1 s buffer, ladder.VBV_BUFFER_S) kept the stitched 1080p stream at the cap: parallel vs
    single-pass bitrate 0.996 (was 1.098 with a 2 s buffer and the default fill; bench_hls.py)."""
    g = plan.gop_frames
    return f"keyint={g}:min-keyint={g}:scenecut=0:open-gop=0:stitchable=1:vbv-init={VBV_INIT}"


def video_encode_args(rendition: Rendition, plan: SegmentPlan, settings: TranscodeOptions) -> list[str]:
    """libx264 options shared by every task and by the single path (identical => joinable)."""
    g = str(plan.gop_frames)
    return [
        "-c:v",
        "libx264",
        "-preset",
        settings.preset,
        "-crf",
        str(settings.crf),
        "-maxrate",
        str(rendition.max_bitrate),
        "-bufsize",
        str(rendition.buffer_bits),
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-g",
        g,
        "-keyint_min",
        g,
        "-sc_threshold",
        "0",
        "-x264-params",
        x264_params(plan),
    ]


def task_frames(plan: SegmentPlan, task: Task) -> tuple[int, int | None]:
    """(start frame, frame count or None = to the end of the source) of a task."""
    segs = plan.segments[task.first : task.first + task.count]
    if not segs or task.first + task.count > len(plan.segments):
        raise ValueError(f"task {task} outside the plan's {len(plan.segments)} segments")
    is_last = task.first + task.count == len(plan.segments)
    return segs[0].start_frame, None if is_last else sum(s.frames for s in segs)


def task_command(
    source: str,
    plan: HlsPlan,
    task: Task,
    outputs: list[Path],
    settings: TranscodeOptions,
) -> list[str]:
    """The ffmpeg argument list of one task: one fragmented MP4 per rendition, into `outputs`."""
    renditions = plan.renditions
    if len(outputs) != len(renditions) or not renditions:
        raise ValueError("one output path per rendition")
    segs = plan.segments
    start_frame, frames = task_frames(segs, task)
    args = runner.ffmpeg_head()
    args += runner.input_args(source, runner.VIDEO_DEMUXERS)
    if start_frame > 0:
        seek = (start_frame - SEEK_BACKOFF_FRAMES) / segs.fps
        args += ["-ss", f"{float(seek):.6f}"]
    args += ["-i", source]
    n = len(renditions)
    labels = "".join(f"[s{i}]" for i in range(n))
    graph = [f"[0:{plan.video_index}]fps={segs.fps_num}/{segs.fps_den}:start_time=0,split={n}{labels}"]
    for i, r in enumerate(renditions):
        graph.append(f"[s{i}]scale={r.width}:{r.height}:flags=bicubic,setsar=1[v{i}]")
    args += ["-filter_complex", ";".join(graph)]
    for i, (r, out) in enumerate(zip(renditions, outputs, strict=True)):
        args += ["-map", f"[v{i}]", "-an", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"]
        args += video_encode_args(r, segs, settings)
        if frames is not None:
            args += ["-frames:v", str(frames)]
        args += ["-video_track_timescale", str(segs.timescale), "-f", "mp4", "-movflags", FRAG_MOVFLAGS]
        args.append(str(out))
    return args


def encode_task(
    source: str,
    plan: HlsPlan,
    task: Task,
    out_dir: Path,
    settings: TranscodeOptions | None = None,
    *,
    timeout_s: float | None = None,
) -> TaskResult:
    """The segment worker. Encodes `task`'s segments of `source` (a local path or a presigned URL,
    read with input seeking) for every rendition of `plan`, writing `hls/{rung}/init.mp4` and
    `hls/{rung}/seg_{n:05d}.m4s` under `out_dir` (layout.py). Scratch files are removed, also on
    failure. Raises MediaRejected (bad input), SourceUnavailableError (retry)."""
    settings = settings or TranscodeOptions()
    layout = Layout(Path(out_dir))
    started = time.perf_counter()
    with layout.scratch(f"task_{task.first:05d}") as scratch:
        partials = [scratch / f"{r.name}.mp4" for r in plan.renditions]
        args = task_command(source, plan, task, partials, settings)
        runner.run(
            args,
            source=source,
            demuxers=runner.VIDEO_DEMUXERS,
            timeout_s=timeout_s,
            timeout_reason="encoding a segment exceeded the time budget",
        )
        parts = tuple(
            _package(plan.segments, task, r, p, layout)
            for r, p in zip(plan.renditions, partials, strict=True)
        )
    elapsed = time.perf_counter() - started
    logger.info("encoded segments", first=task.first, count=task.count, elapsed_s=round(elapsed, 2))
    return TaskResult(task.first, task.count, parts, elapsed, args)


def _package(
    plan: SegmentPlan, task: Task, rendition: Rendition, partial: Path, layout: Layout
) -> RenditionPart:
    """Cut one rung's fragmented output into the task's segment files (tfdt shifted, mfhd renumbered)."""
    parsed = fmp4.read_fragmented(partial)
    start_frame, _ = task_frames(plan, task)
    segs = plan.segments[task.first : task.first + task.count]
    is_last = task.first + task.count == len(plan.segments)
    shift = start_frame * plan.ticks_per_frame
    directory = layout.rendition_dir(rendition.name)
    directory.mkdir(parents=True, exist_ok=True)
    # CMAF timeline: first frame presented at its decode time, no edit list needed (see fmp4).
    delay = fmp4.edit_media_time(parsed.init)
    init = fmp4.zero_edit(parsed.init)
    _write_init(directory / INIT_NAME, init)
    files: list[SegmentFile] = []
    frags = list(parsed.fragments)
    if not frags:
        raise MediaRejected("no decodable video frames in this part of the file")
    with partial.open("rb") as src:
        for pos, seg in enumerate(segs):
            last_here = is_last and pos == len(segs) - 1
            take: list[fmp4.Fragment] = []
            got = 0
            while frags and (last_here or got < seg.frames):
                take.append(frags.pop(0))
                got += take[-1].samples
            ran_out = is_last and not frags  # the source has fewer frames than its container said
            if not last_here and got != seg.frames and not ran_out:
                raise fmp4.PackagingError(
                    f"{rendition.name} segment {seg.index}: {got} frames where the plan has {seg.frames}"
                )
            if not take:
                break  # the source ended earlier than its container said
            first_seq = seg.start_frame // plan.gop_frames + 1
            out = directory / segment_name(seg.index)
            size = fmp4.write_segment(src, take, out, shift, first_seq, delay)
            files.append(SegmentFile(seg.index, got, size))
            if ran_out:
                break
    if frags:
        raise fmp4.PackagingError(f"{rendition.name}: {len(frags)} fragments beyond the task's segments")
    return RenditionPart(
        name=rendition.name,
        width=rendition.width,
        height=rendition.height,
        init_sha256=hashlib.sha256(init).hexdigest(),
        codecs=fmp4.avc_codec_string(init),
        segments=tuple(files),
    )


def _write_init(path: Path, init: bytes) -> None:
    """Every task writes the same init bytes; write only if absent or different (atomic)."""
    if path.exists() and path.read_bytes() == init:
        return
    tmp = path.with_name(f".{path.name}.{time.monotonic_ns()}")
    tmp.write_bytes(init)
    tmp.replace(path)
