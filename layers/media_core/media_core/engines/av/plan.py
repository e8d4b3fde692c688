"""The streaming plan of one source: renditions (from the ladder) + segment plan + worker tasks.
Made once from the probe; JSON-safe (`to_dict`/`from_dict`) so a workflow can hand it to workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from media_core.domain.errors import MediaRejected
from media_core.engines.av.ladder import DEFAULT_LADDER, Rendition, Rung, choose_renditions
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.probe import MediaInfo
from media_core.engines.av.segments import (
    DEFAULT_GOP_S,
    DEFAULT_SEGMENT_S,
    SegmentPlan,
    Task,
    frame_rate,
    plan_segments,
    plan_tasks,
)


@dataclass(frozen=True, slots=True)
class AudioPlan:
    """The one audio rendition: which input stream, and the output layout."""

    index: int  # input stream index
    channels: int  # stereo at most
    sample_rate: int  # 44.1/48 kHz kept, others -> 48 kHz


def audio_plan(info: MediaInfo) -> AudioPlan | None:
    audio = info.audio
    if audio is None:
        return None
    channels = min(max(audio.channels, 1), 2)
    rate = audio.sample_rate if audio.sample_rate in (44_100, 48_000) else 48_000
    return AudioPlan(audio.index, channels, rate)


@dataclass(frozen=True, slots=True)
class HlsPlan:
    """Everything a worker or the assembler needs besides the source URL and the settings."""

    segments: SegmentPlan
    renditions: tuple[Rendition, ...]
    video_index: int  # input stream index
    audio: AudioPlan | None
    segment_s: float

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    def tasks(self, segments_per_task: int = 1) -> tuple[Task, ...]:
        return plan_tasks(self.segments, segments_per_task)

    def single_task(self) -> Task:
        """One task covering the whole file: the single-process path."""
        return Task(0, len(self.segments.segments))

    def to_dict(self) -> dict[str, Any]:
        audio = self.audio
        return {
            "segments": self.segments.to_dict(),
            "renditions": [
                [r.name, r.width, r.height, r.max_bitrate, r.buffer_bits] for r in self.renditions
            ],
            "video_index": self.video_index,
            "audio": None if audio is None else [audio.index, audio.channels, audio.sample_rate],
            "segment_s": self.segment_s,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HlsPlan:
        renditions = tuple(
            Rendition(str(n), int(w), int(h), int(b), int(buf)) for n, w, h, b, buf in d["renditions"]
        )
        audio = None if d.get("audio") is None else AudioPlan(*(int(v) for v in d["audio"]))
        return cls(
            SegmentPlan.from_dict(d["segments"]),
            renditions,
            int(d["video_index"]),
            audio,
            float(d["segment_s"]),
        )


def plan_hls(
    info: MediaInfo,
    ladder: tuple[Rung, ...] = DEFAULT_LADDER,
    settings: TranscodeOptions | None = None,
    *,
    segment_s: float = DEFAULT_SEGMENT_S,
    gop_s: float = DEFAULT_GOP_S,
) -> HlsPlan:
    """Renditions and segments for `info` (raise MediaRejected without video or frame rate)."""
    settings = settings or TranscodeOptions()
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    if not video.fps:
        raise MediaRejected("unknown frame rate")
    rate = frame_rate(video.fps, settings.max_fps)
    # Segments for the picture there is: a container longer than its video (the audio runs on)
    # would plan segments no frame fills.
    return HlsPlan(
        segments=plan_segments(info.picture_s, rate, segment_s, gop_s),
        renditions=choose_renditions(info, ladder),
        video_index=video.index,
        audio=audio_plan(info),
        segment_s=segment_s,
    )
