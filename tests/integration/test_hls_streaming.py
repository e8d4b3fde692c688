"""HLS through the local stack, single-function path: uploads through the API, AvFunction's outputs
read back only through what a player gets (GET /media/{id} `streaming`, the signed playlist
route), parsed with the `m3u8` package and probed with the project's ffprobe.

The stack's ladder is "240,144" so a 320x240 clip gets two rungs; clips are Matroska (not
remuxable), so they take the single (encode) path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import m3u8
import pytest
import requests
from media_core.engines.av.probe import probe
from PIL import Image

from local_stack.stack import LocalStack
from tests.support.av_media import ffmpeg
from tests.support.flow import deliver, download, queued_messages, upload
from tests.support.hls_media import AAC, X264, count_video_frames
from tests.support.local_stack import bearer, running_stack

LADDER = "240,144"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    params = {"HlsLadder": LADDER, "VideoPreset": "ultrafast"}
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False, params=params) as running:
        yield running


def mkv(directory: Path, name: str, size: str, seconds: int, audio: bool) -> Path:
    path = directory / name
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    ffmpeg(*args, *X264, *(AAC if audio else []), "-shortest", "-f", "matroska", str(path))
    return path


@dataclass(frozen=True)
class Clip:
    media_id: str
    path: Path
    size: tuple[int, int]
    audio: bool


def api(stack: LocalStack, url: str, user: str = "alice") -> requests.Response:
    return requests.get(url, headers=bearer(stack, user), timeout=30)


@pytest.fixture(scope="module")
def clips(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    directory = tmp_path_factory.mktemp("clips")
    made = {
        "landscape": (mkv(directory, "land.mkv", "320x240", 3, True), (320, 240), True),
        "portrait": (mkv(directory, "port.mkv", "240x320", 3, True), (240, 320), True),
        "silent": (mkv(directory, "silent.mkv", "320x240", 2, False), (320, 240), False),
    }
    ids = {
        name: upload(stack, "alice", path.name, "video/x-matroska", path.read_bytes())
        for name, (path, _, _) in made.items()
    }
    result = deliver(stack, "AvQueue", "AvFunction", queued_messages(stack, "AvQueue", len(made)))
    assert result == {"batchItemFailures": []}
    return {name: Clip(ids[name], path, size, audio) for name, (path, size, audio) in made.items()}


def media(stack: LocalStack, media_id: str, user: str = "alice") -> dict[str, Any]:
    response = api(stack, f"{stack.api_url}/media/{media_id}", user)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fetch_rendition(stack: LocalStack, playlist_url: str, out: Path) -> tuple[m3u8.M3U8, Path]:
    """A media playlist through the route, and its init + every segment fetched (signed URLs, no
    token) and concatenated into one fragmented MP4."""
    response = api(stack, playlist_url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    playlist = m3u8.loads(response.text)
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    assert playlist.segment_map and playlist.segment_map[0].uri.startswith("http")
    with out.open("wb") as dst:
        dst.write(download(playlist.segment_map[0].uri))
        for segment in playlist.segments:
            # signed: a SigV4 presigned GET, or a CloudFront signed URL when the CDN is on
            assert segment.uri.startswith("http")
            assert "X-Amz-Signature=" in segment.uri or "Signature=" in segment.uri, segment.uri
            dst.write(download(segment.uri))
    return playlist, out


@pytest.mark.parametrize("name", ["landscape", "portrait", "silent"])
def test_every_rung_plays_from_signed_urls(
    stack: LocalStack, clips: dict[str, Clip], name: str, tmp_path: Path
):
    clip = clips[name]
    body = media(stack, clip.media_id)
    assert body["status"] == "ready", body
    assert body["metadata"]["transcode"]["mode"] == "single"
    # Given the master playlist URL of GET /media/{id}
    master_url = body["streaming"]["hls"]
    assert master_url == f"{stack.api_url}/media/{clip.media_id}/hls/master.m3u8"
    response = api(stack, master_url)
    assert response.status_code == 200, response.text
    master = m3u8.loads(response.text)
    # Then it lists every rung of the ladder not above the source, largest first, orientation kept
    src_w, src_h = clip.size
    expected = [(src_w, src_h), (src_w * 144 // 240, src_h * 144 // 240)]
    assert [p.stream_info.resolution for p in master.playlists] == expected
    # And an audio rendition exactly when the source has audio
    audio_media = [m for m in master.media if m.type == "AUDIO"]
    assert len(audio_media) == (1 if clip.audio else 0)
    source_frames = count_video_frames(clip.path)
    source = probe(str(clip.path))
    for variant in master.playlists:
        assert variant.stream_info.codecs.startswith("avc1.")
        assert ("mp4a.40.2" in variant.stream_info.codecs) is clip.audio
        # When each rung's playlist is fetched through the same route (its URI stays relative)
        assert not variant.uri.startswith("http")
        playlist, joined = fetch_rendition(stack, urljoin(master_url, variant.uri), tmp_path / "joined.mp4")
        # Then the segments are H.264 of the rung's size, their durations sum to the source's
        info = probe(str(joined), ("mov",))
        assert info.video is not None and info.video.codec == "h264"
        assert (info.video.width, info.video.height) == variant.stream_info.resolution
        durations = sum(s.duration for s in playlist.segments)
        assert durations == pytest.approx(source.duration_s, abs=0.05)
        assert count_video_frames(joined) == source_frames
        assert playlist.target_duration >= max(round(s.duration) for s in playlist.segments)
        # And BANDWIDTH is the measured peak (video + audio segment bit rates), within 10 %
        video_peak = max(s_bytes * 8 / s.duration for s, s_bytes in _sizes(playlist))
        audio_peak = 0.0
        if clip.audio:
            audio_list, _ = fetch_rendition(
                stack, urljoin(master_url, audio_media[0].uri), tmp_path / "a.mp4"
            )
            audio_peak = max(b * 8 / s.duration for s, b in _sizes(audio_list))
        measured = video_peak + audio_peak
        assert variant.stream_info.bandwidth >= measured * 0.9
        assert variant.stream_info.bandwidth <= measured * 1.1


def _sizes(playlist: m3u8.M3U8) -> list[tuple[Any, int]]:
    return [(s, len(download(s.uri))) for s in playlist.segments]


def test_a_silent_video_has_no_audio_playlist(stack: LocalStack, clips: dict[str, Clip]):
    url = f"{stack.api_url}/media/{clips['silent'].media_id}/hls/audio.m3u8"
    response = api(stack, url)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_the_storyboard_vtt_points_at_a_signed_sprite(stack: LocalStack, clips: dict[str, Clip]):
    body = media(stack, clips["landscape"].media_id)
    response = api(stack, body["streaming"]["storyboard"])
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/vtt")
    lines = response.text.splitlines()
    assert lines[0] == "WEBVTT"
    cues = [line for line in lines if "#xywh=" in line]
    assert len(cues) == body["metadata"]["storyboard"]["tiles"] == 3
    sprite_url, _, xywh = cues[0].partition("#xywh=")
    sprite = download(sprite_url)
    import io

    with Image.open(io.BytesIO(sprite)) as sheet:
        assert sheet.format == "JPEG"
        x, y, w, h = (int(v) for v in xywh.split(","))
        assert x + w <= sheet.size[0] and y + h <= sheet.size[1] and w == 160


def test_the_mp4_comes_from_the_top_rung_with_faststart(
    stack: LocalStack, clips: dict[str, Clip], tmp_path: Path
):
    body = media(stack, clips["portrait"].media_id)
    mp4 = tmp_path / "v.mp4"
    mp4.write_bytes(download(body["variants"]["mp4"]["url"]))
    info = probe(str(mp4), ("mov",))
    assert info.video is not None and (info.video.width, info.video.height) == (240, 320)
    assert info.audio is not None
    assert count_video_frames(mp4) == count_video_frames(clips["portrait"].path)


# -- attacks on the playlist route ---------------------------------------------------------------------
def test_another_users_private_video_is_404_on_every_streaming_file(
    stack: LocalStack, clips: dict[str, Clip]
):
    media_id = clips["landscape"].media_id
    for name in ("master.m3u8", "240p.m3u8", "audio.m3u8", "storyboard.vtt"):
        url = f"{stack.api_url}/media/{media_id}/hls/{name}"
        assert api(stack, url, "alice").status_code == 200, name
        response = api(stack, url, "mallory")
        assert response.status_code == 404, name
        assert response.json()["error"] == "not_found"
        assert "X-Amz" not in response.text and "Signature=" not in response.text


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("1080p.m3u8", 404),  # a rung this video does not have
        ("secret.m3u8", 404),
        ("..%2F..%2Fmp4.m3u8", 403),  # decoded to a path no route has (API Gateway answers 403)
        ("master.m3u8%00", 404),  # a NUL matches no route
        ("MASTER.M3U8", 422),
        ("sprite.jpg", 422),
        ("x" * 40 + ".m3u8", 422),
    ],
)
def test_forged_playlist_names_are_refused_with_a_message(
    stack: LocalStack, clips: dict[str, Clip], name: str, status: int
):
    response = api(stack, f"{stack.api_url}/media/{clips['landscape'].media_id}/hls/{name}")
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_no_token_is_401(stack: LocalStack, clips: dict[str, Clip]):
    url = f"{stack.api_url}/media/{clips['landscape'].media_id}/hls/master.m3u8"
    assert requests.get(url, timeout=30).status_code == 401


def test_an_unknown_or_malformed_id_is_refused(stack: LocalStack):
    assert api(stack, f"{stack.api_url}/media/{'0' * 32}/hls/master.m3u8").status_code == 404
    assert api(stack, f"{stack.api_url}/media/not-an-id/hls/master.m3u8").status_code == 422


def test_the_media_bucket_answers_cors_for_the_page_origin(stack: LocalStack, clips: dict[str, Clip]):
    body = media(stack, clips["landscape"].media_id)
    playlist = m3u8.loads(
        api(stack, f"{stack.api_url}/media/{clips['landscape'].media_id}/hls/240p.m3u8").text
    )
    origin = stack.api_url
    response = requests.get(playlist.segments[0].uri, headers={"Origin": origin}, timeout=30)
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") in (origin, "*")
    assert body["streaming"]["storyboard"]
