"""The MP4 rendition and the video pipeline: codecs, geometry, rotation, audio, faststart, cleanup."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.av import probe as probe_module
from media_core.engines.av.av_job import process_video
from media_core.engines.av.limits import TranscodeOptions, VideoLimits
from media_core.engines.av.probe import MediaInfo, probe, run_ffprobe
from media_core.engines.av.transcode import plan_transcode, transcode_video
from PIL import Image

from tests.support.av_media import AvMedia, mp4_top_level_boxes
from tests.support.range_server import RangeServer

ENCODE = TranscodeOptions(preset="ultrafast", allow_stream_copy=False)


def assert_web_mp4(path: Path, *, width: int, height: int, duration: float, audio: bool) -> MediaInfo:
    """ffprobe the rendition: H.264 High yuv420p (+ AAC), upright, faststart."""
    info = probe(str(path), ("mov",))
    assert info.video is not None
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert (info.video.width, info.video.height) == (width, height)
    assert info.duration_s == pytest.approx(duration, abs=0.1)
    assert info.has_audio is audio
    if audio:
        assert info.audio is not None and info.audio.codec == "aac"
    boxes = mp4_top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # +faststart
    return info


@pytest.mark.parametrize(
    ("make", "audio"),
    [
        ("landscape_mp4", True),
        ("hevc_mov", True),
        ("vp9_webm", True),
        ("mkv", True),
        ("avi", True),
        ("no_audio_mp4", False),
    ],
)
def test_every_container_becomes_a_web_mp4(av_media: AvMedia, workdir: Path, make: str, audio: bool) -> None:
    # Given a 2 s 320x240 clip in some container/codec
    result = process_video(str(getattr(av_media, make)()), workdir, settings=ENCODE)
    # Then the rendition is H.264/AAC MP4 of the same size and duration, with faststart
    out = result.outputs[0]
    assert result.transcode_mode == "encode"
    assert (out.name, out.content_type) == ("video.mp4", "video/mp4")
    assert out.path == workdir / "video.mp4" and out.size_bytes == out.path.stat().st_size
    info = assert_web_mp4(out.path, width=320, height=240, duration=2.0, audio=audio)
    assert info.video is not None and info.video.profile in {"Constrained Baseline", "Main", "High"}
    # and no audio stream appears when the input had none
    streams = run_ffprobe(str(out.path), ("mov",))["streams"]
    assert [s["codec_type"] for s in streams] == (["video", "audio"] if audio else ["video"])


def test_portrait_stays_portrait_and_is_rotated_into_the_pixels(av_media: AvMedia, workdir: Path) -> None:
    # Given a phone-style clip: coded 320x240, displayed 240x320
    result = process_video(str(av_media.portrait_mp4()), workdir, settings=ENCODE)
    # Then the rendition is 240x320 pixels with no rotation left to apply
    info = assert_web_mp4(result.outputs[0].path, width=240, height=320, duration=2.0, audio=True)
    assert info.video is not None and info.video.rotation == 0
    assert (info.video.coded_width, info.video.coded_height) == (240, 320)
    # and the poster is portrait too
    assert (result.poster.width, result.poster.height) == (240, 320)
    assert Image.open(io.BytesIO(result.poster_jpeg)).size == (240, 320)


def test_fits_within_the_box_in_its_own_orientation(av_media: AvMedia, workdir: Path) -> None:
    # Given a box of 160x120 (landscape) and a portrait 240x320 source
    settings = TranscodeOptions(preset="ultrafast", max_long=160, max_short=120)
    result = process_video(str(av_media.portrait_mp4()), workdir, settings=settings)
    # Then it fits 120x160 (portrait), even if the source could have been stream-copied
    assert result.transcode_mode == "encode"
    assert_web_mp4(result.outputs[0].path, width=120, height=160, duration=2.0, audio=True)


def test_never_upscales_and_makes_dimensions_even(av_media: AvMedia, workdir: Path) -> None:
    # Given a 321x241 4:4:4 source (odd dimensions) and the default 1920x1080 box
    settings = TranscodeOptions(preset="ultrafast")
    result = process_video(str(av_media.odd_size_mp4()), workdir, settings=settings)
    # Then it is encoded at 320x240 (not enlarged), yuv420p
    assert result.transcode_mode == "encode"
    assert_web_mp4(result.outputs[0].path, width=320, height=240, duration=1.0, audio=False)


def test_variable_frame_rate_keeps_timestamps(av_media: AvMedia, workdir: Path) -> None:
    # Given a VFR clip (30 fps for 10 frames, then 10 fps) of ~2.93 s
    source = probe(str(av_media.vfr_mp4()))
    result = process_video(str(av_media.vfr_mp4()), workdir, settings=ENCODE)
    # Then the duration is kept and frames were not padded up to a constant 30 fps
    out = result.outputs[0].path
    info = assert_web_mp4(out, width=320, height=240, duration=source.duration_s, audio=True)
    frames = run_ffprobe(str(result.outputs[0].path), ("mov",))["streams"][0]["nb_frames"]
    assert int(frames) < 40  # 10 + ~28: cfr at 30 fps would be ~88
    assert info.video is not None and info.video.variable_frame_rate


def test_compliant_mp4_is_stream_copied_with_faststart(av_media: AvMedia, workdir: Path) -> None:
    # Given an H.264/AAC MP4 within limits whose moov atom is at the end
    source = av_media.landscape_mp4()
    assert mp4_top_level_boxes(source).index("moov") > mp4_top_level_boxes(source).index("mdat")
    # When processing it with stream copy allowed
    result = process_video(str(source), workdir)
    # Then it is remuxed, not re-encoded (same profile), and now has faststart
    assert result.transcode_mode == "copy"
    assert result.metadata["transcode"]["mode"] == "copy"
    info = assert_web_mp4(result.outputs[0].path, width=320, height=240, duration=2.0, audio=True)
    assert info.video is not None and info.video.profile == "Constrained Baseline"


def test_stream_copy_keeps_portrait_display(av_media: AvMedia, workdir: Path) -> None:
    result = process_video(str(av_media.portrait_mp4()), workdir)
    assert result.transcode_mode == "copy"
    info = assert_web_mp4(result.outputs[0].path, width=240, height=320, duration=2.0, audio=True)
    assert info.video is not None and info.video.rotation == 90  # the display matrix travels along


def test_copy_is_refused_for_other_codecs_with_a_reason(av_media: AvMedia) -> None:
    plan = plan_transcode(probe(str(av_media.vp9_webm())), TranscodeOptions())
    assert plan.mode == "encode"
    assert "container matroska" in plan.reason and "video vp9" in plan.reason and "audio opus" in plan.reason


def test_metadata_is_json_safe_and_complete(av_media: AvMedia, workdir: Path) -> None:
    result = process_video(str(av_media.landscape_mp4()), workdir, settings=ENCODE, remaining_time_s=900)
    meta = json.loads(json.dumps(result.metadata))
    assert meta["duration"] == "0:02" and meta["width"] == 320 and meta["height"] == 240
    assert meta["video"]["codec"] == "h264" and meta["audio"]["codec"] == "aac"
    assert meta["transcode"]["mode"] == "encode" and meta["transcode"]["preset"] == "ultrafast"
    assert meta["outputs"][0]["content_type"] == "video/mp4"
    assert result.poster_jpeg[:3] == b"\xff\xd8\xff"


def test_process_video_reads_from_a_url(av_media: AvMedia, range_server: RangeServer, workdir: Path) -> None:
    av_media.hevc_mov()
    result = process_video(range_server.url("hevc.mov"), workdir, settings=ENCODE)
    assert_web_mp4(result.outputs[0].path, width=320, height=240, duration=2.0, audio=True)


def test_rejected_video_leaves_nothing_behind(av_media: AvMedia, workdir: Path) -> None:
    # Given an audio-only file sent to the video pipeline
    with pytest.raises(MediaRejected, match=r"^no video stream found$"):
        process_video(str(av_media.m4a()), workdir)
    # and a video above the duration limit
    with pytest.raises(MediaRejected, match="exceeds the 0:01 limit"):
        process_video(str(av_media.landscape_mp4()), workdir, limits=VideoLimits(max_duration_s=1))
    assert list(workdir.iterdir()) == []


def test_failed_transcode_removes_partial_output(
    av_media: AvMedia,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given ffmpeg has written the rendition but verifying it fails
    def broken_probe(*_args: object, **_kwargs: object) -> MediaInfo:
        raise MediaRejected("verification failed")

    # (the check of the written file, probe.produced, probes through the probe module)
    monkeypatch.setattr(probe_module, "probe", broken_probe)
    # When processing Then the error propagates and the workdir is empty again
    with pytest.raises(MediaRejected, match="verification failed"):
        process_video(str(av_media.landscape_mp4()), workdir, settings=ENCODE)
    assert list(workdir.iterdir()) == []


def test_transcode_video_writes_where_asked(av_media: AvMedia, tmp_path: Path) -> None:
    info = probe(str(av_media.mkv()))
    result = transcode_video(str(av_media.mkv()), tmp_path / "out.mp4", info, ENCODE)
    assert result.path == tmp_path / "out.mp4" and result.mode == "encode" and result.has_audio
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
