"""Small clips for the HLS engine tests, made with the project's ffmpeg (never a system one), and
probe helpers that read what the engine produced.

Clips are a few seconds, at most 640x360, so the tests stay fast on 2 cores. `HlsMedia(directory)`
generates each file on first use (files shared by every test module through the directory).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from media_core.engines.av.binaries import find_binaries

from tests.support.av_media import ffmpeg

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "30"]
AAC = ["-c:a", "aac", "-b:a", "96k", "-ac", "2"]


def _lavfi(size: str, rate: str, seconds: float, audio: bool) -> list[str]:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    return args


class HlsMedia:
    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def _cached(self, name: str, make: Callable[[Path], None]) -> Path:
        path = self.dir / name
        if not path.exists():
            partial = self.dir / f"partial-{name}"
            make(partial)
            partial.replace(path)
        return path

    def _clip(self, name: str, size: str, rate: str, seconds: float, audio: bool = True) -> Path:
        codecs = [*X264, *AAC, "-shortest"] if audio else X264
        return self._cached(
            name, lambda p: ffmpeg(*_lavfi(size, rate, seconds, audio), *codecs, "-f", "mp4", str(p))
        )

    def landscape(self) -> Path:
        """640x360, 25 fps, 7 s, stereo AAC: 4 segments of 2 s (the last one 1 s)."""
        return self._clip("hls_landscape.mp4", "640x360", "25", 7)

    def ntsc(self) -> Path:
        """320x180 at 30000/1001 fps with audio, 5 s: a frame rate that is not a whole number."""
        return self._clip("hls_ntsc.mp4", "320x180", "30000/1001", 5)

    def no_audio(self) -> Path:
        return self._clip("hls_no_audio.mp4", "480x270", "25", 3, audio=False)

    def small(self) -> Path:
        """320x240: smaller than the default ladder's every rung; between 360 and 180."""
        return self._clip("hls_small.mp4", "320x240", "25", 3)

    def portrait(self) -> Path:
        """Coded 640x360 with a display matrix turning it 90 degrees clockwise: shows 360x640."""
        src = self._clip("hls_portrait_coded.mp4", "640x360", "25", 3)
        return self._cached(
            "hls_portrait.mp4",
            lambda p: ffmpeg("-display_rotation", "-90", "-i", str(src), "-c", "copy", "-f", "mp4", str(p)),
        )


# -- probing ---------------------------------------------------------------------------------------
def ffprobe(path: Path | str, *args: str) -> dict[str, Any]:
    cmd = [str(find_binaries().ffprobe), "-v", "error", "-print_format", "json", *args, str(path)]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffprobe failed: {' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def video_frames(path: Path | str) -> list[dict[str, Any]]:
    """Decoded video frames (pts in seconds, key flag, picture type) in presentation order."""
    data = ffprobe(
        path, "-select_streams", "v:0", "-show_entries", "frame=pts_time,key_frame,pict_type,width,height"
    )
    frames: list[dict[str, Any]] = data.get("frames", [])
    return sorted(frames, key=lambda f: float(f["pts_time"]))


def count_video_frames(path: Path | str) -> int:
    data = ffprobe(path, "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames")
    return int(data["streams"][0]["nb_read_frames"])


def frame_rate_of(path: Path | str) -> Fraction:
    data = ffprobe(path, "-select_streams", "v:0", "-show_entries", "stream=avg_frame_rate")
    return Fraction(data["streams"][0]["avg_frame_rate"])


def concat(out: Path, *parts: Path) -> Path:
    with out.open("wb") as dst:
        for part in parts:
            dst.write(part.read_bytes())
    return out


def decode_errors(source: Path | str) -> str:
    """stderr of decoding every stream of `source` (an HLS master too) with `-v error`."""
    cmd = [str(find_binaries().ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-i", str(source)]
    cmd += ["-map", "0", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    return proc.stderr.decode(errors="replace") + ("" if proc.returncode == 0 else f"\nrc={proc.returncode}")
