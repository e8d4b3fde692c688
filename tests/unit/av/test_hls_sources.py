"""HLS outputs for awkward sources: portrait (rotation), no audio, smaller than the ladder, a source
between rungs, an NTSC frame rate; and the storyboard."""

from __future__ import annotations

import itertools
from pathlib import Path

import m3u8
import pytest
from media_core.engines.av.binaries import find_binaries
from media_core.engines.av.hls import package_hls
from media_core.engines.av.ladder import DEFAULT_LADDER, parse_ladder
from media_core.engines.av.probe import probe
from media_core.engines.av.storyboard import make_storyboard
from PIL import Image

from tests.support.av_media import AvMedia, ffmpeg
from tests.support.hls_media import AAC, X264, HlsMedia, concat, count_video_frames, decode_errors, ffprobe


@pytest.fixture(scope="session")
def hls_media(tmp_path_factory: pytest.TempPathFactory) -> HlsMedia:
    find_binaries()
    return HlsMedia(tmp_path_factory.getbasetemp() / "hls_media")


def _variants(root: Path) -> list[tuple[str, tuple[int, int]]]:
    master = m3u8.load(str(root / "hls" / "master.m3u8"))
    return [(p.uri, p.stream_info.resolution) for p in master.playlists]


def _first_frame_size(root: Path, rung: str) -> tuple[int, int]:
    seg = root / "hls" / rung / "seg_00000.m4s"
    probe_file = concat(root / f"{rung}_probe.mp4", root / "hls" / rung / "init.mp4", seg)
    stream = ffprobe(probe_file, "-show_streams")["streams"][0]
    return int(stream["width"]), int(stream["height"])


def test_portrait_stays_portrait_and_upright(hls_media: HlsMedia, tmp_path: Path) -> None:
    src = hls_media.portrait()
    info = probe(str(src))
    assert info.video is not None and (info.video.width, info.video.height) == (360, 640)
    out = package_hls(
        str(src), info, tmp_path, parse_ladder("360,240"), segment_s=2.0, gop_s=1.0, segments_per_task=1
    )
    assert _variants(tmp_path) == [("360p.m3u8", (360, 640)), ("240p.m3u8", (240, 426))]
    # The pixels are upright (no display matrix left to apply): coded size is portrait.
    assert _first_frame_size(tmp_path, "360p") == (360, 640)
    mp4 = ffprobe(tmp_path / "video.mp4", "-show_streams")["streams"][0]
    assert (mp4["width"], mp4["height"]) == (360, 640)
    assert out.frames == count_video_frames(src)


