# ffmpeg for local development, tests and the video benchmark: the same pinned static binaries the
# Lambda layer ships (layers/ffmpeg), for the host architecture, in $(TOOLS_BIN). Never a system ffmpeg.
# Included by the root Makefile, which provides the `venv` target.

TOOLS_BIN ?= .tools/bin
FFMPEG_HOST_ARCH := $(shell uname -m)

$(TOOLS_BIN)/ffmpeg: layers/ffmpeg/fetch_ffmpeg.sh
	bash scripts/fetch_ffmpeg.sh "$(FFMPEG_HOST_ARCH)" "$(TOOLS_BIN)"
	@touch "$@"

.PHONY: ffmpeg-tools bench-video
ffmpeg-tools: $(TOOLS_BIN)/ffmpeg

bench-video: venv ffmpeg-tools
	.venv/bin/python bench/bench_video.py
