"""Fixtures for the video/audio unit tests: generated media (once per session) and a range-capable
HTTP server. The project's ffmpeg is required: if it is missing the tests fail (run
`make ffmpeg-tools`), they are never skipped, and a system ffmpeg is never used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from media_core.engines.av.binaries import FfmpegBinaries, find_binaries

from tests.support.av_media import AvMedia
from tests.support.range_server import RangeServer


@pytest.fixture(scope="session")
def ffmpeg_bins() -> FfmpegBinaries:
    return find_binaries()  # raises FfmpegNotFoundError -> every test using media errors out


@pytest.fixture(scope="session")
def av_media(tmp_path_factory: pytest.TempPathFactory, ffmpeg_bins: FfmpegBinaries) -> AvMedia:
    return AvMedia(tmp_path_factory.mktemp("av_media"))


@pytest.fixture(scope="session")
def range_server(av_media: AvMedia) -> Iterator[RangeServer]:
    with RangeServer(av_media.dir) as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path
