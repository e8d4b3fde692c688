"""The assembler: after every task (and the audio) finished, check the parts fit together, write the
media playlists and the master playlist, and build the progressive MP4 from the top rung's segments
by stream copy (never a re-encode).

Checks: every planned segment is present once per rendition with the planned frame count (the last
one takes what the source had), every task produced the same init segment (same hash), the CODECS
come from those init segments. Bandwidths are measured from the segment sizes the workers reported
(and re-read from disk when the files are here).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from media_core.engines.av import fmp4, runner
from media_core.engines.av.audio_hls import AudioRendition
from media_core.engines.av.encode import RenditionPart, SegmentFile, TaskResult
from media_core.engines.av.ladder import Rendition, mp4_rendition
from media_core.engines.av.layout import AUDIO_NAME, INIT_NAME, Layout, segment_name
from media_core.engines.av.plan import HlsPlan
from media_core.engines.av.playlists import (
    AudioEntry,
    MediaPlaylist,
    MediaSegment,
    VariantEntry,
    render_master_playlist,
    render_media_playlist,
)

logger = Logger(child=True)

MP4_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class VariantSummary:
    name: str
    width: int
    height: int
    codecs: str
    bandwidth: int
    average_bandwidth: int
    video_peak_bps: int
    video_average_bps: int
    segments: int
    frames: int
    duration_s: float


@dataclass(frozen=True, slots=True)
class HlsOutput:
    master: Path
    variants: tuple[VariantSummary, ...]
    audio_playlist: Path | None
    mp4: Path | None
    duration_s: float
    frames: int
    elapsed_s: float
    timings: dict[str, float] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        return {
            "hls": {
                "master": "hls/master.m3u8",
                "duration_s": round(self.duration_s, 3),
                "frames": self.frames,
                "has_audio": self.audio_playlist is not None,
                "variants": [
                    {
                        "name": v.name,
                        "width": v.width,
                        "height": v.height,
                        "codecs": v.codecs,
                        "bandwidth": v.bandwidth,
                        "average_bandwidth": v.average_bandwidth,
                    }
                    for v in self.variants
                ],
            },
            "mp4": "video.mp4" if self.mp4 is not None else None,
        }


class AssemblyError(RuntimeError):
    """The parts do not fit (a missing or duplicated segment, differing init segments): a bug or a
    lost worker result. Retry the missing tasks; never publish such a playlist."""


def merge_parts(plan: HlsPlan, results: Sequence[TaskResult]) -> dict[str, list[RenditionPart]]:
    by_name: dict[str, list[RenditionPart]] = {r.name: [] for r in plan.renditions}
    for result in results:
        for part in result.renditions:
            if part.name not in by_name:
                raise AssemblyError(f"task {result.first}: unknown rendition {part.name}")
            by_name[part.name].append(part)
    return by_name


def _segments_of(plan: HlsPlan, name: str, parts: list[RenditionPart]) -> list[SegmentFile]:
    hashes = {p.init_sha256 for p in parts}
    if len(hashes) > 1:
        raise AssemblyError(f"{name}: tasks produced {len(hashes)} different init segments")
    codecs = {p.codecs for p in parts}
    if len(codecs) > 1:
        raise AssemblyError(f"{name}: tasks disagree on the codec ({', '.join(sorted(codecs))})")
    segs = sorted((s for p in parts for s in p.segments), key=lambda s: s.index)
    indices = [s.index for s in segs]
    planned = plan.segments.segments
    if indices != list(range(len(planned))):
        missing = sorted(set(range(len(planned))) - set(indices))
        doubled = sorted({i for i in indices if indices.count(i) > 1})
        raise AssemblyError(f"{name}: segments missing {missing[:10]} or duplicated {doubled[:10]}")
    for seg in segs[:-1]:
        if seg.frames != planned[seg.index].frames:
            raise AssemblyError(
                f"{name} segment {seg.index}: {seg.frames} frames, planned {planned[seg.index].frames}"
            )
    return segs


def _measured_size(path: Path, reported: int) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return reported  # assembling from worker reports only (files already uploaded)


def assemble(
    out_dir: Path,
    plan: HlsPlan,
    results: Sequence[TaskResult],
    audio: AudioRendition | None,
    *,
    make_mp4: bool = True,
    timeout_s: float = MP4_TIMEOUT_S,
) -> HlsOutput:
    """Write `hls/{rung}.m3u8`, `hls/audio.m3u8`, `hls/master.m3u8` (and `video.mp4`) under `out_dir`."""
    started = time.perf_counter()
    layout = Layout(Path(out_dir))
    layout.hls.mkdir(parents=True, exist_ok=True)
    parts = merge_parts(plan, results)
    fps = plan.segments.fps
    audio_playlist: MediaPlaylist | None = None
    audio_entry: AudioEntry | None = None
    if plan.has_audio and audio is None:
        raise AssemblyError("the source has audio but no audio rendition was given")
    if audio is not None:
        audio_playlist = MediaPlaylist(
            f"{AUDIO_NAME}/{INIT_NAME}",
            tuple(
                MediaSegment(
                    f"{AUDIO_NAME}/{s.uri}",
                    s.duration_s,
                    _measured_size(layout.rendition_dir(AUDIO_NAME) / s.uri, s.size_bytes),
                )
                for s in audio.segments
            ),
        )
        _write_text(layout.playlist(AUDIO_NAME), render_media_playlist(audio_playlist))
        audio_entry = AudioEntry(f"{AUDIO_NAME}.m3u8", audio.channels, audio.codecs)
    variants: list[VariantEntry] = []
    summaries: list[VariantSummary] = []
    frames_total = 0
    for rendition in plan.renditions:
        rparts = parts[rendition.name]
        segs = _segments_of(plan, rendition.name, rparts)
        playlist = MediaPlaylist(
            f"{rendition.name}/{INIT_NAME}",
            tuple(
                MediaSegment(
                    f"{rendition.name}/{segment_name(s.index)}",
                    float(s.frames / fps),
                    _measured_size(layout.segment(rendition.name, s.index), s.size_bytes),
                )
                for s in segs
            ),
        )
        _write_text(layout.playlist(rendition.name), render_media_playlist(playlist))
        peak, average = playlist.peak_bandwidth, playlist.average_bandwidth
        codecs = rparts[0].codecs
        if audio_playlist is not None and audio is not None:
            peak += audio_playlist.peak_bandwidth
            average += audio_playlist.average_bandwidth
            codecs = f"{codecs},{audio.codecs}"
        frames = sum(s.frames for s in segs)
        frames_total = max(frames_total, frames)
        variants.append(
            VariantEntry(
                f"{rendition.name}.m3u8", peak, average, codecs, rendition.width, rendition.height, float(fps)
            )
        )
        summaries.append(
            VariantSummary(
                rendition.name,
                rendition.width,
                rendition.height,
                codecs,
                peak,
                average,
                playlist.peak_bandwidth,
                playlist.average_bandwidth,
                len(segs),
                frames,
                playlist.duration_s,
            )
        )
    _write_text(layout.master, render_master_playlist(variants, audio_entry))
    timings = {"playlists_s": time.perf_counter() - started}
    mp4_path: Path | None = None
    if make_mp4:
        mark = time.perf_counter()
        top = mp4_rendition(plan.renditions)
        mp4_path = build_mp4(
            layout, top, [s.index for s in _segments_of(plan, top.name, parts[top.name])], audio, timeout_s
        )
        timings["mp4_s"] = time.perf_counter() - mark
    elapsed = time.perf_counter() - started
    logger.info("assembled HLS", variants=len(variants), audio=audio is not None, elapsed_s=round(elapsed, 2))
    return HlsOutput(
        master=layout.master,
        variants=tuple(summaries),
        audio_playlist=layout.playlist(AUDIO_NAME) if audio is not None else None,
        mp4=mp4_path,
        duration_s=float(frames_total / fps),
        frames=frames_total,
        elapsed_s=elapsed,
        timings=timings,
    )


def _write_text(path: Path, text: str) -> None:
    tmp = runner.partial_path(path)
    tmp.write_text(text)
    tmp.replace(path)


def _concat(out: Path, files: Sequence[Path]) -> None:
    """init + media segments of one rendition, byte-concatenated: a valid fragmented MP4."""
    with out.open("wb") as dst:
        for f in files:
            fmp4.copy_file_into(dst, f)


def mp4_command(video_frag: Path, audio_frag: Path | None, out: Path) -> list[str]:
    args = runner.ffmpeg_head()
    args += [*runner.input_args(str(video_frag), ("mov",)), "-i", str(video_frag)]
    if audio_frag is not None:
        args += [*runner.input_args(str(audio_frag), ("mov",)), "-i", str(audio_frag)]
    args += ["-map", "0:v:0"]
    if audio_frag is not None:
        args += ["-map", "1:a:0"]
    args += ["-c", "copy", "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", str(out)]
    return args


def build_mp4(
    layout: Layout,
    rendition: Rendition,
    indices: Sequence[int],
    audio: AudioRendition | None,
    timeout_s: float = MP4_TIMEOUT_S,
) -> Path:
    """`video.mp4`: the rendition's segments + the audio segments, remuxed with +faststart."""
    with layout.scratch("mp4") as scratch:
        video_frag = scratch / "video_frag.mp4"
        audio_frag = scratch / "audio_frag.mp4" if audio is not None else None
        partial = scratch / "video.mp4.partial"
        _concat(
            video_frag, [layout.init(rendition.name), *(layout.segment(rendition.name, i) for i in indices)]
        )
        if audio is not None and audio_frag is not None:
            adir = layout.rendition_dir(AUDIO_NAME)
            _concat(audio_frag, [adir / INIT_NAME, *(adir / s.uri for s in audio.segments)])
        args = mp4_command(video_frag, audio_frag, partial)
        runner.run(
            args,
            source=str(video_frag),
            demuxers=("mov",),
            timeout_s=timeout_s,
            timeout_reason="building the MP4 took too long",
        )
        partial.replace(layout.mp4)
    return layout.mp4
