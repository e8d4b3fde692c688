# A real browser for the end-to-end tests (tests/e2e), driven by Playwright's bundled driver (the
# `playwright` package in requirements/dev.txt). tools/browser.py finds one without privileges:
# an installed Chrome/Chromium, else `playwright install chromium` (where the network allows), else
# Debian's chromium only when already root; otherwise it says what to install. Never sudo.
# Idempotent; prints the browser's path. Included by the root Makefile (it defines `venv`).
#   MEDIA_E2E_CHROMIUM=/path/to/chrome make test    # use that browser
#   MEDIA_BROWSER_DOWNLOAD=0 make browser           # skip Playwright's download

.PHONY: browser
browser: venv
	@$(PY) -m tools.browser

TEST_DEPS += browser
