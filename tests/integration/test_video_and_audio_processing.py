"""The video/audio processor against the local stack (moto, provisioned from template.yaml): real
uploads through the API and presigned POSTs, real S3 events on AvQueue delivered to AvFunction as
SQS batches, and the renditions downloaded and checked with the project's ffprobe.

The module's stack caps video at 640x640 and 5 s (template parameters), so the normal test media
(320x240, 2-3 s) stay under the caps while the over-cap clips (800x600, 6 s) stay tiny."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from media_core.engines.av import runner
from media_core.engines.av.probe import MediaInfo, probe, run_ffprobe
from PIL import Image

from local_stack.stack import LocalStack
from tests.support.av_media import X264, AvMedia, ffmpeg, mp4_top_level_boxes
from tests.support.flow import deliver, download, media_objects, queued_messages, record, upload
from tests.support.local_stack import running_stack

MAX_WIDTH, MAX_HEIGHT, MAX_SECONDS = 640, 640, 5
POSTER_PRESETS = {"poster_thumbnail", "poster_small", "poster_medium", "poster_large"}
STORYBOARD = {"storyboard", "storyboard_sprite"}
COVER_PRESETS = {"cover_thumbnail", "cover_small", "cover_medium", "cover_large"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Pollers off: each test decides what goes into a batch. Low caps keep over-cap media tiny.
    params = {
        "VideoMaxWidth": str(MAX_WIDTH),
        "VideoMaxHeight": str(MAX_HEIGHT),
        "MaxVideoDurationSeconds": str(MAX_SECONDS),
        "VideoPreset": "ultrafast",
    }
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False, params=params) as running:
        yield running


@pytest.fixture(scope="module")
def av_media(tmp_path_factory: pytest.TempPathFactory) -> AvMedia:
    return AvMedia(tmp_path_factory.mktemp("av-media"))


def process_batch(stack: LocalStack, count: int) -> dict[str, Any]:
    result = deliver(stack, "AvQueue", "AvFunction", queued_messages(stack, "AvQueue", count))
    assert isinstance(result, dict)
    return result


def upload_file(stack: LocalStack, path: Path, filename: str, content_type: str, user: str = "alice") -> str:
    return upload(stack, user, filename, content_type, path.read_bytes())


def fetch(url: str, directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(download(url))
    return path


# -- over-cap clips (generated here: the shared generators stay within the caps) -------------------
def over_resolution_mp4(directory: Path) -> Path:
    path = directory / "wide.mp4"
    if not path.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=800x600:rate=10:duration=1", *X264, "-f", "mp4", str(path))
    return path


def over_duration_mp4(directory: Path) -> Path:
    path = directory / "long.mp4"
    if not path.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=6", *X264, "-f", "mp4", str(path))
    return path


# -- videos -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VideoCase:
    make: str  # AvMedia method
    filename: str
    content_type: str
    size: tuple[int, int]  # as displayed
    audio: bool
    mode: str  # metadata.transcode.mode: "remux" (compliant H.264/AAC MP4) or "single" (HLS ladder + MP4)

    @property
    def variants(self) -> set[str]:
        return {"mp4", "poster"} | POSTER_PRESETS | STORYBOARD | ({"hls"} if self.mode == "single" else set())


VIDEO_CASES = {
    "landscape": VideoCase("landscape_mp4", "clip.MP4", "video/mp4", (320, 240), True, "remux"),
    "portrait": VideoCase("portrait_mp4", "phone.mp4", "video/mp4", (240, 320), True, "remux"),
    "hevc": VideoCase("hevc_mov", "iphone.MOV", "video/quicktime", (320, 240), True, "single"),
    "vp9": VideoCase("vp9_webm", "clip.webm", "video/webm", (320, 240), True, "single"),
    "mkv": VideoCase("mkv", "clip.mkv", "video/x-matroska", (320, 240), True, "single"),
    "avi": VideoCase("avi", "clip.avi", "video/x-msvideo", (320, 240), True, "single"),
    "silent": VideoCase("no_audio_mp4", "silent.mp4", "video/mp4", (320, 240), False, "remux"),
    "vfr": VideoCase("vfr_mp4", "vfr.mp4", "video/mp4", (320, 240), True, "remux"),
}


@dataclass(frozen=True)
class Processed:
    media_id: str
    source: MediaInfo  # the uploaded file, probed locally


@pytest.fixture(scope="module")
def videos(stack: LocalStack, av_media: AvMedia) -> dict[str, Processed]:
    # Given every kind of video upload, through the API and presigned POSTs
    uploaded: dict[str, tuple[str, MediaInfo]] = {}
    for name, case in VIDEO_CASES.items():
        path: Path = getattr(av_media, case.make)()
        uploaded[name] = (upload_file(stack, path, case.filename, case.content_type), probe(str(path)))
    # When AvFunction gets them as two SQS batches of four
    results = [process_batch(stack, 4), process_batch(stack, 4)]
    assert results == [{"batchItemFailures": []}] * 2
    return {name: Processed(media_id, info) for name, (media_id, info) in uploaded.items()}


@pytest.mark.parametrize("name", list(VIDEO_CASES))
class TestVideos:
    def test_the_mp4_rendition_is_web_ready_h264(
        self, stack: LocalStack, videos: dict[str, Processed], name: str, tmp_path: Path
    ):
        case, processed = VIDEO_CASES[name], videos[name]
        body = record(stack, processed.media_id)
        assert body["status"] == "ready", body
        # When the mp4 variant is downloaded
        variant = body["variants"]["mp4"]
        assert variant["content_type"] == "video/mp4"
        path = fetch(variant["url"], tmp_path, "rendition.mp4")
        assert path.stat().st_size == variant["bytes"]
        # Then it is H.264 yuv420p (+ AAC when the source had audio), even-sized, upright as displayed
        info = probe(str(path), ("mov",))
        assert info.video is not None
        assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
        assert (info.video.width, info.video.height) == case.size
        assert info.video.coded_width % 2 == 0 and info.video.coded_height % 2 == 0
        assert (variant["width"], variant["height"]) == case.size
        if case.audio:
            assert info.audio is not None and info.audio.codec == "aac"
        else:
            assert info.audio is None
            streams = run_ffprobe(str(path), ("mov",))["streams"]
            assert [s["codec_type"] for s in streams] == ["video"]
        # And it lasts as long as the source, and starts playing before it is fully downloaded
        assert info.duration_s == pytest.approx(processed.source.duration_s, abs=0.1)
        assert variant["duration"] == pytest.approx(processed.source.duration_s, abs=0.1)
        boxes = mp4_top_level_boxes(path)
        assert boxes.index("moov") < boxes.index("mdat"), boxes

    def test_the_poster_is_a_jpeg_in_the_displayed_orientation(
        self, stack: LocalStack, videos: dict[str, Processed], name: str
    ):
        case, body = VIDEO_CASES[name], record(stack, videos[name].media_id)
        # Then the poster and every poster preset exist (with the path's streaming outputs)
        assert body["metadata"]["transcode"]["mode"] == case.mode
        assert set(body["variants"]) == case.variants
        # And the poster is a JPEG of the displayed size (portrait stays portrait)
        poster = body["variants"]["poster"]
        assert poster["content_type"] == "image/jpeg"
        with Image.open(io.BytesIO(download(poster["url"]))) as picture:
            assert picture.format == "JPEG"
            assert picture.size == case.size == (poster["width"], poster["height"])
        # And the presets keep its orientation
        for preset in POSTER_PRESETS - {"poster_thumbnail"}:
            variant = body["variants"][preset]
            assert variant["content_type"] == "image/jpeg"
            assert (variant["height"] > variant["width"]) is (case.size[1] > case.size[0]), preset

    def test_the_metadata_describes_the_source_as_displayed(
        self, stack: LocalStack, videos: dict[str, Processed], name: str
    ):
        case, processed = VIDEO_CASES[name], videos[name]
        metadata = record(stack, processed.media_id)["metadata"]
        source = processed.source
        assert source.video is not None
        assert metadata["duration_s"] == pytest.approx(source.duration_s, abs=0.001)
        assert metadata["duration"] == source.duration_text
        assert (metadata["width"], metadata["height"]) == case.size
        assert metadata["video"]["codec"] == source.video.codec
        assert metadata["has_audio"] is case.audio
        if case.audio:
            assert source.audio is not None and metadata["audio"]["codec"] == source.audio.codec
        else:
            assert "audio" not in metadata


def test_source_codecs_are_the_ones_the_cases_claim(videos: dict[str, Processed]):
    # Guards the cases themselves: each upload really is the codec/container it stands for
    codecs = {name: (p.source.video.codec if p.source.video else None) for name, p in videos.items()}
    assert codecs == {
        "landscape": "h264",
        "portrait": "h264",
        "hevc": "hevc",
        "vp9": "vp9",
        "mkv": "h264",
        "avi": "mpeg4",
        "silent": "h264",
        "vfr": "h264",
    }
    portrait = videos["portrait"].source.video
    assert portrait is not None and portrait.rotation == 90
    vfr = videos["vfr"].source.video
    assert vfr is not None and vfr.variable_frame_rate


# -- audio ------------------------------------------------------------------------------------------
AUDIO_CASES = {
    "mp3": ("mp3", "song.mp3", "audio/mpeg"),
    "wav": ("wav", "take.WAV", "audio/wav"),
    "ogg": ("ogg", "voice.ogg", "audio/ogg"),
    "aac": ("aac", "radio.aac", "audio/aac"),
    "m4a": ("m4a", "memo.m4a", "audio/mp4"),
    "flac": ("flac", "master.flac", "audio/flac"),
    "cover": ("mp3_with_cover", "album.mp3", "audio/mpeg"),
}


@pytest.fixture(scope="module")
def sounds(stack: LocalStack, av_media: AvMedia) -> dict[str, Processed]:
    # Given every kind of audio upload
    uploaded: dict[str, tuple[str, MediaInfo]] = {}
    for name, (make, filename, content_type) in AUDIO_CASES.items():
        path: Path = getattr(av_media, make)()
        uploaded[name] = (
            upload_file(stack, path, filename, content_type),
            probe(str(path), runner.AUDIO_DEMUXERS),
        )
    # When AvFunction gets them all in one SQS batch
    result = process_batch(stack, len(uploaded))
    assert result == {"batchItemFailures": []}
    return {name: Processed(media_id, info) for name, (media_id, info) in uploaded.items()}


@pytest.mark.parametrize("name", list(AUDIO_CASES))
class TestAudio:
    def test_the_mp3_rendition_is_128k_44100(
        self, stack: LocalStack, sounds: dict[str, Processed], name: str, tmp_path: Path
    ):
        processed = sounds[name]
        body = record(stack, processed.media_id)
        assert body["status"] == "ready", body
        # When the mp3 variant is downloaded
        variant = body["variants"]["mp3"]
        assert variant["content_type"] == "audio/mpeg"
        path = fetch(variant["url"], tmp_path, "rendition.mp3")
        assert path.stat().st_size == variant["bytes"]
        # Then ffprobe reads it as a 128 kbps, 44.1 kHz MP3 as long as the source
        data = run_ffprobe(str(path), ("mp3",))
        assert data["format"]["format_name"] == "mp3"
        [stream] = [s for s in data["streams"] if s["codec_type"] == "audio"]
        assert stream["codec_name"] == "mp3"
        assert int(stream["sample_rate"]) == 44100
        assert int(stream["bit_rate"]) == pytest.approx(128_000, rel=0.05)
        assert float(data["format"]["duration"]) == pytest.approx(processed.source.duration_s, abs=0.1)
        assert variant["duration"] == pytest.approx(processed.source.duration_s, abs=0.1)

    def test_the_metadata_has_the_source_facts_and_a_waveform(
        self, stack: LocalStack, sounds: dict[str, Processed], name: str
    ):
        processed = sounds[name]
        metadata = record(stack, processed.media_id)["metadata"]
        source = processed.source
        assert source.audio is not None
        assert metadata["duration_s"] == pytest.approx(source.duration_s, abs=0.001)
        assert metadata["duration"] == "0:03"
        assert metadata["audio"]["codec"] == source.audio.codec
        assert metadata["audio"]["sample_rate"] == 48000
        assert metadata["audio"]["channels"] == 2
        assert metadata["has_audio"] is True
        # And a player's waveform: 200 absolute peaks within 0..1, flat for a steady tone (a few
        # points at the edges may be lower: encoder priming and padding)
        waveform = metadata["waveform"]
        assert len(waveform) == 200
        assert all(isinstance(peak, float) and 0.0 <= peak <= 1.0 for peak in waveform)
        assert sum(0.3 <= peak <= 0.4 for peak in waveform) >= 195, waveform


def test_audio_tags_are_kept_and_cover_art_becomes_image_variants(
    stack: LocalStack, sounds: dict[str, Processed]
):
    # Then the tagged mp3 carries its title/artist/album in the metadata, the untagged wav none
    tagged = record(stack, sounds["mp3"].media_id)
    assert tagged["metadata"]["tags"] == {
        "title": "Test Tone",
        "artist": "The Fixtures",
        "album": "Unit Tests",
    }
    assert "tags" not in record(stack, sounds["wav"].media_id)["metadata"]
    # And only the mp3 with embedded cover art gets cover_* JPEG variants
    assert set(tagged["variants"]) == {"mp3"}
    covered = record(stack, sounds["cover"].media_id)
    assert set(covered["variants"]) == {"mp3"} | COVER_PRESETS
    assert covered["metadata"]["has_cover_art"] is True
    assert covered["metadata"]["cover"] == {"width": 200, "height": 200}
    with Image.open(io.BytesIO(download(covered["variants"]["cover_small"]["url"]))) as picture:
        assert picture.format == "JPEG" and picture.size == (200, 200)
    with Image.open(io.BytesIO(download(covered["variants"]["cover_thumbnail"]["url"]))) as picture:
        assert picture.size == (150, 150)


# -- hostile uploads --------------------------------------------------------------------------------
def test_hostile_files_fail_with_reasons_while_the_good_video_is_ready(
    stack: LocalStack, av_media: AvMedia, tmp_path: Path
):
    # Given a good video and hostile uploads, each declared as an allowed video/audio type
    good = upload_file(stack, av_media.landscape_mp4(), "good.mp4", "video/mp4")
    hostile = {
        upload(stack, "alice", "empty.mp4", "video/mp4", b""): "empty file (0 bytes)",
        upload_file(
            stack, av_media.truncated_mp4(), "cut.mp4", "video/mp4"
        ): "truncated or corrupt: moov atom not found",
        upload_file(
            stack, av_media.jpeg_named_mp4(), "photo.mp4", "video/mp4"
        ): "not a media file: looks like an image (jpeg)",
        upload_file(stack, av_media.text_named_mp3(), "notes.mp3", "audio/mpeg"): "not a media file",
        upload_file(
            stack, over_resolution_mp4(tmp_path), "wide.mp4", "video/mp4"
        ): "resolution 800x600 exceeds the 640x640 limit",
        upload_file(
            stack, over_duration_mp4(tmp_path), "long.mp4", "video/mp4"
        ): "duration 0:06 exceeds the 0:05 limit",
    }
    # When AvFunction gets them all in one SQS batch
    result = process_batch(stack, 1 + len(hostile))
    # Then no message is reported as failed: bad files are settled, not retried
    assert result == {"batchItemFailures": []}
    # And each hostile file is failed with its reason and left nothing in the media bucket
    for media_id, reason in hostile.items():
        body = record(stack, media_id)
        assert body["status"] == "failed", (reason, body)
        assert body["failure_reason"] == reason, body["failure_reason"]
        assert body["variants"] == {}
        assert media_objects(stack, media_id) == []
    # And the good video in the same batch is ready
    body = record(stack, good)
    assert body["status"] == "ready", body
    assert set(body["variants"]) == {"mp4", "poster"} | POSTER_PRESETS | STORYBOARD


# -- at-least-once delivery -------------------------------------------------------------------------
def test_duplicate_events_transcode_once(stack: LocalStack, av_media: AvMedia):
    # Given one uploaded video and its S3 event
    media_id = upload_file(stack, av_media.no_audio_mp4(), "dup.mp4", "video/mp4")
    messages = queued_messages(stack, "AvQueue", 1)
    assert json.loads(messages[0]["Body"])["Records"][0]["s3"]["object"]["key"].endswith("original.mp4")
    # When the same event arrives twice in one batch and again in a later batch
    assert deliver(stack, "AvQueue", "AvFunction", messages * 2) == {"batchItemFailures": []}
    first = record(stack, media_id)
    assert first["status"] == "ready", first
    assert deliver(stack, "AvQueue", "AvFunction", messages) == {"batchItemFailures": []}
    # Then the record changed once (created, claimed, ready) and is unchanged by the redelivery
    again = record(stack, media_id)
    assert again["status"] == "ready"
    assert again["version"] == first["version"] == 3
    assert again["variants"].keys() == first["variants"].keys()
    assert [v["url"].split("?")[0] for v in again["variants"].values()] == [
        v["url"].split("?")[0] for v in first["variants"].values()
    ]
    # And the media bucket holds one variant set from one processing run
    objects = media_objects(stack, media_id)
    assert len(objects) == len(first["variants"])
    assert len({key.split("/")[3] for key in objects}) == 1
