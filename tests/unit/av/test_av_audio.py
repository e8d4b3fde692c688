"""Audio: MP3 rendition, tags, cover art, waveform, rejection of non-audio."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.av import runner
from media_core.engines.av.audio import peaks_from_blocks, probe_audio, waveform
from media_core.engines.av.av_job import process_audio
from media_core.engines.av.limits import AudioLimits
from media_core.engines.av.probe import probe
from PIL import Image

from tests.support.av_media import TAGS, AvMedia
from tests.support.range_server import RangeServer

AUDIO_CASES = [
    ("mp3", "mp3", "mp3", True),
    ("wav", "wav", "pcm_s16le", False),
    ("ogg", "ogg", "opus", True),
    ("aac", "aac", "aac", False),
    ("m4a", "mov", "aac", True),
    ("flac", "flac", "flac", True),
]


@pytest.mark.parametrize(("make", "container", "codec", "tagged"), AUDIO_CASES)
def test_every_audio_format_becomes_mp3_128k_44k(
    av_media: AvMedia,
    workdir: Path,
    make: str,
    container: str,
    codec: str,
    tagged: bool,
) -> None:
    # Given a 3 s stereo tone in some format
    source = getattr(av_media, make)()
    # When processing it
    result = process_audio(str(source), workdir)
    # Then the source facts are reported
    meta = json.loads(json.dumps(result.metadata))
    assert meta["container"] == container and meta["audio"]["codec"] == codec
    assert meta["audio"]["channels"] == 2 and meta["audio"]["sample_rate"] == 48_000
    assert meta["duration_s"] == pytest.approx(3.0, abs=0.1) and meta["duration"] == "0:03"
    # and the rendition is MP3, 128 kbps, 44.1 kHz, same duration (ffprobe on the output)
    out = result.outputs[0]
    assert (out.name, out.content_type) == ("audio.mp3", "audio/mpeg")
    info = probe(str(out.path), ("mp3",))
    assert info.audio is not None and info.audio.codec == "mp3"
    assert info.audio.bit_rate == 128_000 and info.audio.sample_rate == 44_100 and info.audio.channels == 2
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    # and the tags travel when the source had them
    assert info.tags == (TAGS if tagged else {})
    assert meta.get("tags", {}) == (TAGS if tagged else {})


def test_waveform_has_the_requested_length_and_range(av_media: AvMedia, workdir: Path) -> None:
    # Given a tone at amplitude ~0.5
    result = process_audio(str(av_media.flac()), workdir)
    # Then 200 peaks in 0..1, the tone's level everywhere
    assert len(result.waveform) == 200
    assert all(0.0 <= p <= 1.0 for p in result.waveform)
    assert min(result.waveform) > 0.2 and max(result.waveform) < 0.8


def test_waveform_points_are_configurable_and_silence_is_zero(av_media: AvMedia) -> None:
    info = probe(str(av_media.wav()), runner.AUDIO_DEMUXERS)
    assert len(waveform(str(av_media.wav()), info, 50)) == 50
    import numpy as np

    peaks = peaks_from_blocks(np.array([0, 0, 16384, 0], dtype=np.int16), 4)
    assert peaks == [0.0, 0.0, pytest.approx(0.5, abs=0.001), 0.0]
    assert peaks_from_blocks(np.zeros(0, dtype=np.int16), 3) == [0.0, 0.0, 0.0]


def test_cover_art_is_extracted_as_jpeg(av_media: AvMedia, workdir: Path) -> None:
    # Given an mp3 with an embedded 200x200 picture
    result = process_audio(str(av_media.mp3_with_cover()), workdir)
    # Then the cover is a JPEG of that size
    assert result.cover_jpeg is not None and result.cover_jpeg[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(result.cover_jpeg)) as img:
        assert img.format == "JPEG" and img.size == (200, 200)
    assert result.metadata["has_cover_art"] is True
    # and the MP3 rendition does not carry the picture along
    assert probe(str(result.outputs[0].path), ("mp3",)).cover_art_index is None


def test_a_cover_past_pillows_pixel_cap_is_dropped_and_the_audio_processed(
    av_media: AvMedia, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an mp3 whose cover is above Pillow's decompression-bomb cap (the cap lowered below
    # the 200x200 cover here: a real one would be a 180-megapixel picture)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200 * 200 // 2 - 1)
    # When it is processed, Then the audio is, without the cover (not a crash and a retry)
    result = process_audio(str(av_media.mp3_with_cover()), workdir)
    assert result.cover is None and result.cover_jpeg is None
    assert probe(str(result.outputs[0].path), ("mp3",)).audio is not None


def test_no_cover_is_none(av_media: AvMedia, workdir: Path) -> None:
    assert process_audio(str(av_media.wav()), workdir).cover is None


def test_surround_is_downmixed_to_stereo(av_media: AvMedia, workdir: Path) -> None:
    result = process_audio(str(av_media.surround_wav()), workdir)
    assert result.metadata["audio"]["channels"] == 6
    assert result.metadata["transcode"]["channels"] == 2


def test_audio_over_http(av_media: AvMedia, range_server: RangeServer, workdir: Path) -> None:
    av_media.mp3_with_cover()
    result = process_audio(range_server.url("cover.mp3"), workdir)
    assert result.cover is not None and result.metadata["tags"] == TAGS


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        ("text_named_mp3", "not a media file"),
        ("landscape_mp4", "file contains a video stream: upload it as a video"),
        ("jpeg_named_mp4", "not a media file: looks like an image (jpeg)"),
    ],
)
def test_non_audio_is_rejected_and_leaves_nothing(
    av_media: AvMedia,
    workdir: Path,
    make: str,
    reason: str,
) -> None:
    with pytest.raises(MediaRejected) as excinfo:
        process_audio(str(getattr(av_media, make)()), workdir)
    assert excinfo.value.message == reason
    assert list(workdir.iterdir()) == []


def test_audio_duration_cap(av_media: AvMedia) -> None:
    with pytest.raises(MediaRejected, match=r"^duration 0:03 exceeds the 0:02 limit$"):
        probe_audio(str(av_media.mp3()), AudioLimits(max_duration_s=2))
