# mmtoolkit: the two commands are `make run` and `make test`. Each does its own
# set-up on a fresh machine (Go modules, npm dependencies, tools).

GO      ?= go
BIN     := bin/mmtoolkit
ADDR    ?= 127.0.0.1:8065
DATA    ?= data
# Go test flags; CI=true makes missing tools failures instead of skips.
GOTEST_FLAGS ?= -count=1 -timeout 15m
# The pinned hermesc (make mobile) that compiles mobile bundles to bytecode.
HERMESC := mobile/tools/node_modules/hermes-compiler/hermesc/linux64-bin/hermesc
# The pinned Dart Sass (make sass) that compiles plugins' .scss/.sass imports.
SASS := bundler/sass/node_modules/sass-embedded-linux-x64/dart-sass/sass

.PHONY: run test build deps tools server-deps vet unit race e2e bench fuzz clean webapp webapp-test browser chromium mobile mobile-test plugins-test sass screenshots

## run: build and start the server with the sandbox (prints the URL and demo logins),
## and docs/embed.md's example site on a second origin (EMBED_EXAMPLE; empty: none)
EMBED_EXAMPLE ?= 127.0.0.2:8066
run: build
	./$(BIN) serve --addr $(ADDR) --data $(DATA) $(if $(EMBED_EXAMPLE),--embed-example $(EMBED_EXAMPLE))

## test: everything CI runs. deps first; then every suite runs whatever the
## others did (scripts/test-all.sh), a PASS/FAIL summary with durations is
## printed, and the exit status is 1 if any failed.
TEST_SUITES := vet unit race webapp-test plugins-test browser mobile-test
test: deps
	@MAKE="$(MAKE)" bash scripts/test-all.sh $(TEST_SUITES)

# VERSION is what `mmtoolkit --version` prints: the git description of the
# checkout (tag, or commit, "-dirty" with uncommitted changes), else "dev".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
build: deps webapp $(HERMESC) $(SASS) mobile/preview/dist/preview.js
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/mmtoolkit

## webapp: the Redux webapp host (webapp/): npm ci when package-lock.json
## changed, then an esbuild build into webapp/dist/, which the binary embeds
WEBAPP_SRC := $(shell find webapp/src -type f 2>/dev/null) webapp/build.mjs webapp/package.json
webapp: webapp/dist/manifest.json

webapp/node_modules/.mmtoolkit-ci: webapp/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
	cd webapp && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

webapp/dist/manifest.json: webapp/node_modules/.mmtoolkit-ci $(WEBAPP_SRC)
	cd webapp && node build.mjs

## webapp-test: type check and Vitest unit tests of the host
webapp-test: webapp/node_modules/.mmtoolkit-ci
	cd webapp && npx tsc --noEmit -p . && npx vitest run

## plugins-test: type-check the reference plugins (plugins/): web parts against
## the published plugin types (webapp/sdk) with the host's React, mobile parts
## against the host library (mobile/src) with React Native's types
plugins-test: webapp/node_modules/.mmtoolkit-ci mobile/node_modules/.mmtoolkit-ci plugins/node_modules/.mmtoolkit-ci
	webapp/node_modules/.bin/tsc -p plugins/tsconfig.web.json
	mobile/node_modules/.bin/tsc -p plugins/tsconfig.mobile.json

plugins/node_modules/.mmtoolkit-ci: plugins/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
	cd plugins && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## browser: the host in Debian's Chromium against a real server (webapp/e2e)
browser: build chromium
	cd webapp && MMTOOLKIT_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 e2e/

## screenshots: refresh the README's screenshots (docs/screenshots/): the
## reference plugins' browser tests and the mobile preview's, run with
## MMTOOLKIT_SCREENSHOTS pointing there (a plain test run writes them to
## webapp/test-artifacts/screenshots/ and mobile/preview/e2e/out/, ignored)
SHOTS_ENV = MMTOOLKIT_SCREENSHOTS=$(CURDIR)/docs/screenshots MMTOOLKIT_BIN=$(CURDIR)/$(BIN)
screenshots: build chromium mobile/node_modules/.mmtoolkit-ci
	cd webapp && $(SHOTS_ENV) node --test --test-concurrency=1 e2e/ref_video.test.mjs e2e/ref_map.test.mjs e2e/ref_appcenter.test.mjs
	$(SHOTS_ENV) node --test --test-concurrency=1 mobile/preview/e2e/reference.test.mjs

