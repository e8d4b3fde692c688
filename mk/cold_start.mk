# Cold start: median/p90 time to `import app` per function in fresh processes, beside the baseline
# `import boto3, pydantic`, and the heaviest imports of the API functions (-X importtime).
# Included by the root Makefile (it defines `venv`). Figures: docs/cold-start.md.
COLD_START_ARGS ?=

.PHONY: bench-cold-start
bench-cold-start: venv ## import time per function vs `import boto3, pydantic`; API target <= 1.5x
	.venv/bin/python bench/bench_cold_start.py $(COLD_START_ARGS)
