"""The audio rendition: the whole file's audio encoded ONCE (AAC-LC, stereo at most) as one
fragmented MP4 with a fragment every segment duration, cut into segment files by fmp4.py. One
encode means one AAC priming delay at the very start (signalled by the init segment's edit list,
as CMAF does for audio) instead of a gap at every video segment boundary.
Video segments and audio segments need not align: the audio is its own HLS rendition group.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from media_core.domain.errors import MediaRejected
from media_core.engines.av import fmp4, runner
from media_core.engines.av.layout import AUDIO_NAME, INIT_NAME, Layout, segment_name
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.plan import AudioPlan, HlsPlan
from media_core.engines.av.segments import DEFAULT_SEGMENT_S

logger = Logger(child=True)

AUDIO_MOVFLAGS = "+empty_moov+default_base_moof+delay_moov+skip_trailer"


@dataclass(frozen=True, slots=True)
class AudioSegment:
    index: int
    uri: str  # relative to the audio directory, e.g. "seg_00000.m4s"
    duration_s: float
    size_bytes: int


@dataclass(frozen=True, slots=True)
class AudioRendition:
    codecs: str  # e.g. "mp4a.40.2"
    channels: int
    sample_rate: int
    bitrate: int  # the target, bits/s
    segments: tuple[AudioSegment, ...]
    priming_s: float = 0.0  # encoder delay at the start, skipped by the init segment's edit list
    elapsed_s: float = 0.0
    command: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        """Sum of the segments (the EXTINFs), priming included."""
        return sum(s.duration_s for s in self.segments)

    @property
    def presented_s(self) -> float:
        """What a player plays: the segments minus the priming the edit list skips."""
        return self.duration_s - self.priming_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "codecs": self.codecs,
            "channels": self.channels,
            "sample_rate": self.sample_rate,
            "bitrate": self.bitrate,
            "segments": [[s.index, s.uri, s.duration_s, s.size_bytes] for s in self.segments],
            "priming_s": self.priming_s,
            "elapsed_s": round(self.elapsed_s, 3),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AudioRendition:
        segs = tuple(AudioSegment(int(i), str(u), float(t), int(n)) for i, u, t, n in d["segments"])
        return cls(
            str(d["codecs"]),
            int(d["channels"]),
            int(d["sample_rate"]),
            int(d["bitrate"]),
            segs,
            float(d.get("priming_s", 0.0)),
            float(d.get("elapsed_s", 0.0)),
        )


def _bitrate_bits(text: str) -> int:
    text = text.strip().lower()
    unit = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return round(float(text.rstrip("km")) * unit)


def audio_command(
    source: str,
    audio: AudioPlan,
    out: Path,
    settings: TranscodeOptions,
    segment_s: float = DEFAULT_SEGMENT_S,
) -> list[str]:
    """One fragmented MP4 of the whole audio, a fragment every `segment_s` (all AAC frames are sync
    samples, so `-frag_duration` cuts there); `delay_moov` puts the AAC priming in the edit list."""
    args = runner.ffmpeg_head()
    args += runner.input_args(source, runner.VIDEO_DEMUXERS)
    args += ["-i", source, "-map", f"0:{audio.index}", "-vn", "-sn", "-dn"]
    args += ["-map_metadata", "-1", "-map_chapters", "-1"]
    args += ["-c:a", "aac", "-b:a", settings.audio_bitrate, "-ac", str(audio.channels)]
    args += ["-ar", str(audio.sample_rate)]
    args += ["-frag_duration", str(round(segment_s * 1_000_000)), "-f", "mp4", "-movflags", AUDIO_MOVFLAGS]
    args.append(str(out))
    return args


def encode_audio(
    source: str,
    plan: HlsPlan,
    out_dir: Path,
    settings: TranscodeOptions | None = None,
    *,
    timeout_s: float | None = None,
) -> AudioRendition | None:
    """The audio worker (runs alongside the segment tasks): writes `hls/audio/init.mp4` +
    `hls/audio/seg_*.m4s` under `out_dir`; None when the source has no audio."""
    audio = plan.audio
    if audio is None:
        return None
    segment_s = plan.segment_s
    settings = settings or TranscodeOptions()
    layout = Layout(Path(out_dir))
    directory = layout.rendition_dir(AUDIO_NAME)
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    segments: list[AudioSegment] = []
    with layout.scratch(AUDIO_NAME) as scratch:
        partial = scratch / "audio.mp4"
        args = audio_command(source, audio, partial, settings, segment_s)
        runner.run(
            args,
            source=source,
            demuxers=runner.VIDEO_DEMUXERS,
            timeout_s=timeout_s,
            timeout_reason="encoding the audio exceeded the time budget",
        )
        parsed = fmp4.read_fragmented(partial)
        timescale = fmp4.media_timescale(parsed.init)
        (directory / INIT_NAME).write_bytes(parsed.init)
        with partial.open("rb") as src:
            for i, frag in enumerate(parsed.fragments):
                uri = segment_name(i)
                size = fmp4.write_segment(src, [frag], directory / uri, 0, i + 1)
                segments.append(AudioSegment(i, uri, frag.duration_ticks / timescale, size))
    if not segments:
        raise MediaRejected("the audio stream has no decodable frames")
    elapsed = time.perf_counter() - started
    logger.info("encoded audio", segments=len(segments), elapsed_s=round(elapsed, 2))
    return AudioRendition(
        codecs=fmp4.aac_codec_string(parsed.init),
        channels=audio.channels,
        sample_rate=audio.sample_rate,
        bitrate=_bitrate_bits(settings.audio_bitrate),
        segments=tuple(segments),
        priming_s=fmp4.edit_media_time(parsed.init) / timescale,
        elapsed_s=elapsed,
        command=args,
    )
