# Burst: 200 photos uploaded concurrently through the local stack (loopback only, bounded wait).
# Included by the root Makefile (it defines `venv`; mk/ffmpeg.mk defines `ffmpeg-tools`).
BURST_ARGS ?=

.PHONY: bench-burst
bench-burst: venv ffmpeg-tools ## time until 200 concurrent uploads are ready; 0 lost, 0 duplicated, DLQ empty
	.venv/bin/python bench/bench_burst.py $(BURST_ARGS)
