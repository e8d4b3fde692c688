"""The streaming plan of one source: renditions (from the ladder) + segment plan + worker tasks.
Made once from the probe; JSON-safe (`to_dict`/`from_dict`) so a workflow can hand it to workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from media_core.av.limits import TranscodeSettings
from media_core.av.probe import MediaInfo
from media_core.engines.av.ladder import DEFAULT_LADDER, Rendition, Rung, choose_renditions
from media_core.engines.av.segments import (
    DEFAULT_GOP_S,
    DEFAULT_SEGMENT_S,
    SegmentPlan,
    Task,
    frame_rate,
    plan_segments,
    plan_tasks,
)
from media_core.errors import MediaRejected


@dataclass(frozen=True, slots=True)
class HlsPlan:
    segments: SegmentPlan
    renditions: tuple[Rendition, ...]
    has_audio: bool
    segment_s: float

    def tasks(self, segments_per_task: int = 1) -> tuple[Task, ...]:
        return plan_tasks(self.segments, segments_per_task)

    def single_task(self) -> Task:
        """One task covering the whole file: the single-process path."""
        return Task(0, len(self.segments.segments))

    def to_dict(self) -> dict[str, Any]:
        return {
            "segments": self.segments.to_dict(),
            "renditions": [
                [r.name, r.width, r.height, r.max_bitrate, r.buffer_bits] for r in self.renditions
            ],
            "has_audio": self.has_audio,
            "segment_s": self.segment_s,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HlsPlan:
        renditions = tuple(
            Rendition(str(n), int(w), int(h), int(b), int(buf)) for n, w, h, b, buf in d["renditions"]
        )
        return cls(
            SegmentPlan.from_dict(d["segments"]), renditions, bool(d["has_audio"]), float(d["segment_s"])
        )


def plan_hls(
    info: MediaInfo,
    ladder: tuple[Rung, ...] = DEFAULT_LADDER,
    settings: TranscodeSettings | None = None,
    *,
    segment_s: float = DEFAULT_SEGMENT_S,
    gop_s: float = DEFAULT_GOP_S,
) -> HlsPlan:
    """Renditions and segments for `info` (raise MediaRejected without video or frame rate)."""
    settings = settings or TranscodeSettings()
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    if not video.fps:
        raise MediaRejected("unknown frame rate")
    rate = frame_rate(video.fps, settings.max_fps)
    return HlsPlan(
        segments=plan_segments(info.duration_s, rate, segment_s, gop_s),
        renditions=choose_renditions(info, ladder),
        has_audio=info.audio is not None,
        segment_s=segment_s,
    )
