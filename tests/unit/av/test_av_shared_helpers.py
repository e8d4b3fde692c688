"""The small helpers the av engines and the streaming processor share: the fMP4 box header parser,
a step's scratch directory, the partial-file name and command head of runner, the written-file
check of probe, the MP4 rung choice over planned or assembled renditions, the storyboard choice."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.av import fmp4, runner
from media_core.engines.av.binaries import FfmpegBinaries
from media_core.engines.av.ladder import Rendition, mp4_rendition
from media_core.engines.av.layout import WORK_DIR, Layout
from media_core.engines.av.probe import produced
from media_core.engines.av.segments import DEFAULT_GOP_S
from media_core.engines.av.storyboard import choose_interval
from media_core.processing.streaming import keyframes_only

from tests.support.av_media import AvMedia


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


# ---------------------------------------------------------------------------------- fmp4 boxes


def test_boxes_of_bytes_and_of_a_file_are_the_same() -> None:
    large = struct.pack(">I4sQ", 1, b"mdat", 16 + 3) + b"abc"  # 64-bit size
    data = _box(b"ftyp", b"isom") + large + struct.pack(">I4s", 0, b"free") + b"to the end"
    from_bytes = list(fmp4.iter_boxes(data))
    from_file = list(fmp4.iter_file_boxes(io.BytesIO(data)))
    assert from_bytes == from_file
    assert [(b.kind, b.offset, b.size, b.header) for b in from_bytes] == [
        (b"ftyp", 0, 12, 8),
        (b"mdat", 12, 19, 16),
        (b"free", 31, 18, 8),  # size 0: to the end of the container
    ]


def test_a_box_within_a_range_ends_there() -> None:
    inner = _box(b"mvhd", b"12") + struct.pack(">I4s", 0, b"trak") + b"xy"
    data = _box(b"moov", inner) + _box(b"free", b"")
    moov = next(fmp4.iter_boxes(data))
    boxes = list(fmp4.iter_boxes(data, moov.offset + moov.header, moov.end))
    assert [(b.kind, b.end) for b in boxes] == [(b"mvhd", 18), (b"trak", moov.end)]


@pytest.mark.parametrize(
    "data",
    [
        struct.pack(">I4s", 4, b"tiny"),  # smaller than its own header
        struct.pack(">I4s", 99, b"long") + b"short",  # beyond the end
        struct.pack(">I4sQ", 1, b"huge", 8),  # 64-bit size smaller than the 16-byte header
    ],
)
def test_a_bad_box_size_is_a_packaging_error(data: bytes) -> None:
    with pytest.raises(fmp4.PackagingError, match="bad box"):
        list(fmp4.iter_boxes(data))
    with pytest.raises(fmp4.PackagingError, match="bad box"):
        list(fmp4.iter_file_boxes(io.BytesIO(data)))


# ---------------------------------------------------------------------------------- scratch


def test_scratch_is_removed_with_the_work_dir(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    with layout.scratch("audio") as scratch:
        assert scratch == tmp_path / WORK_DIR / "audio" and scratch.is_dir()
        (scratch / "partial.mp4").write_bytes(b"x")
    assert not layout.work.exists()
    assert list(tmp_path.iterdir()) == []


def test_scratch_is_removed_on_failure_and_work_stays_while_another_step_uses_it(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    with layout.scratch("task_00000") as outer:
        (outer / "360p.mp4").write_bytes(b"x")
        with pytest.raises(RuntimeError, match="boom"), layout.scratch("mp4") as inner:
            (inner / "video.mp4.partial").write_bytes(b"y")
            raise RuntimeError("boom")
        assert not inner.exists()
        assert sorted(p.name for p in layout.work.iterdir()) == ["task_00000"]
    assert not layout.work.exists()


# ---------------------------------------------------------------------------------- runner


def test_partial_path_is_hidden_beside_the_output(tmp_path: Path) -> None:
    assert runner.partial_path(tmp_path / "out.mp4") == tmp_path / ".out.mp4.partial"


def test_every_command_starts_with_the_same_head(ffmpeg_bins: FfmpegBinaries) -> None:
    head = runner.ffmpeg_head()
    assert head == [str(ffmpeg_bins.ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-y"]

    class Node:
        def compile(self, cmd: str) -> list[str]:
            return [cmd, "-i", "in.wav", "out.mp3"]

    assert runner.compile_ffmpeg(Node()) == [*head, "-i", "in.wav", "out.mp3"]


# ---------------------------------------------------------------------------------- probe.produced


def test_produced_returns_the_probe_of_a_file_with_the_stream(av_media: AvMedia) -> None:
    info = produced("mov", "video")(av_media.landscape_mp4())
    assert info.video is not None
    assert produced("mp3", "audio")(av_media.mp3()).audio is not None


def test_produced_rejects_a_file_without_the_stream(av_media: AvMedia) -> None:
    with pytest.raises(MediaRejected, match=r"^transcoding produced no video$"):
        produced("mov", "video")(av_media.m4a())
    with pytest.raises(MediaRejected, match=r"^transcoding produced no audio$"):
        produced("mov", "audio")(av_media.no_audio_mp4())


# ---------------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class Sized:
    name: str
    width: int
    height: int


def test_mp4_rendition_takes_planned_renditions_or_assembled_variants_alike() -> None:
    sizes = [("2160p", 3840, 2160), ("1080p", 1080, 1920), ("720p", 1280, 720)]
    planned = tuple(Rendition(n, w, h, 1, 1) for n, w, h in sizes)
    assembled = [Sized(n, w, h) for n, w, h in sizes]
    assert mp4_rendition(planned).name == mp4_rendition(assembled).name == "1080p"  # portrait: short side
    # nothing at or below 1080p: the smallest
    assert mp4_rendition([Sized("1440p", 2560, 1440), Sized("2160p", 3840, 2160)]).name == "1440p"


def test_short_clips_decode_every_frame_long_ones_only_keyframes() -> None:
    assert choose_interval(1.0) < DEFAULT_GOP_S and keyframes_only(1.0) is False
    assert choose_interval(7200.0) >= DEFAULT_GOP_S and keyframes_only(7200.0) is True
