"""Small test media made with the project's own ffmpeg (media_core.engines.av.binaries), never a system one.

`AvMedia(directory)` generates each file on first use and returns its path afterwards, so a
session-scoped fixture pays for every file once. Everything is tiny: 320x240 or smaller, 1-3 s.
A missing project ffmpeg raises FfmpegNotFoundError: tests fail, they are not skipped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from media_core.engines.av.binaries import find_binaries

W, H, FPS, SECONDS = 320, 240, 25, 2
VIDEO_SRC = f"testsrc2=size={W}x{H}:rate={FPS}:duration={SECONDS}"
AUDIO_SRC = f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"
TAGS = {"title": "Test Tone", "artist": "The Fixtures", "album": "Unit Tests"}


def ffmpeg(*args: str) -> None:
    cmd = [str(find_binaries().ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")


def lavfi_av(video: str = VIDEO_SRC, audio: str | None = AUDIO_SRC) -> list[str]:
    args = ["-f", "lavfi", "-i", video]
    if audio:
        args += ["-f", "lavfi", "-i", audio]
    return args


X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "96k"]


class AvMedia:
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

    # -- video -----------------------------------------------------------------------------------
    def landscape_mp4(self) -> Path:
        """320x240 H.264 (yuv420p) + AAC, 2 s, moov at the END (no faststart)."""
        return self._cached(
            "landscape.mp4", lambda p: ffmpeg(*lavfi_av(), *X264, *AAC, "-shortest", "-f", "mp4", str(p))
        )

    def landscape_faststart_mp4(self) -> Path:
        return self._cached(
            "landscape_faststart.mp4",
            lambda p: ffmpeg(
                *lavfi_av(), *X264, *AAC, "-shortest", "-movflags", "+faststart", "-f", "mp4", str(p)
            ),
        )

    def portrait_mp4(self) -> Path:
        """A phone-style portrait clip: coded 320x240 with a display matrix rotating it 90 degrees
        clockwise (the legacy `rotate=90` tag), so it displays 240x320."""
        src = self.landscape_mp4()
        # -display_rotation is counter-clockwise; -90 == clockwise 90 == what phones write.
        return self._cached(
            "portrait.mp4",
            lambda p: ffmpeg("-display_rotation", "-90", "-i", str(src), "-c", "copy", "-f", "mp4", str(p)),
        )

    def hevc_mov(self) -> Path:
        return self._cached(
            "hevc.mov",
            lambda p: ffmpeg(
                *lavfi_av(),
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-x265-params",
                "log-level=error",
                "-pix_fmt",
                "yuv420p",
                "-tag:v",
                "hvc1",
                *AAC,
                "-shortest",
                "-f",
                "mov",
                str(p),
            ),
        )

    def vp9_webm(self) -> Path:
        return self._cached(
            "vp9.webm",
            lambda p: ffmpeg(
                *lavfi_av(),
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-b:v",
                "300k",
                "-c:a",
                "libopus",
                "-b:a",
                "64k",
                "-shortest",
                "-f",
                "webm",
                str(p),
            ),
        )

    def mkv(self) -> Path:
        return self._cached(
            "clip.mkv", lambda p: ffmpeg(*lavfi_av(), *X264, *AAC, "-shortest", "-f", "matroska", str(p))
        )

    def avi(self) -> Path:
        return self._cached(
            "clip.avi",
            lambda p: ffmpeg(
                *lavfi_av(),
                "-c:v",
                "mpeg4",
                "-q:v",
                "5",
                "-c:a",
                "libmp3lame",
                "-b:a",
                "96k",
                "-shortest",
                "-f",
                "avi",
                str(p),
            ),
        )

    def no_audio_mp4(self) -> Path:
        return self._cached(
            "no_audio.mp4", lambda p: ffmpeg(*lavfi_av(audio=None), *X264, "-f", "mp4", str(p))
        )

    def vfr_mp4(self) -> Path:
        """Variable frame rate: frames 0-9 at 30 fps, then every third frame (10 fps), timestamps kept."""
        return self._cached(
            "vfr.mp4",
            lambda p: ffmpeg(
                *lavfi_av(
                    video=f"testsrc2=size={W}x{H}:rate=30:duration=3",
                    audio="sine=frequency=440:sample_rate=48000:duration=3",
                ),
                "-vf",
                "select='lt(n\\,10)+not(mod(n\\,3))'",
                "-fps_mode",
                "vfr",
                *X264,
                *AAC,
                "-shortest",
                "-f",
                "mp4",
                str(p),
            ),
        )

    def odd_size_mp4(self) -> Path:
        """Odd dimensions (321x241): the rendition must come out even."""
        return self._cached(
            "odd.mp4",
            lambda p: ffmpeg(
                *lavfi_av(video=f"testsrc2=size=321x241:rate={FPS}:duration=1", audio=None),
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv444p",
                "-f",
                "mp4",
                str(p),
            ),
        )

    def big_mp4(self, name: str = "big.mp4", loops: int = 15, faststart: bool = False) -> Path:
        """A few-tens-of-MB file (a dense 2 s clip stream-copied `loops` times) for range-read tests."""

        def make(p: Path) -> None:
            dense = self.dir / "dense.mp4"
            if not dense.exists():
                noisy = f"testsrc2=size={W}x{H}:rate={FPS}:duration={SECONDS},noise=alls=25:allf=t"
                ffmpeg(
                    "-f",
                    "lavfi",
                    "-i",
                    noisy,
                    "-f",
                    "lavfi",
                    "-i",
                    AUDIO_SRC,
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-crf",
                    "12",
                    "-pix_fmt",
                    "yuv420p",
                    *AAC,
                    "-shortest",
                    "-f",
                    "mp4",
                    str(dense),
                )
            flags = ["-movflags", "+faststart"] if faststart else []
            ffmpeg(
                "-stream_loop", str(loops - 1), "-i", str(dense), "-c", "copy", *flags, "-f", "mp4", str(p)
            )

        return self._cached(name, make)

    # -- audio -----------------------------------------------------------------------------------
    def _tone(self, name: str, *codec: str, seconds: int = 3, channels: int = 2, tags: bool = False) -> Path:
        meta: list[str] = []
        if tags:
            for key, value in TAGS.items():
                meta += ["-metadata", f"{key}={value}"]
        src = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
        return self._cached(
            name,
            lambda p: ffmpeg(
                "-f", "lavfi", "-i", src, "-af", "volume=4", "-ac", str(channels), *codec, *meta, str(p)
            ),
        )

    def mp3(self) -> Path:
        return self._tone("tone.mp3", "-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3", tags=True)

    def wav(self) -> Path:
        return self._tone("tone.wav", "-c:a", "pcm_s16le", "-f", "wav")

    def ogg(self) -> Path:
        return self._tone("tone.ogg", "-c:a", "libopus", "-b:a", "64k", "-f", "ogg", tags=True)

    def aac(self) -> Path:
        return self._tone("tone.aac", "-c:a", "aac", "-b:a", "128k", "-f", "adts")

    def m4a(self) -> Path:
        return self._tone("tone.m4a", "-c:a", "aac", "-b:a", "128k", "-f", "ipod", tags=True)

    def flac(self) -> Path:
        return self._tone("tone.flac", "-c:a", "flac", "-f", "flac", tags=True)

    def surround_wav(self) -> Path:
        return self._tone("surround.wav", "-c:a", "pcm_s16le", "-f", "wav", channels=6)

    def cover_jpeg(self) -> Path:
        return self._cached(
            "cover.jpg",
            lambda p: ffmpeg(
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=200x200:duration=1",
                "-frames:v",
                "1",
                "-c:v",
                "mjpeg",
                "-f",
                "image2",
                str(p),
            ),
        )

    def mp3_with_cover(self) -> Path:
        tone, cover = self.mp3(), self.cover_jpeg()
        return self._cached(
            "cover.mp3",
            lambda p: ffmpeg(
                "-i",
                str(tone),
                "-i",
                str(cover),
                "-map",
                "0:a",
                "-map",
                "1:v",
                "-c",
                "copy",
                "-id3v2_version",
                "3",
                "-metadata:s:v",
                "title=Album cover",
                "-disposition:v",
                "attached_pic",
                "-f",
                "mp3",
                str(p),
            ),
        )

    # -- hostile ---------------------------------------------------------------------------------
    def zero_bytes_mp4(self) -> Path:
        return self._cached("zero.mp4", lambda p: p.write_bytes(b""))

    def truncated_mp4(self) -> Path:
        """The first half of an MP4 whose moov atom is at the end: the index is gone."""
        src = self.landscape_mp4()
        return self._cached(
            "truncated.mp4", lambda p: p.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
        )

    def jpeg_named_mp4(self) -> Path:
        cover = self.cover_jpeg()
        return self._cached("photo.mp4", lambda p: p.write_bytes(cover.read_bytes()))

    def text_named_mp3(self) -> Path:
        text = "These are not the droids you are looking for.\n" * 20
        return self._cached("notes.mp3", lambda p: p.write_text(text))

    def hls_playlist_named_mp4(self) -> Path:
        """An HLS playlist pretending to be an MP4 that points at a local file (SSRF/LFI probe)."""
        return self._cached(
            "playlist.mp4",
            lambda p: p.write_text(
                "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
            ),
        )


def mp4_top_level_boxes(path: Path) -> list[str]:
    """Types of the top-level ISO-BMFF boxes in file order (ftyp, moov, mdat, ...)."""
    boxes: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= size_total:
            fh.seek(offset)
            header = fh.read(16)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - offset
            if size < 8:
                raise ValueError(f"bad box size {size} at {offset}")
            boxes.append(kind)
            offset += size
    return boxes
