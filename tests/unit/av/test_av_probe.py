"""Probing: facts as displayed, hostile input rejected with a reason, caps, reading over HTTP."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.av import runner
from media_core.engines.av.limits import VideoLimits, check_video
from media_core.engines.av.poster import extract_poster, fit_within, poster_time
from media_core.engines.av.probe import format_duration, probe
from media_core.engines.av.runner import SourceUnavailableError

from tests.support.av_media import AvMedia, ffmpeg
from tests.support.range_server import RangeServer

VIDEO_CASES = [
    # generator, container, video codec, audio codec
    ("landscape_mp4", "mov", "h264", "aac"),
    ("hevc_mov", "mov", "hevc", "aac"),
    ("vp9_webm", "matroska", "vp9", "opus"),
    ("mkv", "matroska", "h264", "aac"),
    ("avi", "avi", "mpeg4", "mp3"),
    ("no_audio_mp4", "mov", "h264", None),
]


@pytest.mark.parametrize(("make", "container", "vcodec", "acodec"), VIDEO_CASES)
def test_probe_reports_container_codecs_size_and_duration(
    av_media: AvMedia,
    make: str,
    container: str,
    vcodec: str,
    acodec: str | None,
) -> None:
    # Given a 2 s 320x240 clip in some container
    path = getattr(av_media, make)()
    # When probing it
    info = probe(str(path))
    # Then the facts match what was generated
    assert info.container == container
    assert info.video is not None and info.video.codec == vcodec
    assert (info.video.width, info.video.height) == (320, 240)
    assert info.video.rotation == 0
    assert info.video.fps == pytest.approx(25, abs=1)
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    assert info.has_audio is (acodec is not None)
    if acodec:
        assert info.audio is not None and info.audio.codec == acodec
        assert info.audio.sample_rate == 48_000 and info.audio.channels == 1
    # and the metadata is JSON-safe with a formatted duration
    meta = json.loads(json.dumps(info.to_metadata()))
    assert meta["duration"] == "0:02" and meta["width"] == 320 and meta["height"] == 240


def test_portrait_phone_video_is_portrait(av_media: AvMedia) -> None:
    # Given a clip coded 320x240 with a 90-degree display rotation, like a phone shot upright
    info = probe(str(av_media.portrait_mp4()))
    # Then width/height are as displayed, the rotation is reported, the coded size kept apart
    assert info.video is not None
    assert (info.video.width, info.video.height) == (240, 320)
    assert info.video.rotation == 90
    assert (info.video.coded_width, info.video.coded_height) == (320, 240)


def test_variable_frame_rate_is_detected(av_media: AvMedia) -> None:
    info = probe(str(av_media.vfr_mp4()))
    assert info.video is not None and info.video.variable_frame_rate
    assert info.video.fps is not None and info.video.fps < 25


def test_tags_are_limited_to_public_ones(av_media: AvMedia) -> None:
    # Given an mp3 with title/artist/album (and encoder tags written by ffmpeg)
    info = probe(str(av_media.mp3()), runner.AUDIO_DEMUXERS)
    # Then only the public tags are kept
    assert info.tags == {"title": "Test Tone", "artist": "The Fixtures", "album": "Unit Tests"}


@pytest.mark.parametrize(
    ("make", "kind", "reason"),
    [
        ("zero_bytes_mp4", "video", "empty file"),
        ("truncated_mp4", "video", "truncated or corrupt: moov atom not found"),
        ("jpeg_named_mp4", "video", "not a media file: looks like an image (jpeg)"),
        ("text_named_mp3", "audio", "not a media file"),
        ("hls_playlist_named_mp4", "video", "truncated or corrupt: moov atom not found"),
        (
            "mp3",
            "video",
            "unsupported format: mp3 (accepted: mov, matroska, avi, mpegts, mpeg, flv, asf, ogg)",
        ),
    ],
)
def test_hostile_files_are_rejected_with_a_reason(
    av_media: AvMedia,
    make: str,
    kind: str,
    reason: str,
) -> None:
    # Given a file that is not the media its name claims
    path = getattr(av_media, make)()
    demuxers = runner.VIDEO_DEMUXERS if kind == "video" else runner.AUDIO_DEMUXERS
    # When probing it as that kind, Then it is rejected with the specific reason
    with pytest.raises(MediaRejected) as excinfo:
        probe(str(path), demuxers)
    assert excinfo.value.message == reason


def test_audio_only_file_is_not_a_video(av_media: AvMedia) -> None:
    # Given an m4a (the mov demuxer accepts it) When validating it as a video Then no video stream
    info = probe(str(av_media.m4a()))
    with pytest.raises(MediaRejected, match=r"^no video stream found$"):
        check_video(info, VideoLimits())


def test_cover_art_is_not_a_video_stream(av_media: AvMedia) -> None:
    info = probe(str(av_media.mp3_with_cover()), runner.AUDIO_DEMUXERS)
    assert info.video is None and info.cover_art_index is not None


def test_resolution_cap_is_orientation_free(av_media: AvMedia) -> None:
    # Given a 320x240 clip and a 160x120 cap
    info = probe(str(av_media.landscape_mp4()))
    with pytest.raises(MediaRejected, match=r"^resolution 320x240 exceeds the 160x120 limit$"):
        check_video(info, VideoLimits(max_width=160, max_height=120))
    # and a portrait 240x320 clip passes a landscape 320x240 cap
    check_video(probe(str(av_media.portrait_mp4())), VideoLimits(max_width=320, max_height=240))


def test_duration_cap(av_media: AvMedia) -> None:
    info = probe(str(av_media.landscape_mp4()))
    with pytest.raises(MediaRejected, match=r"^duration 0:02 exceeds the 0:01 limit$"):
        check_video(info, VideoLimits(max_duration_s=1))


def test_format_duration() -> None:
    assert format_duration(0.4) == "0:00"
    assert format_duration(61) == "1:01"
    assert format_duration(720) == "12:00"
    assert format_duration(3 * 3600 + 5) == "3:00:05"


def test_fit_within_never_upscales_and_keeps_orientation() -> None:
    assert fit_within(3840, 2160, 1920, 1080) == (1920, 1080)
    assert fit_within(2160, 3840, 1920, 1080) == (1080, 1920)
    assert fit_within(320, 240, 1920, 1080) == (320, 240)
    assert fit_within(321, 241, 1920, 1080) == (320, 240)
    assert fit_within(4000, 1000, 1920, 1080) == (1920, 480)


def test_poster_time() -> None:
    assert poster_time(10) == 1.0
    assert poster_time(1.5) == pytest.approx(0.75)


@pytest.fixture(scope="module")
def short_picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """0.5 s of picture in a 3 s file (the sound runs on): no frame at the usual 1 s poster time."""
    path = tmp_path_factory.mktemp("short_picture") / "short.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=0.5",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    )  # fmt: skip
    return path


def test_the_poster_of_a_picture_shorter_than_its_file_is_taken_within_the_picture(
    short_picture: Path,
) -> None:
    info = probe(str(short_picture))
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert info.video is not None and info.video.duration_s == pytest.approx(0.52, abs=0.05)
    poster = extract_poster(str(short_picture), info)
    assert poster.jpeg[:3] == b"\xff\xd8\xff" and (poster.width, poster.height) == (160, 120)
    assert poster.at_s == pytest.approx(info.video.duration_s / 2)


def test_with_no_frame_at_the_poster_time_the_first_frame_is_the_poster(short_picture: Path) -> None:
    # Given the picture's own length unknown (as files from some muxers leave it): 1 s is tried
    # first, where ffmpeg 8 finds no frame and exits 234
    info = probe(str(short_picture))
    assert info.video is not None
    unknown = replace(info, video=replace(info.video, duration_s=None))
    poster = extract_poster(str(short_picture), unknown)
    assert poster.jpeg[:3] == b"\xff\xd8\xff" and poster.at_s == 0.0


def test_https_inputs_verify_tls_and_local_inputs_are_file_only() -> None:
    opts = runner.input_options("https://bucket.s3.amazonaws.com/k?X-Amz-Signature=x", runner.VIDEO_DEMUXERS)
    # Given an S3 presigned https URL, Then TLS is verified against a CA bundle that exists
    assert opts["tls_verify"] == 1
    assert Path(str(opts["ca_file"])).is_file()
    assert opts["protocol_whitelist"] == "https,tls,tcp"
    # and a fixed receive window: what a seek reads through does not grow with the machine's load
    assert opts["recv_buffer_size"] == runner.URL_RECV_BUFFER_BYTES == 128 * 1024
    assert runner.input_options("/tmp/x.mp4", runner.VIDEO_DEMUXERS)["protocol_whitelist"] == "file"
    assert "format_whitelist" in opts


def test_other_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="scheme"):
        probe("concat:/etc/passwd|/etc/hosts")


def test_missing_url_is_retryable_not_rejected(range_server: RangeServer) -> None:
    # Given a URL that answers 404 When probing Then the error says "retry", not "bad file"
    with pytest.raises(SourceUnavailableError):
        probe(range_server.url("does-not-exist.mp4"))


@pytest.mark.parametrize("faststart", [False, True])
def test_probe_and_poster_over_http_read_a_small_fraction(
    av_media: AvMedia,
    range_server: RangeServer,
    faststart: bool,
) -> None:
    # Given a ~50 MB, 30 s MP4 (moov at the end, or at the front) served with byte ranges
    name = "big_fs.mp4" if faststart else "big.mp4"
    size = av_media.big_mp4(name, faststart=faststart).stat().st_size
    url = range_server.url(name)
    range_server.reset()
    # When probing it through the URL
    info = probe(url)
    probe_bytes = range_server.bytes_sent(name)
    # Then the facts are right and only a sliver was read
    assert info.duration_s == pytest.approx(30, abs=0.5)
    assert probe_bytes < 0.03 * size
    # When extracting the poster through the URL (input seeking to 1 s)
    range_server.reset()
    poster = extract_poster(url, info)
    # Then it is a JPEG of the displayed size, and still a small fraction was read
    assert poster.jpeg[:3] == b"\xff\xd8\xff" and (poster.width, poster.height) == (320, 240)
    assert poster.at_s == 1.0
    assert range_server.bytes_sent(name) < 0.12 * size
    assert all(rng is not None for _, rng in range_server.requests)  # every read was a range read
