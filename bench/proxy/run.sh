#!/usr/bin/env bash
# bench/proxy/run.sh: the same small GET (a 200-byte JSON answer) straight
# to an upstream, through nginx proxy_pass, and through mmtoolkit's proxy as
# it runs (`mmtoolkit serve --upstream`: the Edge's fast lane, metrics,
# apiv4proxy), side by side in one run on loopback; for scale also the
# proxy alone under a plain net/http server (bench/proxy/mmproxy, "alone")
# and Go's httputil.ReverseProxy with a tuned Transport (mmproxy -impl
# stdlib).
#
# Goal (the proxy issue): mmtoolkit at least 0.8x nginx's requests/s, and its
# added p50 latency (its p50 minus the direct p50) no more than nginx's.
#
# nginx is configured as Mattermost's documentation recommends (HTTP/1.1 to
# the upstream, keepalive pool of 64, X-Real-IP/X-Forwarded-* set), plus
# keepalive_requests raised so that it never reconnects mid-run.
#
# Two phases, both reported; they answer different questions:
#
# 1. Closed loop (wrk -t2 -c64): each connection sends its next request as
#    soon as the last answer arrives, so every target runs at its capacity
#    on the 2 shared cores. req/s is that capacity. The p50 there is mostly
#    the queue of 64 requests (Little's law: 64 / req/s), so it follows the
#    CPU each request costs; "added_p50_*" (target p50 minus direct p50)
#    is the latency a proxy adds *at saturation*.
# 2. Open loop (bench/serving/rateload): the same GET at ONE fixed rate for
#    every target, OPEN_FRACTION (0.5) of the lowest median req/s phase 1
#    measured among the OPEN_TARGETS, so each target is well under its
#    capacity, over CONNS connections, ROUNDS rounds alternating the
#    targets, DURATION s each. Latency counts from when each request was
#    due (no coordinated omission). "added_p50_open_*" (target p50 minus
#    direct p50, medians of the rounds) is the latency a proxy adds *at
#    equal load*: its own service time plus the queueing its CPU cost
#    causes at that rate. rateload releases due requests every 0.5 ms, so
#    every p50 includes part of that step; it is the same for all targets
#    and cancels in the differences. cpu_us_per_request_open is the CPU per
#    request at that rate (less batching per wake-up than at saturation).
#
# Prints the summary on stdout: the closed-loop line "proxy: ..." (its
# fields as they always were, then open_rate= and added_p50_open_*= at the
# end) and a second line "proxy-open-loop: ..." with each target's p50 and
# p99 at that rate. Progress goes to stderr. Knobs (environment): DURATION
# (s per run, 10), ROUNDS (3, the median is reported), WARMUP (s, 3),
# CONNS (64), THREADS (2), OPEN_FRACTION (0.5), OPEN_RATE (req/s; overrides
# OPEN_FRACTION), OPEN_TARGETS ("direct nginx mmtoolkit"; "alone" and
# "stdlib" may be added, and then count for the rate too), KEEP=1 keeps the
# scratch directory, PROFILE=1 writes a 10 s CPU profile of the proxy
# under load to PROFILE_OUT (default /tmp/mmtoolkit-proxy-cpu.pprof).
set -euo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
OPEN_FRACTION=${OPEN_FRACTION:-0.5}
OPEN_TARGETS=${OPEN_TARGETS:-direct nginx mmtoolkit}

log() { echo "# $*" >&2; }
die() { echo "bench/proxy: $*" >&2; exit 1; }

need=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	log "installing ${need[*]} (Debian packages)"
	$sudo apt-get install -y -qq "${need[@]}" >/dev/null ||
		{ $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null; } ||
		die "could not install ${need[*]}"
fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	WORK=$(mktemp -d /dev/shm/mmtoolkit-bench-proxy.XXXXXX)
else
	WORK=$(mktemp -d)
