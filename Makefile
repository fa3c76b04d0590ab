# mmtoolkit: the two commands are `make run` and `make test`. Each does its own
# set-up on a fresh machine (Go modules, npm dependencies, tools).

GO      ?= go
BIN     := bin/mmtoolkit
ADDR    ?= 127.0.0.1:8065
DATA    ?= data
# Go test flags; CI=true makes missing tools failures instead of skips.
GOTEST_FLAGS ?= -count=1 -timeout 15m

.PHONY: run test build deps tools vet unit race e2e bench fuzz clean

## run: build and start the server with the sandbox (prints the URL and demo logins)
run: build
	./$(BIN) serve --addr $(ADDR) --data $(DATA)

## test: everything CI runs
test: deps vet unit race
	@echo "make test: all passed"

build: deps
	$(GO) build -o $(BIN) ./cmd/mmtoolkit

## deps: Go modules and the tools the tests use (node for executing bundles)
deps:
	$(GO) mod download
	@command -v node >/dev/null 2>&1 || $(MAKE) tools

tools:
	@if ! command -v node >/dev/null 2>&1; then \
		echo "installing node (Debian package)"; \
		(apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null; \
	fi

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

unit:
	$(GO) test $(GOTEST_FLAGS) ./...

race:
	$(GO) test -race $(GOTEST_FLAGS) ./registry/... ./server/... ./apiv4-proxy/...

## bench: every benchmark of bench/ (see bench/README.md); results go in docs/benchmarks.md
bench: build
	bash bench/run-all.sh

## fuzz: run each fuzzer for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzReadArchive -fuzztime=$(FUZZTIME) ./bundler/pluginpkg/
	$(GO) test -run='^$$' -fuzz=FuzzParseManifest -fuzztime=$(FUZZTIME) ./bundler/pluginpkg/

clean:
	rm -rf bin
