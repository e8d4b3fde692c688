# Cold start: median/p90 time to `import app` per function in fresh processes, beside the baseline
# `import boto3, pydantic`, and the heaviest imports of the API functions (-X importtime).
# Included by the root Makefile (it defines `venv`). Figures: docs/cold-start.md.
#   make bench-cold-start          the sources (layers/media_core), bytecode in a private pycache
#   make bench-cold-start-layer    the layer as `sam build` makes it, for this machine's CPU: its
#                                  bytecode and slimmed SDK (the README's figures)
COLD_START_ARGS ?=
COLD_START_LAYER := $(CURDIR)/bench/out/layer
COLD_START_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)

.PHONY: bench-cold-start bench-cold-start-layer
bench-cold-start: venv ## import time per function vs `import boto3, pydantic`; API target <= 1.5x
	.venv/bin/python bench/bench_cold_start.py $(COLD_START_ARGS)

bench-cold-start-layer: venv ## the same, on the built media_core layer (bytecode and SDK as shipped)
	rm -rf "$(COLD_START_LAYER)"
	$(MAKE) -s -C layers/media_core build-MediaCoreLayer ARTIFACTS_DIR="$(COLD_START_LAYER)" \
		LAYER_ARCH=$(COLD_START_ARCH) PYTHON="$(or $(PY312),python3.12)"
	.venv/bin/python bench/bench_cold_start.py --layer "$(COLD_START_LAYER)/python" $(COLD_START_ARGS)