## chromium: Debian's Chromium for the browser tests (missing under CI=true is a failure)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (Debian package)"; \
		(apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; \
	} || true
	@command -v chromium >/dev/null 2>&1 || { echo "chromium is missing and could not be installed"; [ "$$CI" != true ]; }

## mobile: the React Native host library's npm dependencies (mobile/) and the
## pinned hermesc (mobile/tools/) that compiles mobile bundles to Hermes
## bytecode; serve finds it there. Missing under CI=true fails the Go tests.
mobile: $(HERMESC) mobile/node_modules/.mmtoolkit-ci

$(HERMESC): mobile/tools/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
	cd mobile/tools && npm ci --no-audit --no-fund --loglevel=error
	@test -x $@ && touch $@

## sass: the pinned Dart Sass (bundler/sass/, npm sass-embedded-linux-x64) that
## compiles plugins' SCSS; serve finds it there. Missing under CI=true fails the Go tests.
sass: $(SASS)

$(SASS): bundler/sass/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
	cd bundler/sass && npm ci --no-audit --no-fund --loglevel=error
	@test -x $@ && touch $@

mobile/node_modules/.mmtoolkit-ci: mobile/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
	cd mobile && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## mobile-test: type check and Jest (React Native preset) of the host library
## against a real server (the binary `build` makes)
mobile-test: build chromium mobile/node_modules/.mmtoolkit-ci
	# --runInBand: the test files share one server (test/globalSetup.js), one at a time.
	cd mobile && npx tsc --noEmit -p . && MMTOOLKIT_BIN=$(CURDIR)/$(BIN) npx jest --ci --runInBand
	MMTOOLKIT_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 mobile/preview/e2e/

## the /mobile-preview app (react-native-web), embedded by the binary
MOBILE_PREVIEW_SRC := $(shell find mobile/src mobile/preview -name '*.ts*' 2>/dev/null) mobile/preview/build.mjs
mobile/preview/dist/preview.js: mobile/node_modules/.mmtoolkit-ci $(MOBILE_PREVIEW_SRC)
	cd mobile && node preview/build.mjs

## deps: Go modules and the tools the tests use (node for executing bundles)
deps:
	$(GO) mod download
	@command -v node >/dev/null 2>&1 || $(MAKE) tools

tools:
	@if ! command -v node >/dev/null 2>&1; then \
		echo "installing node (Debian package)"; \
		(apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null; \
	fi

## server-deps: PostgreSQL and nginx, which the Go tests run for real (the
## registry's PostgreSQL store, the multi-replica test), installed from Debian
## when missing; nothing is started (scripts/server-deps.sh). Missing under
## CI=true is a failure.
server-deps:
	@bash scripts/server-deps.sh

vet: webapp
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

unit: server-deps webapp $(HERMESC) $(SASS) mobile/preview/dist/preview.js
	$(GO) test $(GOTEST_FLAGS) ./...

race: server-deps
	$(GO) test -race $(GOTEST_FLAGS) ./registry/... ./server/... ./apiv4-proxy/... ./internal/app/...

## bench: every benchmark of bench/ (see bench/README.md); results go in docs/benchmarks.md
bench: build
	bash bench/run-all.sh

## fuzz: every fuzz target for FUZZTIME each (default 5m), two at a time;
## what each run found is kept in testdata/fuzz/ to commit (bench/fuzz.sh)
FUZZTIME ?= 5m
fuzz:
	FUZZTIME=$(FUZZTIME) bash bench/fuzz.sh

clean:
	rm -rf bin webapp/dist/static webapp/dist/*.json
