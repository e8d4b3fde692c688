# A real browser for the end-to-end tests (tests/e2e): Debian's chromium, driven by Playwright's
# bundled driver (the `playwright` package in requirements/dev.txt). Playwright's own browser
# download is never used (`playwright install` is not run: only package registries are reachable).
# Idempotent: a no-op when /usr/bin/chromium is already there. Included by the root Makefile.

CHROMIUM ?= /usr/bin/chromium

.PHONY: browser
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
	@test -x "$(CHROMIUM)" || { echo "chromium is missing at $(CHROMIUM)"; exit 1; }

TEST_DEPS += browser