def test_no_audio_in_means_no_audio_rendition(hls_media: HlsMedia, tmp_path: Path) -> None:
    src = hls_media.no_audio()
    out = package_hls(str(src), probe(str(src)), tmp_path, parse_ladder("270,180"), segment_s=2.0, gop_s=1.0)
    master = m3u8.load(str(tmp_path / "hls" / "master.m3u8"))
    assert len(master.media) == 0
    assert all(p.stream_info.audio is None and "mp4a" not in p.stream_info.codecs for p in master.playlists)
    assert not (tmp_path / "hls" / "audio").exists() and not (tmp_path / "hls" / "audio.m3u8").exists()
    assert out.audio_playlist is None
    streams = ffprobe(tmp_path / "video.mp4", "-show_streams")["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]
    assert decode_errors(tmp_path / "hls" / "master.m3u8") == ""


def test_never_upscale_a_small_source(hls_media: HlsMedia, tmp_path: Path) -> None:
    src = hls_media.small()  # 320x240, below every default rung
    package_hls(str(src), probe(str(src)), tmp_path, DEFAULT_LADDER, segment_s=2.0, gop_s=1.0)
    assert _variants(tmp_path) == [("240p.m3u8", (320, 240))]
    assert _first_frame_size(tmp_path, "240p") == (320, 240)


def test_a_source_between_rungs_is_the_top_rung_at_its_size(hls_media: HlsMedia, tmp_path: Path) -> None:
    src = hls_media.small()  # 240 lies between 360 and 180
    package_hls(
        str(src),
        probe(str(src)),
        tmp_path,
        parse_ladder("360,180"),
        segment_s=2.0,
        gop_s=1.0,
        segments_per_task=1,
    )
    assert _variants(tmp_path) == [("240p.m3u8", (320, 240)), ("180p.m3u8", (240, 180))]


def test_ntsc_frame_rate_stitches_frame_exact(hls_media: HlsMedia, tmp_path: Path) -> None:
    src = hls_media.ntsc()  # 30000/1001 fps: segment starts are not whole milliseconds
    info = probe(str(src))
    out = package_hls(
        str(src), info, tmp_path, parse_ladder("180"), segment_s=2.0, gop_s=1.0, segments_per_task=1
    )
    master = m3u8.load(str(tmp_path / "hls" / "master.m3u8"))
    assert master.playlists[0].stream_info.frame_rate == pytest.approx(29.97)
    media = m3u8.load(str(tmp_path / "hls" / "180p.m3u8"))
    assert float(media.segments[0].duration) == pytest.approx(60 * 1001 / 30000, abs=1e-6)
    assert out.frames == count_video_frames(src)
    assert decode_errors(tmp_path / "hls" / "master.m3u8") == ""


def test_variable_frame_rate_source_is_made_constant_and_stays_in_sync(
    av_media: AvMedia, tmp_path: Path
) -> None:
    src = av_media.vfr_mp4()  # 30 fps for 10 frames, then 10 fps; 3 s
    info = probe(str(src))
    out = package_hls(
        str(src), info, tmp_path, parse_ladder("240"), segment_s=2.0, gop_s=1.0, segments_per_task=1
    )
    fps = m3u8.load(str(tmp_path / "hls" / "master.m3u8")).playlists[0].stream_info.frame_rate
    assert out.frames == pytest.approx(info.duration_s * fps, abs=1)
    v, a = ffprobe(tmp_path / "video.mp4", "-show_streams")["streams"]
    assert float(a["duration"]) == pytest.approx(float(v["duration"]), abs=1 / fps)
    assert decode_errors(tmp_path / "hls" / "master.m3u8") == ""


def test_storyboard_sprite_matches_the_cues_which_cover_the_duration(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    src = hls_media.landscape()  # 7 s 640x360
    info = probe(str(src))
    board = make_storyboard(str(src), info.duration_s, 640, 360, tmp_path)
    with Image.open(board.sprite) as img:
        assert img.format == "JPEG"
        sheet = img.convert("L")
        width, height = img.size
    cues = _parse_vtt(board.vtt.read_text())
    assert len(cues) == board.plan.tiles == 7 and board.plan.interval_s == 1.0
    assert cues[0][0] == 0.0 and cues[-1][1] == pytest.approx(info.duration_s, abs=0.001)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(cues))  # back to back
    for _start, _end, (x, y, w, h) in cues:
        assert (w, h) == (160, 90) and x + w <= width and y + h <= height
        tile = sheet.crop((x, y, x + w, y + h))
        assert max(tile.getextrema()) > 60  # a real frame, not padding
    assert (width, height) == (max(c[2][0] + c[2][2] for c in cues), max(c[2][1] + c[2][3] for c in cues))


def test_storyboard_from_keyframes_of_the_mp4(hls_media: HlsMedia, tmp_path: Path) -> None:
    src = hls_media.landscape()
    out = package_hls(str(src), probe(str(src)), tmp_path, parse_ladder("240"), segment_s=2.0, gop_s=1.0)
    assert out.mp4 is not None
    board = make_storyboard(
        str(out.mp4), out.duration_s, 426, 240, tmp_path, keyframes_only=True, max_tiles=4
    )
    with Image.open(board.sprite) as img:
        assert img.size == board.plan.sheet_size == (4 * 160, 90)
    assert len(_parse_vtt(board.vtt.read_text())) == 4


def _ts(text: str) -> float:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _parse_vtt(text: str) -> list[tuple[float, float, tuple[int, int, int, int]]]:
    assert text.startswith("WEBVTT")
    cues = []
    blocks = [b for b in text.split("\n\n")[1:] if b.strip()]
    for block in blocks:
        timing, target = block.strip().splitlines()
        start, end = (_ts(t.strip()) for t in timing.split("-->"))
        uri, frag = target.split("#xywh=")
        assert uri == "sprite.jpg"
        x, y, w, h = (int(v) for v in frag.split(","))
        cues.append((start, end, (x, y, w, h)))
    return cues


@pytest.mark.parametrize("container", ["mp4", "matroska"])
def test_audio_running_past_the_picture_plans_segments_for_the_picture_only(
    container: str, tmp_path: Path
) -> None:
    # Given 6 s of picture and 9 s of sound: the container lasts 9 s, the video stream says 6 s
    # (MP4's stream duration; Matroska's DURATION tag)
    src = tmp_path / f"tail.{container}"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=256x144:rate=25:duration=6",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=9",
        *X264, *AAC, "-f", container, str(src),
    )  # fmt: skip
    info = probe(str(src))
    assert info.duration_s > 8.9 and info.video is not None and info.video.duration_s == pytest.approx(6.0)
    # When the one-task path packages it (2 s segments: 3 of picture, not 5 of container)
    out = package_hls(str(src), info, tmp_path / "out", parse_ladder("144"), segment_s=2.0, gop_s=1.0)
    # Then every frame is there once, in the planned segments, and the sound is whole
    playlist = m3u8.load(str(tmp_path / "out" / "hls" / "144p.m3u8"))
    assert len(playlist.segments) == 3
    assert out.frames == count_video_frames(src) == 150
    assert count_video_frames(tmp_path / "out" / "video.mp4") == 150
    audio = m3u8.load(str(tmp_path / "out" / "hls" / "audio.m3u8"))
    assert sum(s.duration for s in audio.segments) == pytest.approx(9.0, abs=0.1)
    assert decode_errors(tmp_path / "out" / "hls" / "master.m3u8") == ""
