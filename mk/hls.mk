# HLS engine: segment-parallel vs single-pass benchmark (included by the root Makefile, which
# defines `venv`; ffmpeg-tools comes from mk/ffmpeg.mk). SECONDS=120 by default.
.PHONY: bench-hls
bench-hls: venv ffmpeg-tools ## HLS: parallel vs single bitrate/SSIM/core-s ratios, 60-min Lambda projection
	.venv/bin/python bench/bench_hls.py --seconds $(or $(SECONDS),120)
