# `sam local invoke` / `sam local start-api` against the local stack's emulator (`make run`), in
# Docker. Writes SAM's --env-vars file with the names `make run` provisions and AWS_ENDPOINT_URL on
# the emulator, plus a copy of the template that declares the emulator variables (SAM ignores
# --env-vars entries a template does not declare). See docs/sam-local.md.
# Included by the root Makefile (it defines `venv` and $(PY)).
#   make sam-local-env [SAM_LOCAL_PORT=4566] [SAM_LOCAL_HOST=host.docker.internal]
# On Linux (no host.docker.internal for a 127.0.0.1 listener): SAM_LOCAL_HOST=127.0.0.1 and
# `sam local ... --docker-network host`.

SAM_LOCAL_PORT ?= $(or $(MEDIA_LOCAL_AWS_PORT),4566)
SAM_LOCAL_HOST ?= host.docker.internal
SAM_LOCAL_ENV ?= .aws-sam/sam-local/env.json
SAM_LOCAL_TEMPLATE ?= .aws-sam/sam-local/template.json

.PHONY: sam-local-env
sam-local-env: venv ## env-vars JSON + template for `sam local` against `make run`'s emulator
	$(PY) -m tools.sam_local_env --port "$(SAM_LOCAL_PORT)" --host "$(SAM_LOCAL_HOST)" \
		--out "$(SAM_LOCAL_ENV)" --template-out "$(SAM_LOCAL_TEMPLATE)"

# tests/unit/tooling checks with SAM CLI's own code (no Docker) that it applies the generated file.
TEST_DEPS += sam-venv
