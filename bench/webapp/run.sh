#!/usr/bin/env bash
# bench/webapp: host size per dependency, slots-rendered time cold and warm,
# push-to-visible latency. Needs node, the built host (make webapp) and
# Debian's Chromium; about two minutes (3 plugins, then 30).
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s webapp chromium >&2
make -s build >&2 # go's cache makes this quick; never a stale binary
export MMTOOLKIT_BIN="$PWD/bin/mmtoolkit"
node bench/webapp/size.mjs
node bench/webapp/run.mjs
# A prebuilt plugin reading every lazy library against one reading none.
node bench/webapp/lazy.mjs
# The same page with 30 enabled plugins (27 more, each a post type and a
# header button): slots-cold/slots-warm lines only.
EXTRA=27 PUSHES=1 node bench/webapp/run.mjs | grep '^slots-'

