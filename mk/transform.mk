# Delivery: on-demand transformation benchmark (included by the root Makefile, which defines `venv`).
.PHONY: bench-transform
bench-transform: venv ## Transform latency warm/cold (320/640/1280 from 12 MP) vs reading an eager variant; auto vs JPEG bytes
	.venv/bin/python bench/bench_transform.py

.PHONY: test-cloudfront
test-cloudfront: ## The CloudFront Function's own tests (node --test; pytest also runs the shared cases)
	node --test cloudfront/
