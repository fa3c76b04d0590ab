#!/usr/bin/env bash
# bench/mobile/run.sh: mobile bundle sizes (JS and gzip vs Hermes bytecode),
# esbuild and hermesc compile times, and the cost of a mobile manifest
# request cached vs rebuilt and signed. About 30 s. See RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s mobile/tools/node_modules/hermes-compiler/hermesc/linux64-bin/hermesc >&2
echo "== bundle sizes and compile times" >&2
go run ./bench/mobile -n 5 2>&1 >&2 | grep '^mobile ' || true
echo "== manifest request cost" >&2
go test -run '^$' -bench MobileManifest -benchtime 2000x ./server/ |
	awk '/^BenchmarkMobileManifest/ {sub(/-[0-9]+$/, "", $1); print "mobile-manifest " $1 " ns_per_op=" $3}'
