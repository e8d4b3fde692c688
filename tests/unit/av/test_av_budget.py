"""Time budget: estimate, refuse early with a readable reason, cores from Lambda memory."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from media_core.domain.errors import MediaRejected
from media_core.engines.av.av_job import process_video
from media_core.engines.av.budget import available_cores, check_budget, estimate_transcode_s
from media_core.engines.av.limits import TranscodeOptions
from media_core.engines.av.probe import MediaInfo, VideoStream, probe

from tests.support.av_media import AvMedia


def phone_clip(minutes: float, width: int = 1920, height: int = 1080, fps: float = 30.0) -> MediaInfo:
    video = VideoStream(
        index=0,
        codec="hevc",
        profile="Main",
        pix_fmt="yuv420p",
        coded_width=width,
        coded_height=height,
        width=width,
        height=height,
        rotation=0,
        fps=fps,
        variable_frame_rate=False,
        bit_rate=None,
    )
    return MediaInfo(
        container="mov",
        format_names=("mov",),
        duration_s=minutes * 60,
        bit_rate=20_000_000,
        size_bytes=None,
        video=video,
        audio=None,
        cover_art_index=None,
    )


def test_check_budget_refuses_with_the_estimate_in_minutes() -> None:
    # Given an estimate of 18.2 minutes and 15 minutes left
    # When / Then it is refused, rounding the estimate up
    with pytest.raises(MediaRejected, match=r"^too long for single-function transcoding \(est\. 19 min\)$"):
        check_budget(18.2 * 60, 15 * 60)
    check_budget(60, 15 * 60)  # a minute fits


def test_check_budget_keeps_a_reserve() -> None:
    with pytest.raises(MediaRejected, match=r"\(est\. 50 s\)"):
        check_budget(50, 60, reserve_s=20)


def test_estimate_grows_with_duration_resolution_and_preset() -> None:
    fast, slow = TranscodeOptions(preset="veryfast"), TranscodeOptions(preset="medium")
    one, ten = phone_clip(1), phone_clip(10)
    assert estimate_transcode_s(ten, fast, cores=1) > 9 * estimate_transcode_s(one, fast, cores=1)
    assert estimate_transcode_s(one, slow, cores=1) > estimate_transcode_s(one, fast, cores=1)
    hd = estimate_transcode_s(phone_clip(1, 1280, 720), fast, cores=1)
    assert hd < estimate_transcode_s(one, fast, cores=1)
    assert estimate_transcode_s(one, fast, cores=2) < estimate_transcode_s(one, fast, cores=1)
    # 4K is scaled to 1080p: it costs more (decode) but not 4x more
    uhd = estimate_transcode_s(phone_clip(1, 3840, 2160), fast, cores=1)
    assert estimate_transcode_s(one, fast, cores=1) < uhd < 2 * estimate_transcode_s(one, fast, cores=1)


def test_a_long_1080p_video_does_not_fit_one_function() -> None:
    # Given 12 minutes of 1080p30 on one vCPU at preset medium
    estimate = estimate_transcode_s(phone_clip(12), TranscodeOptions(preset="medium"), cores=1)
    # Then it is refused against a 15-minute function
    with pytest.raises(MediaRejected, match="too long for single-function transcoding"):
        check_budget(estimate, 15 * 60)


def test_stream_copy_is_cheap(av_media: AvMedia) -> None:
    info = probe(str(av_media.landscape_mp4()))
    assert estimate_transcode_s(info, TranscodeOptions(), cores=1) < 2
    assert estimate_transcode_s(info, replace(TranscodeOptions(), allow_stream_copy=False), cores=1) > 0


def test_process_video_refuses_before_doing_any_work(av_media: AvMedia, tmp_path: Path) -> None:
    # Given only 10 s left in the function (the reserve alone is 20 s)
    with pytest.raises(MediaRejected, match="too long for single-function transcoding"):
        process_video(str(av_media.landscape_mp4()), tmp_path, remaining_time_s=10)
    assert list(tmp_path.iterdir()) == []


def test_cores_follow_lambda_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1769")
    assert available_cores() == pytest.approx(1.0)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "885")
    assert available_cores() == pytest.approx(0.5, abs=0.01)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    assert available_cores() >= 1
