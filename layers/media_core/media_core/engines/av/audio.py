"""Audio: MP3 rendition (libmp3lame), embedded cover art as JPEG, waveform peaks for players."""

from __future__ import annotations

import io
import itertools
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ffmpeg
from PIL import Image

from media_core.domain.errors import MediaRejected
from media_core.engines.av import runner
from media_core.engines.av.limits import AudioLimits, AudioOptions, check_audio
from media_core.engines.av.probe import MediaInfo, probe, produced

if TYPE_CHECKING:
    import numpy as np

CONTENT_TYPE_MP3 = "audio/mpeg"
WAVEFORM_RATE = 8000  # Hz: plenty for a peak envelope, 16 kB/s of PCM to scan
_BLOCK = 80  # samples per 10 ms block: the waveform is built from block peaks, streamed


@dataclass(frozen=True)
class AudioTranscodeResult:
    path: Path
    duration_s: float
    size_bytes: int
    bit_rate: int | None
    sample_rate: int
    channels: int
    elapsed_s: float
    command: list[str] = field(repr=False)


def probe_audio(source: str, limits: AudioLimits | None = None) -> MediaInfo:
    """Probe and validate an audio upload (mp3, wav, ogg/opus/vorbis, aac, m4a, flac...)."""
    info = probe(source, runner.AUDIO_DEMUXERS)
    check_audio(info, limits or AudioLimits())
    return info


def _audio_index(info: MediaInfo) -> int:
    if info.audio is None:
        raise MediaRejected("no audio stream found")
    return info.audio.index


def transcode_audio(
    source: str,
    out_path: Path,
    info: MediaInfo,
    settings: AudioOptions | None = None,
    *,
    timeout_s: float | None = None,
) -> AudioTranscodeResult:
    """MP3 at settings.bitrate / settings.sample_rate; title/artist/album carried as ID3 tags only."""
    settings = settings or AudioOptions()
    audio = info.audio
    if audio is None:
        raise MediaRejected("no audio stream found")
    out_path = Path(out_path)
    partial = runner.partial_path(out_path)
    inp = ffmpeg.input(source, **runner.input_options(source, runner.AUDIO_DEMUXERS))
    opts: dict[str, Any] = {
        "format": "mp3",
        "c:a": "libmp3lame",
        "b:a": settings.bitrate,
        "ar": settings.sample_rate,
        "ac": max(1, min(audio.channels or 2, 2)),
        "map_metadata": -1,
        "map_chapters": -1,
        "id3v2_version": 3,
        "write_xing": 1,
    }
    args = runner.compile_ffmpeg(ffmpeg.output(inp[str(audio.index)], str(partial), **opts))
    # ffmpeg-python cannot repeat an option: insert one `-metadata k=v` per tag before the output.
    assert args[-1] == str(partial)
    for key, value in info.tags.items():
        if key in ("title", "artist", "album"):
            args[-1:-1] = ["-metadata", f"{key}={value}"]

    started = time.perf_counter()
    out = runner.run_to_file(
        args,
        partial,
        out_path,
        produced("mp3", "audio"),
        source=source,
        demuxers=runner.AUDIO_DEMUXERS,
        timeout_s=timeout_s,
        timeout_reason="audio transcoding exceeded the time budget",
    )
    assert out.audio is not None
    return AudioTranscodeResult(
        path=out_path,
        duration_s=out.duration_s,
        size_bytes=out_path.stat().st_size,
        bit_rate=out.audio.bit_rate or out.bit_rate,
        sample_rate=out.audio.sample_rate,
        channels=out.audio.channels,
        elapsed_s=time.perf_counter() - started,
        command=args,
    )


@dataclass(frozen=True)
class CoverArt:
    jpeg: bytes
    width: int
    height: int


