"""Segment planning: fixed-length HLS segments made of whole, closed GOPs on an exact frame grid.

Both the single-process path and the segment-parallel path use the same plan, so their segments
start on the same frames. Times are exact fractions of the frame rate (`start_frame / fps`): a
worker seeks to `start_s` and encodes exactly `frames` frames, so nothing is dropped or doubled
where independently encoded ranges meet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from media_core.domain.errors import MediaRejected

DEFAULT_SEGMENT_S = 6.0  # Apple's HLS authoring spec: 6 s segments, 2 s keyframe interval
DEFAULT_GOP_S = 2.0
MAX_FPS = Fraction(60)


STANDARD_RATES: tuple[Fraction, ...] = tuple(
    Fraction(n, d)
    for n, d in (
        (24000, 1001),
        (24, 1),
        (25, 1),
        (30000, 1001),
        (30, 1),
        (48, 1),
        (50, 1),
        (60000, 1001),
        (60, 1),
    )
)
SNAP_TOLERANCE = 0.015  # a phone's variable-rate clip averaging 29.6 fps is encoded at 29.97


def frame_rate(fps: float | Fraction, max_fps: float | Fraction = MAX_FPS) -> Fraction:
    """The output frame rate as an exact fraction (29.97 -> 30000/1001), snapped to the nearest
    standard rate within 1.5 % (variable-rate averages), halved until <= max_fps."""
    if fps <= 0 or not math.isfinite(float(fps)):
        raise MediaRejected("unknown frame rate")
    rate = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
    nearest = min(STANDARD_RATES, key=lambda std: abs(std - rate))
    if abs(nearest - rate) <= SNAP_TOLERANCE * nearest:
        rate = nearest
    while rate > Fraction(max_fps) + Fraction(1, 100):
        rate /= 2
    return rate


def track_timescale(fps: Fraction) -> int:
    """An MP4 track timescale in which one frame lasts a whole number of ticks (90 kHz if it can)."""
    if (90_000 * fps.denominator) % fps.numerator == 0:
        return 90_000
    return fps.numerator * max(1, math.ceil(10_000 / fps.numerator))


@dataclass(frozen=True, slots=True)
class Segment:
    index: int
    start_frame: int
    frames: int

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    fps_num: int
    fps_den: int
    gop_frames: int
    segment_frames: int  # every segment but the last
    total_frames: int  # expected; the last segment takes whatever the source really has
    segments: tuple[Segment, ...]

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def timescale(self) -> int:
        return track_timescale(self.fps)

    @property
    def ticks_per_frame(self) -> int:
        ticks = Fraction(self.timescale) / self.fps
        assert ticks.denominator == 1
        return int(ticks)

    def time_of(self, frame: int) -> Fraction:
        return frame / self.fps

    def start_s(self, segment: Segment) -> float:
        return float(self.time_of(segment.start_frame))

    def duration_s(self, segment: Segment) -> float:
        return float(self.time_of(segment.frames))

    @property
    def duration(self) -> float:
        return float(self.time_of(self.total_frames))

    def is_last(self, segment: Segment) -> bool:
        return segment.index == len(self.segments) - 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (a Step Functions payload); `from_dict` reverses it."""
        return {
            "fps_num": self.fps_num,
            "fps_den": self.fps_den,
            "gop_frames": self.gop_frames,
            "segment_frames": self.segment_frames,
            "total_frames": self.total_frames,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentPlan:
        return _build(
            Fraction(int(data["fps_num"]), int(data["fps_den"])),
            int(data["gop_frames"]),
            int(data["segment_frames"]),
            int(data["total_frames"]),
        )


def _build(fps: Fraction, gop: int, seg_frames: int, total: int) -> SegmentPlan:
    segments = tuple(
        Segment(i, start, min(seg_frames, total - start))
        for i, start in enumerate(range(0, total, seg_frames))
    )
    return SegmentPlan(fps.numerator, fps.denominator, gop, seg_frames, total, segments)


def plan_segments(
    duration_s: float,
    fps: float | Fraction,
    segment_s: float = DEFAULT_SEGMENT_S,
    gop_s: float = DEFAULT_GOP_S,
) -> SegmentPlan:
    """Fixed-length segments of whole GOPs (`gop_s` rounded to whole frames, `segment_s` to whole
    GOPs) covering `duration_s`; the last one is shorter when the duration is not a multiple."""
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise MediaRejected("unknown or zero duration")
    if gop_s <= 0 or segment_s < gop_s:
        raise ValueError("need 0 < gop_s <= segment_s")
    rate = frame_rate(fps)
    gop = max(1, round(gop_s * rate))
    gops_per_segment = max(1, round(segment_s / float(gop / rate)))
    total = max(1, round(duration_s * rate))
    return _build(rate, gop, gop * gops_per_segment, total)


@dataclass(frozen=True, slots=True)
class Task:
    """The segments one worker encodes: `segments[first : first + count]`."""

    first: int
    count: int


def plan_tasks(plan: SegmentPlan, segments_per_task: int = 1) -> tuple[Task, ...]:
    """Group consecutive segments into worker tasks (1 per task is the most parallel)."""
    if segments_per_task < 1:
        raise ValueError("segments_per_task must be >= 1")
    n = len(plan.segments)
    return tuple(Task(i, min(segments_per_task, n - i)) for i in range(0, n, segments_per_task))
