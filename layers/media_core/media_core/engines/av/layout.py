"""Where the streaming outputs live inside an output directory (the same layout as the S3 prefix).

    hls/master.m3u8             master playlist
    hls/{rung}.m3u8             media playlist per video rendition, e.g. hls/720p.m3u8
    hls/{rung}/init.mp4         its init segment (ftyp+moov; identical from every worker)
    hls/{rung}/seg_{n:05d}.m4s  its media segments (moof+mdat per GOP), n from 0
    hls/audio.m3u8              the one audio rendition (absent when the source has no audio)
    hls/audio/init.mp4, hls/audio/seg_{n:05d}.m4s
    video.mp4                   progressive MP4 (+faststart) from the top rung <= 1080p + audio
    storyboard/sprite.jpg       thumbnails sheet
    storyboard/storyboard.vtt   WebVTT cues `sprite.jpg#xywh=x,y,w,h`

Every URI inside a playlist is relative, so the tree can be moved or served from any prefix.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HLS_DIR = "hls"
MASTER_NAME = "master.m3u8"
INIT_NAME = "init.mp4"
AUDIO_NAME = "audio"
MP4_NAME = "video.mp4"
STORYBOARD_DIR = "storyboard"
SPRITE_NAME = "sprite.jpg"
VTT_NAME = "storyboard.vtt"
WORK_DIR = ".work"  # scratch files (removed when a step succeeds)

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}


def segment_name(index: int) -> str:
    return f"seg_{index:05d}.m4s"


@dataclass(frozen=True, slots=True)
class Layout:
    root: Path

    @property
    def hls(self) -> Path:
        return self.root / HLS_DIR

    @property
    def master(self) -> Path:
        return self.hls / MASTER_NAME

    def rendition_dir(self, name: str) -> Path:
        return self.hls / name

    def playlist(self, name: str) -> Path:
        return self.hls / f"{name}.m3u8"

    def init(self, name: str) -> Path:
        return self.rendition_dir(name) / INIT_NAME

    def segment(self, name: str, index: int) -> Path:
        return self.rendition_dir(name) / segment_name(index)

    @property
    def mp4(self) -> Path:
        return self.root / MP4_NAME

    @property
    def storyboard(self) -> Path:
        return self.root / STORYBOARD_DIR

    @property
    def work(self) -> Path:
        return self.root / WORK_DIR

    @contextlib.contextmanager
    def scratch(self, name: str) -> Iterator[Path]:
        """The directory `work/{name}` for one step's scratch files, removed on exit (also on
        failure), and `work/` with it once no other step uses it."""
        directory = self.work / name
        directory.mkdir(parents=True, exist_ok=True)
        try:
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.work.rmdir()


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
