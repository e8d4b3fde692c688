"""HLS engine, pure parts: ladder rules and parsing, the segment plan, command building (no ffmpeg
run), playlist and WebVTT text, and the fMP4 box patching."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.av import fmp4
from media_core.engines.av.encode import task_command, x264_params
from media_core.engines.av.ladder import DEFAULT_LADDER, choose_renditions, mp4_rendition, parse_ladder
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.plan import HlsPlan, plan_hls
from media_core.engines.av.playlists import (
    AudioEntry,
    MediaPlaylist,
    MediaSegment,
    VariantEntry,
    render_master_playlist,
    render_media_playlist,
)
from media_core.engines.av.probe import MediaInfo, VideoStream
from media_core.engines.av.segments import Task, frame_rate, plan_segments, plan_tasks, track_timescale
from media_core.engines.av.storyboard import choose_interval, plan_storyboard, render_vtt


def info_of(
    width: int, height: int, fps: float = 25.0, duration: float = 10.0, rotation: int = 0
) -> MediaInfo:
    video = VideoStream(
        index=0,
        codec="h264",
        profile="High",
        pix_fmt="yuv420p",
        coded_width=height if rotation in (90, 270) else width,
        coded_height=width if rotation in (90, 270) else height,
        width=width,
        height=height,
        rotation=rotation,
        fps=fps,
        variable_frame_rate=False,
        bit_rate=None,
    )
    return MediaInfo("mov", ("mov", "mp4"), duration, None, None, video, None, None)


# -- ladder ---------------------------------------------------------------------------------------
def test_1080p_source_gets_the_whole_default_ladder() -> None:
    out = choose_renditions(info_of(1920, 1080))
    assert [(r.name, r.width, r.height) for r in out] == [
        ("1080p", 1920, 1080),
        ("720p", 1280, 720),
        ("480p", 854, 480),
        ("360p", 640, 360),
    ]
    assert [r.max_bitrate for r in out] == sorted((r.max_bitrate for r in out), reverse=True)


def test_never_upscale_and_a_4k_source_stops_at_the_ladder_top() -> None:
    assert [r.name for r in choose_renditions(info_of(1280, 720))] == ["720p", "480p", "360p"]
    assert choose_renditions(info_of(3840, 2160))[0].name == "1080p"


def test_source_between_rungs_becomes_the_top_rung_at_its_own_size() -> None:
    out = choose_renditions(info_of(1600, 900))
    assert [(r.name, r.width, r.height) for r in out][:2] == [("900p", 1600, 900), ("720p", 1280, 720)]
    assert out[1].max_bitrate <= out[0].max_bitrate <= DEFAULT_LADDER[0].max_bitrate


def test_source_smaller_than_every_rung_gives_one_rendition_at_its_size() -> None:
    out = choose_renditions(info_of(320, 240))
    assert [(r.name, r.width, r.height) for r in out] == [("240p", 320, 240)]


def test_a_source_a_few_pixels_above_a_rung_uses_that_rung() -> None:
    assert choose_renditions(info_of(1300, 730))[0].name == "720p"


def test_portrait_source_gets_portrait_rungs_with_even_sizes() -> None:
    out = choose_renditions(info_of(1080, 1920, rotation=90))
    assert [(r.width, r.height) for r in out] == [(1080, 1920), (720, 1280), (480, 854), (360, 640)]
    odd = choose_renditions(info_of(701, 1249))
    assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in odd)
    assert all(r.height > r.width for r in odd)


def test_mp4_comes_from_the_largest_rendition_up_to_1080p() -> None:
    ladder = parse_ladder("1440,1080,720")
    assert mp4_rendition(choose_renditions(info_of(2560, 1440), ladder)).name == "1080p"


def test_parse_ladder_accepts_heights_and_optional_caps() -> None:
    ladder = parse_ladder("1080, 720p:3500k,480:1.2M, 360")
    assert [(r.height, r.max_bitrate) for r in ladder] == [
        (1080, 6_000_000),
        (720, 3_500_000),
        (480, 1_200_000),
        (360, 800_000),
    ]
    assert parse_ladder("1080,720,480,360") == DEFAULT_LADDER


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "comma-separated heights"),
        ("1080,,720", "comma-separated heights"),
        ("1080,abc", "'abc': expected a height"),
        ("1080,719", "must be even"),
        ("4320", "within 144..2160"),
        ("720,1080", "largest to the smallest"),
        ("720,720", "listed twice"),
        ("720:10k", "below 50k"),
    ],
)
def test_parse_ladder_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_ladder(text)


def test_no_video_is_rejected() -> None:
    audio_only = MediaInfo("mp3", ("mp3",), 3.0, None, None, None, None, None)
    with pytest.raises(MediaRejected, match="no video"):
        choose_renditions(audio_only)


# -- segment plan ---------------------------------------------------------------------------------
def test_segments_are_whole_gops_and_the_last_is_short() -> None:
    plan = plan_segments(20.0, 30.0, segment_s=6.0, gop_s=2.0)
    assert (plan.gop_frames, plan.segment_frames, plan.total_frames) == (60, 180, 600)
    assert [(s.start_frame, s.frames) for s in plan.segments] == [(0, 180), (180, 180), (360, 180), (540, 60)]
    assert all(s.start_frame % plan.gop_frames == 0 for s in plan.segments)


def test_ntsc_rates_are_exact_fractions_with_whole_tick_frames() -> None:
    plan = plan_segments(10.0, 29.97002997, 6.0, 2.0)
    assert plan.fps == Fraction(30000, 1001)
    assert plan.timescale == 90_000 and plan.ticks_per_frame == 3003
    assert plan.segments[1].start_frame == 180
    assert plan.time_of(180) == Fraction(180 * 1001, 30000)  # 6.006 s exactly
    assert track_timescale(Fraction(60000, 1001)) % 60000 == 0


def test_variable_rate_averages_snap_to_a_standard_rate() -> None:
    assert frame_rate(29.6) == Fraction(30000, 1001)
    assert frame_rate(24.9) == 25
    assert frame_rate(15.0) == 15  # not near a standard rate: kept


def test_frame_rates_above_the_cap_are_halved() -> None:
    assert frame_rate(120.0) == 60
    assert frame_rate(240000 / 1001) == Fraction(60000, 1001)


def test_tasks_group_consecutive_segments() -> None:
    plan = plan_segments(31.0, 25, 6.0, 2.0)
    assert len(plan.segments) == 6
    assert plan_tasks(plan, 4) == (Task(0, 4), Task(4, 2))
    assert [t.first for t in plan_tasks(plan)] == [0, 1, 2, 3, 4, 5]


def test_plan_round_trips_through_json_data() -> None:
    plan = plan_hls(info_of(1280, 720, 29.97, 61.0), segment_s=6.0)
    assert HlsPlan.from_dict(plan.to_dict()) == plan


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_plan_rejects_unknown_duration(bad: float) -> None:
    with pytest.raises(MediaRejected):
        plan_segments(bad, 25)


# -- commands -------------------------------------------------------------------------------------
def test_task_command_seeks_the_input_and_encodes_every_rung_without_audio(tmp_path: Path) -> None:
    info = info_of(1280, 720, 25, 20.0)
    plan = plan_hls(info, parse_ladder("720,360"), segment_s=6.0, gop_s=2.0)
    outs = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    cmd = task_command("https://bucket/x?sig=1", plan, Task(1, 1), outs, TranscodeOptions())
    text = " ".join(cmd)
    ss = cmd.index("-ss")
    assert ss < cmd.index("-i") and float(cmd[ss + 1]) == pytest.approx(6.0 - 0.01, abs=1e-6)
    assert cmd[cmd.index("-i") + 1] == "https://bucket/x?sig=1"
    assert "fps=25/1:start_time=0,split=2" in text and "scale=1280:720" in text and "scale=640:360" in text
    assert cmd.count("-frames:v") == 2 and cmd[cmd.index("-frames:v") + 1] == "150"
    assert cmd.count("-an") == 2 and "-c:a" not in cmd
    assert cmd.count(x264_params(plan.segments)) == 2
    assert "keyint=50:min-keyint=50:scenecut=0:open-gop=0" in x264_params(plan.segments)
    assert cmd.count("-sc_threshold") == 2
    assert "+frag_keyframe+empty_moov+default_base_moof" in text
    assert "-protocol_whitelist" in cmd and "-tls_verify" in cmd


def test_first_task_does_not_seek_and_last_task_reads_to_the_end(tmp_path: Path) -> None:
    info = info_of(640, 360, 25, 14.0)
    plan = plan_hls(info, parse_ladder("360"), segment_s=6.0)
    first = task_command("in.mp4", plan, Task(0, 1), [tmp_path / "a"], TranscodeOptions())
    last = task_command("in.mp4", plan, Task(2, 1), [tmp_path / "a"], TranscodeOptions())
    assert "-ss" not in first and "-frames:v" in first
    assert "-ss" in last and "-frames:v" not in last


# -- playlists ------------------------------------------------------------------------------------
def test_media_playlist_has_the_vod_tags_and_a_target_duration_covering_every_extinf() -> None:
    pl = MediaPlaylist(
        "720p/init.mp4",
        (MediaSegment("720p/seg_00000.m4s", 6.006, 1000), MediaSegment("720p/seg_00001.m4s", 2.5, 10)),
    )
    text = render_media_playlist(pl)
    for tag in ("#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:6", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-ENDLIST"):
        assert tag in text
    assert '#EXT-X-MAP:URI="720p/init.mp4"' in text and "#EXTINF:6.006000," in text
    assert pl.peak_bandwidth == round(1000 * 8 / 6.006 + 0.5) and pl.average_bandwidth == round(
        1010 * 8 / 8.506 + 0.5
    )


def test_master_playlist_lists_variants_with_codecs_and_the_audio_group() -> None:
    text = render_master_playlist(
        [VariantEntry("720p.m3u8", 3_000_000, 2_000_000, "avc1.64001f,mp4a.40.2", 1280, 720, 29.97)],
        AudioEntry("audio.m3u8", 2, "mp4a.40.2"),
    )
    assert '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac"' in text and 'URI="audio.m3u8"' in text
    assert (
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2000000,CODECS="avc1.64001f,mp4a.40.2",'
        'RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="aac"\n720p.m3u8' in text
    )
    silent = render_master_playlist([VariantEntry("a.m3u8", 1, 1, "avc1.64001f", 2, 2, 25)], None)
    assert "EXT-X-MEDIA" not in silent and "AUDIO=" not in silent


# -- storyboard -----------------------------------------------------------------------------------
def test_storyboard_interval_keeps_tiles_at_most_100() -> None:
    assert choose_interval(30) == 1 and choose_interval(101) == 2 and choose_interval(3600) == 45
    plan = plan_storyboard(3600, 1920, 1080)
    assert plan.tiles <= 100 and (plan.tile_width, plan.tile_height) == (160, 90)
    assert plan_storyboard(10, 1080, 1920).tile_height == 284


def test_vtt_cues_are_back_to_back_and_end_at_the_duration() -> None:
    plan = plan_storyboard(25.5, 640, 360, max_tiles=10)
    vtt = render_vtt(plan)
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:00.000 --> 00:00:03.000\nsprite.jpg#xywh=0,0,160,90" in vtt
    assert vtt.rstrip().endswith(
        "sprite.jpg#xywh="
        + f"{(plan.tiles - 1) % plan.columns * 160},{(plan.tiles - 1) // plan.columns * 90},160,90"
    )
    assert "00:00:24.000 --> 00:00:25.500" in vtt


# -- fMP4 patching --------------------------------------------------------------------------------
def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def test_moof_patch_shifts_tfdt_and_renumbers_mfhd() -> None:
    tfdt = _box(b"tfdt", b"\x01\0\0\0" + struct.pack(">Q", 1000))
    trun = _box(b"trun", b"\0\0\x08\x00" + struct.pack(">I", 2) + struct.pack(">II", 7200, 3600))
    moof = _box(b"moof", _box(b"mfhd", b"\0\0\0\0" + struct.pack(">I", 1)) + _box(b"traf", tfdt + trun))
    patched = fmp4.shift_composition(fmp4.patch_moof(moof, 90_000, 7), 7200)
    assert len(patched) == len(moof)
    samples, decode_time, _ = fmp4.parse_moof(patched)
    assert (samples, decode_time) == (2, 91_000)
    assert struct.unpack(">I", patched[20:24]) == (7,)
    trun_at = patched.find(b"trun")
    assert patched[trun_at + 4] == 1  # version 1: signed offsets
    assert struct.unpack(">ii", patched[trun_at + 12 : trun_at + 20]) == (0, -3600)
