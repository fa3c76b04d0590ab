#!/usr/bin/env bash
# bench/embed: embed.js size and the time from an embedding page's load to
# the channel's last message drawn, cold and warm, in headless Chromium on
# loopback (two origins). Needs node, the built host (make webapp) and
# Debian's Chromium; about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s webapp chromium >&2
make -s build >&2 # go's cache makes this quick; never a stale binary
export MMTOOLKIT_BIN="${MMTOOLKIT_BIN:-$PWD/bin/mmtoolkit}"
node bench/embed/run.mjs
