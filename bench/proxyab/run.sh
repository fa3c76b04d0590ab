#!/usr/bin/env bash
# bench/proxyab/run.sh: the A/B of issue #17 item 5. The same proxy
# (bench/proxy/mmproxy: apiv4proxy.NewProxy with its defaults under a plain
# net/http server) built twice, (a) from a revision with the hand-written
# upstream client (client.go, head.go, send_unix.go, alive_unix.go) and (b)
# from the working tree (net/http's Transport), side by side in one run in
# front of bench/proxyab/upstream, a stand-in Mattermost that spends at
# least CPU (200us) of real work per request (encoding and hashing a
# users/me answer of about 800 bytes), calibrated at its start. For scale,
# "direct" is the same load straight to the upstream.
#
# wrk with 1 connection (-t1 -c1: latency of one request at a time) and
# with 64 (-t2 -c64: capacity on the shared 2 cores), ROUNDS rounds of
# DURATION s per target, the order of the targets alternating between
# rounds; the median of the rounds is reported. The rule (issue #17): the
# hand-written client stays only if it is ahead by more than 5 % of req/s,
# read at the largest connection count (see the end).
#
# Prints one line per connection count, "proxyab-cN: ...", then
# "proxyab: ... decision=...", on stdout; progress on stderr. Knobs
# (environment): A_REV (the revision for (a); default the parent of the
# commit that deleted apiv4-proxy/send_unix.go), CPU (200us), DURATION (5), ROUNDS (3),
# WARMUP (2), CONNS ("1 64").
set -euo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
CPU=${CPU:-200us}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-1 64}

log() { echo "# $*" >&2; }
die() { echo "bench/proxyab: $*" >&2; exit 1; }

if ! command -v wrk >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	log "installing wrk (Debian package)"
	$sudo apt-get install -y -qq wrk >/dev/null ||
		{ $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null; } ||
		die "could not install wrk"
fi

if [ -z "${A_REV:-}" ]; then
	if git cat-file -e HEAD:apiv4-proxy/send_unix.go 2>/dev/null; then
		A_REV=HEAD
	else
		A_REV="$(git log -1 --diff-filter=D --format=%H -- apiv4-proxy/send_unix.go)^"
	fi
fi
A_REV=$(git rev-parse --verify "$A_REV^{commit}") || die "no revision $A_REV"

WORK=$(mktemp -d)
# start runs in a command substitution (a subshell), so the processes it
# starts are listed in a file, not a variable.
cleanup() {
	if [ -f "$WORK/pids" ]; then
		while read -r p; do kill "$p" 2>/dev/null || true; done <"$WORK/pids"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

log "building (a) from ${A_REV:0:10}, (b) from the working tree, the upstream"
mkdir -p "$WORK/a"
git archive "$A_REV" | tar -x -C "$WORK/a"
(cd "$WORK/a" && $GO build -o "$WORK/mmproxy-a" ./bench/proxy/mmproxy)
$GO build -o "$WORK/mmproxy-b" ./bench/proxy/mmproxy
$GO build -o "$WORK/upstream" ./bench/proxyab/upstream

# start NAME CMD...: runs CMD, waits for its "http://host:port" line.
start() {
	local name=$1
	shift
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	echo $! >>"$WORK/pids"
	for _ in $(seq 100); do
		if url=$(grep -o 'http://[0-9.:]*' "$WORK/$name.out" | head -1) && [ -n "$url" ]; then
			echo "$url"
			return
		fi
		sleep 0.1
	done
	cat "$WORK/$name.err" >&2
	die "$name did not start"
}

UP=$(start upstream "$WORK/upstream" -cpu "$CPU")
log "$(head -1 "$WORK/upstream.out")"
A=$(start a "$WORK/mmproxy-a" -upstream "$UP")
B=$(start b "$WORK/mmproxy-b" -upstream "$UP")
declare -A URL=([direct]=$UP [a]=$A [b]=$B)
PATH_=/api/v4/users/me
for t in direct a b; do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${URL[$t]}$PATH_")" = 200 ] || die "$t does not answer 200"
done

# to_ms VALUE: wrk's "334.00us" / "1.20ms" / "1.00s" in ms.
to_ms() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# run TARGET CONNS SECONDS: prints "rps p50_ms p99_ms".
run() {
	local t=$1 c=$2 d=$3 threads=2 out
	[ "$c" -ge 2 ] || threads=1
	out=$(wrk -t"$threads" -c"$c" -d"${d}s" --latency "${URL[$t]}$PATH_")
	local rps p50 p99
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
	echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

stats() { curl -s "$UP/_stats"; }

summary=()
for c in $CONNS; do
	for t in direct a b; do run "$t" "$c" "$WARMUP" >/dev/null; done
	: >"$WORK/c$c"
	read -r n0 cpu0 < <(stats)
	for r in $(seq "$ROUNDS"); do
		order="direct a b"
		[ $((r % 2)) = 0 ] && order="b a direct"
		for t in $order; do
			res=$(run "$t" "$c" "$DURATION")
			log "c=$c round $r $t: req/s p50_ms p99_ms = $res"
			echo "$t $res" >>"$WORK/c$c"
		done
	done
	read -r n1 cpu1 < <(stats)
	up_us=$(awk -v n="$((n1 - n0))" -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.0f", (b - a) / n * 1e6 }')
	line="proxyab-c$c: upstream_cpu_us_per_request=$up_us"
	for t in direct a b; do
		rps=$(awk -v t="$t" '$1 == t { print $2 }' "$WORK/c$c" | median)
		p50=$(awk -v t="$t" '$1 == t { print $3 }' "$WORK/c$c" | median)
		p99=$(awk -v t="$t" '$1 == t { print $4 }' "$WORK/c$c" | median)
		line+=" ${t}_rps=$rps ${t}_p50_ms=$p50 ${t}_p99_ms=$p99"
		eval "rps_${t}_c$c=$rps"
	done
	ratio=$(awk -v a="$(eval echo "\$rps_a_c$c")" -v b="$(eval echo "\$rps_b_c$c")" 'BEGIN { printf "%.3f", a / b }')
	line+=" handwritten_over_transport=$ratio"
	echo "$line"
	summary+=("c$c=$ratio")
done

# The rule: the hand-written client stays only if it is ahead by more
# than 5 % of req/s, read at the largest connection count (the capacity
# on these cores); with one connection req/s is one over the latency, and
# its ratio (c1=) is printed beside.
decision=transport
last=${summary[${#summary[@]}-1]}
if awk -v r="${last#*=}" 'BEGIN { exit !(r > 1.05) }'; then
	decision=handwritten
fi
echo "proxyab: a=${A_REV:0:10} cpu=$CPU rounds=$ROUNDS duration=${DURATION}s handwritten_over_transport ${summary[*]} decision=$decision"
