#!/usr/bin/env bash
# bench/serving/profile.sh SCENARIO [SECONDS]: where bin/mmtoolkit spends its
# CPU under the load of one run.sh benchmark, sampled with Linux perf (the
# real binary: the server has no pprof endpoint, and Go keeps frame
# pointers, so perf's call graphs are good).
#
#   SCENARIO: manifest-200 | manifest-304 | bundle-gzip | memory
#
# Writes perf.data to OUT (default /tmp/mmtoolkit-SCENARIO.perf) and prints
# the NODES (default 30) hottest functions by self time and by total time.
# Read more with: perf report -i OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/serving/lib.sh

scenario=${1:?usage: bench/serving/profile.sh manifest-200|manifest-304|bundle-gzip|memory [SECONDS]}
secs=${2:-10}
OUT=${OUT:-/tmp/mmtoolkit-$scenario.perf}

PIDS=()
WORK=$(workdir)
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop "$p"; done
	rm -rf "$WORK"
}
trap cleanup EXIT

ensure_tools
if ! command -v perf >/dev/null 2>&1; then
	log "installing linux-perf (Debian package)"
	apt-get install -y -qq linux-perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
fi
build_mmtoolkit
$GO build -o "$WORK/genplugin" ./bench/serving/genplugin
$GO build -o "$WORK/seed" ./bench/serving/seed

case $scenario in
manifest-200 | manifest-304 | bundle-gzip)
	start_mmtoolkit "$WORK/data"
	fixture_plugins
	case $scenario in
	manifest-200) url=$MANIFEST args=(-H "$AUTH") ;;
	manifest-304) url=$MANIFEST args=(-H "$AUTH" -H "If-None-Match: $ETAG") ;;
	bundle-gzip) url=$MM_URL$BUNDLE args=(-H 'Accept-Encoding: gzip') ;;
	esac
	;;
memory)
	fixture_memory
	url=$MM_URL/ args=(-H "$ADMIN" -s "$TEAMS_LUA")
	;;
*) die "unknown scenario $scenario" ;;
esac

log "$scenario: warm-up ${WARMUP}s, then ${secs}s of perf under wrk -t$THREADS -c$CONNS"
wrk_run "$WARMUP" "$url" "${args[@]}" >/dev/null
SERVER_PID=$MM_PID wrk_run $((secs + 2)) "$url" "${args[@]}" >"$WORK/wrk.out" &
WRK_PID=$!
sleep 1
perf record -q -F 997 -g -p "$MM_PID" -o "$OUT" -- sleep "$secs" 2>/dev/null
wait "$WRK_PID"
read -r rps p99 cpu others <"$WORK/wrk.out"
echo "# $scenario under perf: $rps req/s p99 ${p99}ms ${cpu}us CPU/req (others took ${others}% of the CPUs), RSS $(rss_kib "$MM_PID" VmRSS) KiB; perf data in $OUT"
echo "## by self time"
perf report -i "$OUT" --stdio --no-children -g none --sort symbol --percent-limit 0.5 2>/dev/null |
	grep -v '^#' | grep -v '^$' | sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//' | head -n "${NODES:-30}"
echo "## by total time (self + callees)"
perf report -i "$OUT" --stdio --children -g none --sort symbol --percent-limit 2 2>/dev/null |
	grep -v '^#' | grep -v '^$' | sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//' | head -n "${NODES:-30}"
