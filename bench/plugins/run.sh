#!/usr/bin/env bash
# bench/plugins/run.sh: the reference plugins' sizes and compile times (web
# and mobile), then their Hermes bytecode (bench/mobile on the same
# packages). About 20 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./bench/plugins -n 9
make -s mobile/tools/node_modules/hermes-compiler/hermesc/linux64-bin/hermesc >&2
go run ./bench/mobile -n 5 plugins/video plugins/map plugins/appcenter