fi
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${KEEP:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

# start NAME PATTERN CMD...: starts a program that prints its URL; sets URL.
start() {
	local name=$1 pattern=$2
	shift 2
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PIDS+=($!)
	for _ in $(seq 1 100); do
		URL=$(grep -o "$pattern http://[0-9.:]*" "$WORK/$name.out" 2>/dev/null | head -1 | awk '{print $NF}') || true
		[ -n "$URL" ] && return
		sleep 0.1
	done
	cat "$WORK/$name.err" >&2
	die "$name did not start"
}

# busy_percent SECONDS: how busy the CPUs were (all processes), from /proc/stat.
busy_percent() {
	local a b
	a=($(head -1 /proc/stat))
	sleep "$1"
	b=($(head -1 /proc/stat))
	local idle=$(((b[4] + b[5]) - (a[4] + a[5]))) total=0 i
	for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
	echo $((100 * (total - idle) / (total > 0 ? total : 1)))
}

log "building the upstream and the proxies"
$GO build -o "$WORK/upstream" ./bench/proxy/upstream
$GO build -o "$WORK/mmproxy" ./bench/proxy/mmproxy
$GO build -o "$WORK/rateload" ./bench/serving/rateload
MMTOOLKIT_BIN=${MMTOOLKIT_BIN:-}
if [ -z "$MMTOOLKIT_BIN" ]; then
	$GO build -o bin/mmtoolkit ./cmd/mmtoolkit
	MMTOOLKIT_BIN=$PWD/bin/mmtoolkit
fi

start upstream "listening on" "$WORK/upstream" -addr 127.0.0.1:0
DIRECT_URL=$URL
UP_PID=${PIDS[-1]}
UP_HOSTPORT=${DIRECT_URL#http://}
start serve "serving on" "$MMTOOLKIT_BIN" serve --addr 127.0.0.1:0 --data "$WORK/serve-data" \
	--upstream "$DIRECT_URL" --reference-plugins=false
MM_URL=$URL
MM_PID=${PIDS[-1]}
start mmproxy "serving on" "$WORK/mmproxy" -addr 127.0.0.1:0 -upstream "$DIRECT_URL"
ALONE_URL=$URL
ALONE_PID=${PIDS[-1]}
start stdlib "serving on" "$WORK/mmproxy" -addr 127.0.0.1:0 -upstream "$DIRECT_URL" -impl stdlib
STDLIB_URL=$URL
STDLIB_PID=${PIDS[-1]}

NPORT=$(free_port)
mkdir -p "$WORK/nginx/tmp"
user=""
[ "$(id -u)" = 0 ] && user="user root;"
cat >"$WORK/nginx/nginx.conf" <<EOF
# Generated by bench/proxy/run.sh: proxy_pass as Mattermost's docs configure it.
$user
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    upstream mattermost {
        server $UP_HOSTPORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NPORT;
        client_max_body_size 100M;
        location / {
            proxy_pass http://mattermost;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
    }
}
EOF
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -t -q || die "nginx rejects its configuration"
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
NGINX_PID=$!
NGINX_URL=http://127.0.0.1:$NPORT
for _ in $(seq 1 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$NPORT") 2>/dev/null && break
	sleep 0.1
done
NGINX_PIDS="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"

# All three must answer the same bytes before anything is measured.
PATH_Q=/api/v4/users/me/status
curl -fsS -o "$WORK/direct.body" "$DIRECT_URL$PATH_Q" || die "the upstream does not answer"
for t in "$NGINX_URL" "$MM_URL" "$ALONE_URL" "$STDLIB_URL"; do
	curl -fsS -o "$WORK/check.body" "$t$PATH_Q" || die "$t does not answer"
	cmp -s "$WORK/check.body" "$WORK/direct.body" || die "$t answers other bytes"
done

# cpu_ticks PID...: user+system CPU ticks the processes used so far.
cpu_ticks() {
	local p t=0
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}

# wrk_run SECONDS URL PID...: prints "REQS_PER_S P50_MS CPU_US_PER_REQ",
# the last being the CPU time the PIDs (the proxy's processes) spent per
# request: a measure of the proxy's cost that does not depend on how much
# of the shared CPUs it got. A run with errors is repeated (at most twice,
# logged); a third failure stops the benchmark.
wrk_run() {
	local secs=$1 url=$2 out before after try
	shift 2
	for try in 1 2 3; do
		before=$(cpu_ticks "$@")
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --latency "$url" 2>&1) || die "wrk failed: $out"
		after=$(cpu_ticks "$@")
		if grep -q 'Non-2xx or 3xx' <<<"$out"; then die "wrk saw error responses from $url: $out"; fi
		if ! grep -Eq 'Socket errors:.*(connect|read|write|timeout) [1-9]' <<<"$out"; then break; fi
		[ "$try" -lt 3 ] || die "wrk saw socket errors from $url three times: $out"
		log "socket errors from $url (try $try), running again: $(grep 'Socket errors' <<<"$out")"
	done
	awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
		function ms(v) {
			if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
			if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
			if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
			return v
		}
		$1 == "Requests/sec:" { rps = $2 }
		$1 == "50%" { p50 = ms($2) }
		$2 == "requests" && $3 == "in" { n = $1 }
		END { printf "%.0f %.3f %.1f\n", rps, p50, ticks / hz * 1e6 / n }' <<<"$out"
}

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

echo "# bench/proxy $(date -u +%Y-%m-%dT%H:%MZ): $(nproc) cores shared by wrk, the upstream and the proxy (nothing pinned);" \
	"other processes kept the CPUs $(busy_percent 2)% busy just before;" \
	"wrk -t$THREADS -c$CONNS on 127.0.0.1, GET $PATH_Q ($(wc -c <"$WORK/direct.body")-byte answer)," \
	"${WARMUP}s warm-up each, median of $ROUNDS x ${DURATION}s runs alternating direct, nginx, mmtoolkit, alone, stdlib"

declare -A TARGET=([direct]=$DIRECT_URL$PATH_Q [nginx]=$NGINX_URL$PATH_Q [mmtoolkit]=$MM_URL$PATH_Q
	[alone]=$ALONE_URL$PATH_Q [stdlib]=$STDLIB_URL$PATH_Q)
# Whose CPU time counts for each target: the proxy's (the upstream's for direct).
declare -A CPU_PIDS=([direct]=$UP_PID [nginx]=$NGINX_PIDS [mmtoolkit]=$MM_PID [alone]=$ALONE_PID [stdlib]=$STDLIB_PID)
ORDER=(direct nginx mmtoolkit alone stdlib)
for name in "${ORDER[@]}"; do
	log "warm-up $name"
	wrk_run "$WARMUP" "${TARGET[$name]}" ${CPU_PIDS[$name]} >/dev/null
done
for round in $(seq 1 "$ROUNDS"); do
	for name in "${ORDER[@]}"; do
		r=$(wrk_run "$DURATION" "${TARGET[$name]}" ${CPU_PIDS[$name]})
		log "round $round $name: $r (req/s, p50 ms, proxy CPU us/request)"
		echo "$r" >>"$WORK/$name.runs"
	done
done

declare -A RPS P50 CPU
for name in "${ORDER[@]}"; do
	RPS[$name]=$(awk '{print $1}' "$WORK/$name.runs" | median)
	P50[$name]=$(awk '{print $2}' "$WORK/$name.runs" | median)
	CPU[$name]=$(awk '{print $3}' "$WORK/$name.runs" | median)
done
# Phase 2, the open loop: one rate for every target, under each one's
# capacity (see the header).
for name in $OPEN_TARGETS; do
	[ -n "${TARGET[$name]:-}" ] || die "OPEN_TARGETS: unknown target $name (one of ${ORDER[*]})"
done
[[ " $OPEN_TARGETS " == *" direct "* ]] || die "OPEN_TARGETS must include direct: the added latency is counted from it"
if [ -n "${OPEN_RATE:-}" ]; then
	RATE=$OPEN_RATE
	RATE_WHY="OPEN_RATE"
else
	lowest=$(for name in $OPEN_TARGETS; do echo "${RPS[$name]} $name"; done | sort -g | head -1)
	RATE=$(awk -v l="${lowest% *}" -v f="$OPEN_FRACTION" 'BEGIN { printf "%d", l * f }')
	RATE_WHY="${OPEN_FRACTION}x ${lowest#* }'s ${lowest% *} req/s"
fi
[ "$RATE" -gt 0 ] 2>/dev/null || die "open-loop rate $RATE is not a positive number of requests per second"
log "open loop at $RATE req/s ($RATE_WHY), $CONNS connections, $ROUNDS x ${DURATION}s alternating $OPEN_TARGETS"

# open_run URL PID...: prints "P50_MS P99_MS CPU_US_PER_REQ SENT_PER_S
# LATE" from one rateload run at RATE; an answer that is not 2xx/3xx or
# a broken connection stops the benchmark.
open_run() {
	local url=$1 out before after
	shift
	before=$(cpu_ticks "$@")
	out=$("$WORK/rateload" -rate "$RATE" -duration "${DURATION}s" -conns "$CONNS" "$url" 2>&1) ||
		die "rateload failed: $out"
	after=$(cpu_ticks "$@")
	read -r sent p50 _ p99 _ errors late <<<"$out"
	[ "$errors" = 0 ] || die "rateload saw $errors failed requests from $url: $out"
	awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n=$((RATE * DURATION)) \
		-v p50="$p50" -v p99="$p99" -v sent="$sent" -v late="$late" \
		'BEGIN { printf "%.3f %.3f %.1f %.0f %d\n", p50, p99, ticks / hz * 1e6 / n, sent, late }'
}

for round in $(seq 1 "$ROUNDS"); do
	for name in $OPEN_TARGETS; do
		r=$(open_run "${TARGET[$name]}" ${CPU_PIDS[$name]})
		log "open round $round $name: $r (p50 ms, p99 ms, proxy CPU us/request, sent req/s, late)"
		echo "$r" >>"$WORK/$name.open"
	done
done
declare -A OP50 OP99 OCPU
LATE=0
for name in $OPEN_TARGETS; do
	OP50[$name]=$(awk '{print $1}' "$WORK/$name.open" | median)
	OP99[$name]=$(awk '{print $2}' "$WORK/$name.open" | median)
	OCPU[$name]=$(awk '{print $3}' "$WORK/$name.open" | median)
	LATE=$((LATE + $(awk '{s += $5} END {print s + 0}' "$WORK/$name.open")))
done
[ "$LATE" = 0 ] || log "rateload sent $LATE requests over 1 s late: it fell behind, the open-loop figures are not at $RATE req/s"

# What the open loop adds to the closed-loop line, and its own line.
open_fields=""
open_line="proxy-open-loop: rate=$RATE req/s ($RATE_WHY) conns=$CONNS"
cpu_line=""
for name in $OPEN_TARGETS; do
	open_line+=" $name p50=${OP50[$name]}ms p99=${OP99[$name]}ms"
	cpu_line+=" ${name/#direct/upstream}=${OCPU[$name]}"
done
for name in $OPEN_TARGETS; do
	[ "$name" = direct ] && continue
	added=$(awk -v a="${OP50[$name]}" -v d="${OP50[direct]}" 'BEGIN { printf "%.3f", a - d }')
	open_fields+=" added_p50_open_$name=${added}ms"
	open_line+=" added_p50_open_$name=${added}ms"
done
if [ -n "${OP50[nginx]:-}" ] && [ -n "${OP50[mmtoolkit]:-}" ]; then
	ok=$(awk -v m="${OP50[mmtoolkit]}" -v n="${OP50[nginx]}" 'BEGIN { print (m <= n ? "yes" : "no") }')
	open_fields+=" added_p50_open_ok=$ok"
	open_line+=" added_p50_open_ok=$ok"
fi
open_line+=" late=$LATE (cpu_us_per_request_open:$cpu_line)"

awk -v d="${RPS[direct]}" -v dp="${P50[direct]}" -v n="${RPS[nginx]}" -v np="${P50[nginx]}" \
	-v m="${RPS[mmtoolkit]}" -v mp="${P50[mmtoolkit]}" -v s="${RPS[stdlib]}" -v sp="${P50[stdlib]}" \
	-v a="${RPS[alone]}" -v ap="${P50[alone]}" -v open="open_rate=$RATE$open_fields" \
	-v dc="${CPU[direct]}" -v nc="${CPU[nginx]}" -v mc="${CPU[mmtoolkit]}" -v sc="${CPU[stdlib]}" -v ac="${CPU[alone]}" 'BEGIN {
	printf "proxy: direct=%d req/s p50=%.3fms nginx=%d req/s p50=%.3fms mmtoolkit=%d req/s p50=%.3fms ratio_vs_nginx=%.2f added_p50_mmtoolkit=%.3fms added_p50_nginx=%.3fms", d, dp, n, np, m, mp, m / n, mp - dp, np - dp
	printf " ratio_ok=%s added_p50_ok=%s", (m / n >= 0.8 ? "yes" : "no"), (mp - dp <= np - dp ? "yes" : "no")
	printf " (nginx_vs_direct=%.2f mmtoolkit_vs_direct=%.2f proxy_alone_under_net_http=%d req/s p50=%.3fms stdlib_reverseproxy=%d req/s p50=%.3fms stdlib_vs_direct=%.2f;", n / d, m / d, a, ap, s, sp, s / d
	printf " cpu_us_per_request: upstream=%.1f nginx=%.1f mmtoolkit=%.1f alone=%.1f stdlib=%.1f) %s\n", dc, nc, mc, ac, sc, open
}'
echo "$open_line"

if [ -n "${PROFILE:-}" ]; then
	out=${PROFILE_OUT:-${TMPDIR:-/tmp}/mmtoolkit-proxy-cpu.pprof}
	log "profiling the proxy for 10s under load"
	start mmproxy-pprof "serving on" "$WORK/mmproxy" -addr 127.0.0.1:0 -upstream "$DIRECT_URL" -pprof 127.0.0.1:0
	PURL=$(grep -o 'pprof on http://[0-9.:]*' "$WORK/mmproxy-pprof.out" | awk '{print $NF}')
	wrk -t"$THREADS" -c"$CONNS" -d12s "$URL$PATH_Q" >/dev/null 2>&1 &
	PIDS+=($!)
	sleep 1
	curl -fsS -o "$out" "$PURL/debug/pprof/profile?seconds=10"
	log "wrote $out (go tool pprof -top $out)"
fi
