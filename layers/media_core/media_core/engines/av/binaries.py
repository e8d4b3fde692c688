"""Locate the project's static ffmpeg/ffprobe pair, and the CA bundle for https inputs.

Search order: `$FFMPEG_BIN_DIR` (when set it is the only candidate), `/opt/bin` (the Lambda layer),
`<repo>/.tools/bin` (`make ffmpeg-tools`). A system ffmpeg on PATH is never used: its encoders and
behaviour differ (Debian ships 5.1), and tests must not pass only because one happens to be there.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ENV_BIN_DIR = "FFMPEG_BIN_DIR"
ENV_CA_FILE = "FFMPEG_CA_FILE"
LAMBDA_BIN_DIR = Path("/opt/bin")
# layers/media_core/media_core/engines/av/binaries.py -> parents[5] is the repository root.
REPO_TOOLS_BIN = Path(__file__).resolve().parents[5] / ".tools" / "bin"

_SYSTEM_CA_BUNDLES = (
    Path("/etc/pki/tls/certs/ca-bundle.crt"),  # Amazon Linux (the Lambda runtime)
    Path("/etc/ssl/certs/ca-certificates.crt"),  # Debian/Ubuntu/Alpine
    Path("/etc/ssl/cert.pem"),
)


class FfmpegNotFoundError(RuntimeError):
    """The pinned ffmpeg/ffprobe are not installed: a deployment error, not a media problem."""


@dataclass(frozen=True)
class FfmpegBinaries:
    ffmpeg: Path
    ffprobe: Path


def _candidates() -> list[Path]:
    explicit = os.environ.get(ENV_BIN_DIR)
    if explicit:
        return [Path(explicit)]
    return [LAMBDA_BIN_DIR, REPO_TOOLS_BIN]


def _usable(directory: Path) -> FfmpegBinaries | None:
    ffmpeg, ffprobe = directory / "ffmpeg", directory / "ffprobe"
    if all(p.is_file() and os.access(p, os.X_OK) for p in (ffmpeg, ffprobe)):
        return FfmpegBinaries(ffmpeg=ffmpeg, ffprobe=ffprobe)
    return None


@lru_cache(maxsize=1)
def find_binaries() -> FfmpegBinaries:
    """The ffmpeg/ffprobe to use (cached; call `find_binaries.cache_clear()` after changing env)."""
    tried = _candidates()
    for directory in tried:
        found = _usable(directory)
        if found is not None:
            return found
    where = ", ".join(str(d) for d in tried)
    raise FfmpegNotFoundError(
        f"ffmpeg/ffprobe not found in {where}; run `make ffmpeg-tools` locally or attach the ffmpeg "
        f"layer (/opt/bin), or set {ENV_BIN_DIR}"
    )


@lru_cache(maxsize=1)
def ca_bundle() -> str | None:
    """CA bundle for `-ca_file` on https inputs: $FFMPEG_CA_FILE, certifi, the system bundle,
    botocore's bundled one (present in every Lambda Python runtime)."""
    explicit = os.environ.get(ENV_CA_FILE)
    if explicit:
        return explicit
    try:
        import certifi

        return str(certifi.where())
    except ImportError:
        pass
    for path in _SYSTEM_CA_BUNDLES:
        if path.is_file():
            return str(path)
    spec = importlib.util.find_spec("botocore")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "cacert.pem"
        if bundled.is_file():
            return str(bundled)
    return None
