"""Which ffmpeg runs: the pinned static build, never one from PATH."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_core.engines.av import binaries
from media_core.engines.av.binaries import FfmpegBinaries, FfmpegNotFoundError, find_binaries


@pytest.fixture
def fresh_lookup() -> Iterator[None]:
    find_binaries.cache_clear()
    yield
    find_binaries.cache_clear()


def test_project_ffmpeg_is_the_pinned_static_build(ffmpeg_bins: FfmpegBinaries) -> None:
    # Given the binaries the domain found
    # When asking them for their version
    out = subprocess.run(
        [str(ffmpeg_bins.ffmpeg), "-hide_banner", "-version"], capture_output=True, check=True
    ).stdout.decode()
    # Then it is ffmpeg 8.x with the encoders the pipeline relies on, from a project location
    assert out.startswith("ffmpeg version n8."), out.splitlines()[0]
    encoders = subprocess.run(
        [str(ffmpeg_bins.ffmpeg), "-hide_banner", "-encoders"], capture_output=True, check=True
    ).stdout.decode()
    for name in ("libx264", "aac", "libmp3lame", "mjpeg", "libopus"):
        assert f" {name} " in encoders
    assert ffmpeg_bins.ffmpeg.parent in {
        Path("/opt/bin"),
        binaries.REPO_TOOLS_BIN,
    } or ffmpeg_bins.ffmpeg.parent == Path(__import__("os").environ.get(binaries.ENV_BIN_DIR, "/nonexistent"))


def test_explicit_dir_without_binaries_fails_instead_of_falling_back(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_lookup: None,
) -> None:
    # Given FFMPEG_BIN_DIR points at an empty directory (and PATH might hold some other ffmpeg)
    monkeypatch.setenv(binaries.ENV_BIN_DIR, str(tmp_path))
    # When / Then the lookup refuses rather than using anything else
    with pytest.raises(FfmpegNotFoundError, match="make ffmpeg-tools"):
        find_binaries()


def test_explicit_dir_is_used(
    monkeypatch: pytest.MonkeyPatch, ffmpeg_bins: FfmpegBinaries, fresh_lookup: None
) -> None:
    # Given FFMPEG_BIN_DIR names a directory holding both binaries
    monkeypatch.setenv(binaries.ENV_BIN_DIR, str(ffmpeg_bins.ffmpeg.parent))
    # When / Then those are the ones used
    assert find_binaries().ffprobe == ffmpeg_bins.ffmpeg.parent / "ffprobe"
