# The upload page's browser libraries (web/package.json, pinned by web/package-lock.json): `npm ci`
# into web/node_modules, then the files the page imports are copied to web/vendor/ (served by the
# local stack at /web/vendor/; no CDN). Both directories are gitignored. To add a library (e.g.
# hls.js): add it to web/package.json (`cd web && npm install --save-exact hls.js@X`) and its dist
# file to WEB_VENDOR. `make run` and `make test` depend on web-deps.
WEB_VENDOR := uppy/dist/uppy.min.mjs hls.js/dist/hls.mjs

.PHONY: web-deps
web/node_modules/.installed: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (20+) for the upload page's libraries"; exit 1; }
	cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

web/vendor/.copied: web/node_modules/.installed mk/web.mk
	mkdir -p web/vendor
	for f in $(WEB_VENDOR); do cp web/node_modules/$$f web/vendor/; done
	touch $@

web-deps: web/vendor/.copied

run: web-deps
TEST_DEPS += web-deps