def extract_cover_art(
    source: str, info: MediaInfo, settings: AudioOptions | None = None, *, timeout_s: float = 60.0
) -> CoverArt | None:
    """The embedded cover (attached picture) as a JPEG fitting cover_max_size, or None if absent or
    undecodable (a broken cover never fails the audio)."""
    settings = settings or AudioOptions()
    if info.cover_art_index is None:
        return None
    inp = ffmpeg.input(source, **runner.input_options(source, runner.AUDIO_DEMUXERS))
    out = ffmpeg.output(
        inp[str(info.cover_art_index)],
        "pipe:",
        vframes=1,
        format="image2pipe",
        vcodec="mjpeg",
        **{"q:v": 2, "color_range": "pc"},
    )
    try:
        result = runner.run(
            runner.compile_ffmpeg(out), source=source, demuxers=runner.AUDIO_DEMUXERS, timeout_s=timeout_s
        )
    except MediaRejected:
        return None
    jpeg = result.stdout
    try:
        with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as img:
            if max(img.size) > settings.cover_max_size:
                # Re-encode smaller with Pillow (ffmpeg filter expressions need comma escaping).
                img.draft("RGB", (settings.cover_max_size, settings.cover_max_size))
                small = img.convert("RGB")
                small.thumbnail((settings.cover_max_size, settings.cover_max_size))
                buf = io.BytesIO()
                small.save(buf, format="JPEG", quality=85)
                jpeg = buf.getvalue()
                width, height = small.size
            else:
                width, height = img.size
    except (OSError, Image.DecompressionBombError):
        # A cover past Pillow's pixel cap is a broken cover too: the audio goes on without it.
        return None
    return CoverArt(jpeg=jpeg, width=width, height=height)


def waveform(
    source: str, info: MediaInfo, points: int = 200, *, timeout_s: float | None = None
) -> list[float]:
    """`points` peak amplitudes in 0..1 (absolute, not normalised) over the whole duration, from the
    first audio stream decoded to 8 kHz mono s16 and streamed (memory stays flat for long files)."""
    import numpy as np  # here, not at import: the video path of the av function never needs it

    index = _audio_index(info)
    inp = ffmpeg.input(source, **runner.input_options(source, runner.AUDIO_DEMUXERS))
    out = ffmpeg.output(inp[str(index)], "pipe:", format="s16le", acodec="pcm_s16le", ac=1, ar=WAVEFORM_RATE)
    args = runner.compile_ffmpeg(out)
    blocks: list[np.ndarray[Any, np.dtype[np.int16]]] = []
    carry = b""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    pipe = subprocess.PIPE
    with subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        chunk_bytes = _BLOCK * 2 * 1000
        while chunk := proc.stdout.read(chunk_bytes):
            if deadline is not None and time.monotonic() > deadline:
                proc.kill()
                raise MediaRejected("computing the waveform took too long")
            data = carry + chunk
            usable = len(data) - len(data) % (_BLOCK * 2)
            carry = data[usable:]
            if usable:
                samples = np.frombuffer(data[:usable], dtype="<i2").reshape(-1, _BLOCK)
                blocks.append(np.abs(samples.astype(np.int32)).max(axis=1).astype(np.int16))
        stderr = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0:
            raise runner.explain_failure(stderr, source, runner.AUDIO_DEMUXERS)
    if carry:
        tail = np.frombuffer(carry[: len(carry) - len(carry) % 2], dtype="<i2")
        if tail.size:
            blocks.append(np.array([min(int(np.abs(tail.astype(np.int32)).max()), 32767)], dtype=np.int16))
    return peaks_from_blocks(np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int16), points)


def peaks_from_blocks(block_peaks: np.ndarray[Any, Any], points: int) -> list[float]:
    """Reduce per-block peaks to exactly `points` values in 0..1 (zeros for silence/empty input)."""
    import numpy as np

    if points <= 0:
        return []
    if block_peaks.size == 0:
        return [0.0] * points
    edges = np.linspace(0, block_peaks.size, points + 1).astype(np.int64)
    peaks: list[float] = []
    for start, end in itertools.pairwise(edges.tolist()):
        stop = max(end, start + 1)
        segment = block_peaks[min(start, block_peaks.size - 1) : stop]
        peaks.append(round(min(1.0, float(segment.max()) / 32767.0), 4))
    return peaks
