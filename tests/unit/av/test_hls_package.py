"""HLS outputs opened and probed: the single-process path and the segment-parallel path (each
segment encoded by its own ffmpeg process, then assembled) on the same small clip."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import m3u8
import pytest
from media_core.engines.av.assemble import AssemblyError, HlsOutput, assemble
from media_core.engines.av.audio_hls import encode_audio
from media_core.engines.av.binaries import find_binaries
from media_core.engines.av.encode import encode_task
from media_core.engines.av.hls import package_hls
from media_core.engines.av.ladder import parse_ladder
from media_core.engines.av.plan import plan_hls
from media_core.engines.av.probe import MediaInfo, probe

from tests.support.av_media import mp4_top_level_boxes
from tests.support.hls_media import (
    HlsMedia,
    concat,
    count_video_frames,
    decode_errors,
    ffprobe,
    video_frames,
)

LADDER = parse_ladder("360,240")
SEGMENT_S, GOP_S = 2.0, 1.0  # short clips, several boundaries
FPS = 25
PATHS: dict[str, int | None] = {"single": None, "parallel": 1}  # segments_per_task of each path


@pytest.fixture(scope="session")
def hls_media(tmp_path_factory: pytest.TempPathFactory) -> HlsMedia:
    find_binaries()  # the project's ffmpeg is required: missing -> errors, never skipped
    return HlsMedia(tmp_path_factory.getbasetemp() / "hls_media")


@dataclass(frozen=True)
class Packaged:
    source: Path
    info: MediaInfo
    root: Path
    output: HlsOutput


@pytest.fixture(scope="module")
def source(hls_media: HlsMedia) -> Path:
    return hls_media.landscape()


@pytest.fixture(scope="module", params=["single", "parallel"])
def packaged(
    request: pytest.FixtureRequest, source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Packaged:
    root = tmp_path_factory.mktemp(f"hls_{request.param}")
    info = probe(str(source))
    out = package_hls(
        str(source),
        info,
        root,
        LADDER,
        segment_s=SEGMENT_S,
        gop_s=GOP_S,
        segments_per_task=PATHS[request.param],
    )
    return Packaged(source, info, root, out)


@pytest.fixture(scope="module")
def both(source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Packaged, Packaged]:
    info = probe(str(source))
    outs = []
    for name, per_task in PATHS.items():
        root = tmp_path_factory.mktemp(f"hls_cmp_{name}")
        out = package_hls(
            str(source), info, root, LADDER, segment_s=SEGMENT_S, gop_s=GOP_S, segments_per_task=per_task
        )
        outs.append(Packaged(source, info, root, out))
    return outs[0], outs[1]


def _media(root: Path, uri: str) -> m3u8.M3U8:
    return m3u8.load(str(root / "hls" / uri))


def _segment_paths(root: Path, uri: str) -> tuple[Path, list[Path], list[float]]:
    pl = _media(root, uri)
    base = root / "hls"
    init = base / pl.segment_map[0].uri
    return init, [base / s.uri for s in pl.segments], [float(s.duration) for s in pl.segments]


def test_layout_and_every_uri_exists(packaged: Packaged) -> None:
    hls = packaged.root / "hls"
    master = m3u8.load(str(hls / "master.m3u8"))
    assert master.is_variant and len(master.playlists) == 2
    uris = [p.uri for p in master.playlists] + [m.uri for m in master.media]
    assert uris == ["360p.m3u8", "240p.m3u8", "audio.m3u8"]
    for uri in uris:
        pl = _media(packaged.root, uri)
        assert not uri.startswith(("/", "http")) and (hls / uri).is_file()
        assert pl.is_endlist and pl.playlist_type == "vod" and pl.version == 7
        assert pl.is_independent_segments
        assert pl.segment_map and (hls / pl.segment_map[0].uri).is_file()
        for seg in pl.segments:
            assert not seg.uri.startswith(("/", "http")) and (hls / seg.uri).is_file()
    assert (packaged.root / "video.mp4").is_file()
    assert not (packaged.root / ".work").exists()  # scratch files removed


def test_durations_and_target_duration(packaged: Packaged) -> None:
    for uri in ("360p.m3u8", "240p.m3u8", "audio.m3u8"):
        pl = _media(packaged.root, uri)
        durations = [float(s.duration) for s in pl.segments]
        assert sum(durations) == pytest.approx(7.0, abs=1 / FPS)
        assert all(math.floor(d + 0.5) <= pl.target_duration for d in durations)
    video = _media(packaged.root, "360p.m3u8")
    assert [float(s.duration) for s in video.segments] == [2.0, 2.0, 2.0, 1.0]


def test_master_attributes_codecs_resolution_frame_rate(packaged: Packaged) -> None:
    master = m3u8.load(str(packaged.root / "hls" / "master.m3u8"))
    sizes = {"360p.m3u8": (640, 360), "240p.m3u8": (426, 240)}
    for variant in master.playlists:
        info = variant.stream_info
        assert info.resolution == sizes[variant.uri]
        assert info.frame_rate == pytest.approx(25.0)
        assert info.audio == "aac"
        video_codec, audio_codec = info.codecs.split(",")
        assert audio_codec == "mp4a.40.2"
        # avc1.PPCCLL matches the profile/level the produced stream reports
        init, segs, _ = _segment_paths(packaged.root, variant.uri)
        probed = ffprobe(concat(packaged.root / "probe.mp4", init, segs[0]), "-show_streams")["streams"][0]
        assert probed["profile"] == "High" and video_codec.startswith("avc1.64")
        assert int(video_codec[-2:], 16) == probed["level"]
    audio = master.media[0]
    assert (audio.type, audio.group_id, audio.default, audio.channels) == ("AUDIO", "aac", "YES", "2")


def test_bandwidth_is_the_measured_peak_and_average(packaged: Packaged) -> None:
    master = m3u8.load(str(packaged.root / "hls" / "master.m3u8"))
    _, a_segs, a_durs = _segment_paths(packaged.root, "audio.m3u8")
    a_rates = [p.stat().st_size * 8 / d for p, d in zip(a_segs, a_durs, strict=True)]
    a_avg = sum(p.stat().st_size for p in a_segs) * 8 / sum(a_durs)
    for variant in master.playlists:
        _, segs, durs = _segment_paths(packaged.root, variant.uri)
        rates = [p.stat().st_size * 8 / d for p, d in zip(segs, durs, strict=True)]
        peak = max(rates) + max(a_rates)
        average = sum(p.stat().st_size for p in segs) * 8 / sum(durs) + a_avg
        assert variant.stream_info.bandwidth == pytest.approx(peak, rel=0.10)
        assert variant.stream_info.average_bandwidth == pytest.approx(average, rel=0.10)
        assert variant.stream_info.average_bandwidth <= variant.stream_info.bandwidth


def test_every_rung_probes_right_with_keyframes_at_every_segment_start(packaged: Packaged) -> None:
    starts_by_rung = {}
    for uri, size in (("360p.m3u8", (640, 360)), ("240p.m3u8", (426, 240))):
        init, segs, durs = _segment_paths(packaged.root, uri)
        for seg, dur in zip(segs, durs, strict=True):
            frames = video_frames(concat(packaged.root / "one.mp4", init, seg))
            assert len(frames) == round(dur * FPS)
            assert frames[0]["key_frame"] == 1 and frames[0]["pict_type"] == "I"
            assert (frames[0]["width"], frames[0]["height"]) == size
        whole = video_frames(concat(packaged.root / "whole.mp4", init, *segs))
        pts = [float(f["pts_time"]) for f in whole]
        keys = [round((float(f["pts_time"]) - pts[0]) * FPS) for f in whole if f["key_frame"] == 1]
        starts = [round(sum(durs[:i]) * FPS) for i in range(len(durs))]
        assert set(starts) <= set(keys)
        # Frame-exact, continuous timestamps across segment boundaries (tfdt stitched).
        steps = {round((b - a) * FPS, 6) for a, b in itertools.pairwise(pts)}
        assert steps == {1.0}
        starts_by_rung[uri] = keys
    assert starts_by_rung["360p.m3u8"] == starts_by_rung["240p.m3u8"]  # GOPs aligned across rungs


def test_stitched_hls_decodes_end_to_end_without_errors(packaged: Packaged) -> None:
    assert decode_errors(packaged.root / "hls" / "master.m3u8") == ""


def test_progressive_mp4_is_faststart_and_probes_right(packaged: Packaged) -> None:
    mp4 = packaged.root / "video.mp4"
    boxes = mp4_top_level_boxes(mp4)
    assert boxes.index("moov") < boxes.index("mdat")
    assert "moof" not in boxes
    streams = ffprobe(mp4, "-show_streams", "-show_format")
    v, a = streams["streams"]
    assert (v["codec_name"], v["width"], v["height"], v["pix_fmt"]) == ("h264", 640, 360, "yuv420p")
    assert a["codec_name"] == "aac"
    assert count_video_frames(mp4) == count_video_frames(packaged.source)
    assert float(streams["format"]["duration"]) == pytest.approx(7.0, abs=0.05)
    assert decode_errors(mp4) == ""


def test_parallel_equals_single_in_frames_duration_and_sync(both: tuple[Packaged, Packaged]) -> None:
    source_frames = count_video_frames(both[0].source)
    for p in both:
        for uri in ("360p.m3u8", "240p.m3u8"):
            init, segs, durs = _segment_paths(p.root, uri)
            assert count_video_frames(concat(p.root / "all.mp4", init, *segs)) == source_frames
            assert sum(durs) == pytest.approx(source_frames / FPS, abs=1 / FPS)
        _, _, a_durs = _segment_paths(p.root, "audio.m3u8")
        assert sum(a_durs) == pytest.approx(sum(durs), abs=1 / FPS)  # audio and video end together
        assert p.output.frames == source_frames
        # As played (edit lists applied: AAC priming skipped), audio and video end within a frame.
        v, a = ffprobe(p.root / "video.mp4", "-show_streams")["streams"]
        assert float(a["duration"]) == pytest.approx(float(v["duration"]), abs=1 / FPS)
        assert float(v["duration"]) == pytest.approx(source_frames / FPS, abs=1 / FPS)
    single, parallel = both
    # Same x264 settings everywhere: the init segments (SPS/PPS) are byte-identical.
    for rung in ("360p", "240p"):
        assert (single.root / "hls" / rung / "init.mp4").read_bytes() == (
            parallel.root / "hls" / rung / "init.mp4"
        ).read_bytes()
    s_bytes = sum(p.stat().st_size for p in (single.root / "hls" / "360p").glob("seg_*.m4s"))
    p_bytes = sum(p.stat().st_size for p in (parallel.root / "hls" / "360p").glob("seg_*.m4s"))
    assert p_bytes == pytest.approx(s_bytes, rel=0.15)


def test_assembler_refuses_a_missing_or_doubled_segment(hls_media: HlsMedia, tmp_path: Path) -> None:
    source = hls_media.landscape()
    info = probe(str(source))
    plan = plan_hls(info, parse_ladder("240"), segment_s=SEGMENT_S, gop_s=GOP_S)
    tasks = plan.tasks()
    results = [encode_task(str(source), plan, t, tmp_path) for t in tasks[:1] + tasks[2:]]
    audio = encode_audio(str(source), plan, tmp_path)
    with pytest.raises(AssemblyError, match=r"missing \[1\]"):
        assemble(tmp_path, plan, results, audio, make_mp4=False)
    with pytest.raises(AssemblyError, match=r"duplicated \[0\]"):
        assemble(tmp_path, plan, [*results, results[0]], audio, make_mp4=False)
    with pytest.raises(AssemblyError, match="no audio rendition"):
        assemble(tmp_path, plan, results, None, make_mp4=False)
