#!/usr/bin/env bash
# bench/webapp: host size per dependency, slots-rendered time cold and warm,
# push-to-visible latency. Needs node, the built host (make webapp) and
# Debian's Chromium; about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s webapp chromium >&2
[ -x bin/mmtoolkit ] || make -s build >&2
export MMTOOLKIT_BIN="$PWD/bin/mmtoolkit"
node bench/webapp/size.mjs
node bench/webapp/run.mjs
