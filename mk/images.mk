# Image domain: benchmark (included by the root Makefile, which defines `venv`).
.PHONY: bench-images
bench-images: venv ## Image pipeline vs naive Pillow: median ms, peak RSS, speedup_vs_naive_12mp
	.venv/bin/python bench/bench_images.py
