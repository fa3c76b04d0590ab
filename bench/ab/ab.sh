#!/usr/bin/env bash
# bench/ab/ab.sh OLD NEW [BENCH...]: the same benchmarks against two commits'
# builds, alternating, in one run on this machine, and per figure the two
# medians and NEW/OLD. Absolute figures on a shared 2-core machine move with
# whatever else runs; a ratio of runs interleaved a few seconds apart is
# what can be compared (issue #17: "the figures in docs/benchmarks.md stay
# within 10 %").
#
#   bash bench/ab/ab.sh dd99847 main                   # every bench below
#   bash bench/ab/ab.sh dd99847 main serving admin     # some of them
#
# OLD and NEW are anything git rev-parse takes. Each is checked out with
# `git worktree add --detach` under a temporary directory (the checkout the
# script runs in is not touched; its untracked webapp/dist and
# mobile/preview/dist are copied there and its node_modules folders linked:
# what `go build` embeds and the plugins import), built there (bin/mmtoolkit,
# and the admin benchmark's test binary), and removed at the end. The
# benchmark programs and scripts are this checkout's, the same for both
# sides, so only the server differs; each is the bench directory's own
# measurement, pointed at one binary:
#
#   serving    bench/serving/lib.sh's fixture and wrk_run against two servers
#              (OLD's and NEW's, both started and given the same plugins):
#              manifest-200, manifest-304, bundle-gzip (req/s, CPU per
#              request; p99 as information), AB_ROUNDS runs of AB_DURATION s
#              each, alternating OLD and NEW (the order swapped every round)
#   proxy      bench/proxy's GET /api/v4/users/me/status through `serve
#              --upstream` (OLD's and NEW's, in front of one
#              bench/proxy/upstream), as bench/proxy/run.sh's mmtoolkit
#              target, with the same rounds (req/s, CPU per request)
#   push       bench/push (-bin) on AB_PUSH_PLUGIN: a new plugin's push to
#              servable (-new) and a re-push after an edit, AB_PUSH_N pushes
#              per run
#   websocket  bench/websocket/run.sh (MMTOOLKIT_BIN): a team toggle to
#              AB_WS_CLIENTS clients, p50 and p99
#   admin      bench/admin's Go benchmarks, `go test -c` in each worktree (the
#              test is compiled against that commit's server), run there
#   compile    bench/compile/reference.sh (MMTOOLKIT_BIN, WEBPACK=0): `mmtoolkit
#              push` of the three reference plugins to a running server
#
# push, websocket, admin and compile run AB_RUNS times per side, alternating
# too (a fresh server each run). Every run is bounded (AB_TIMEOUT s for a
# process; wrk by its duration).
#
# Output (stdout): a header "#" line (commits, date, load average), one line
# per figure:
#   ab: FIGURE old=MEDIAN new=MEDIAN new/old=R better=higher|lower|info
#       verdict=within|worse|better runs=N old_runs=... new_runs=...
# "worse" and "better" mean more than AB_LIMIT (10) % apart in that
# direction; "info" figures (p99 at saturation, allocations, the share of
# the CPUs other processes took) are shown, not judged. Then a "# worse:"
# line naming the figures worse by more than the limit (or none), and the
# load average at the end. Progress goes to stderr. A run that fails is
# tried once more; a bench that still fails is reported and the others
# still run (its figures so far are kept; verdict=incomplete where a side
# has none), and the exit status is then 1, else 0 whatever the verdicts.
#
# Knobs (environment): AB_ROUNDS (5), AB_DURATION (4 s), AB_WARMUP (2 s),
# AB_RUNS (3), AB_PUSH_PLUGIN (plugins/map), AB_PUSH_N (8), AB_PUSH_GAP
# (1s), AB_WS_CLIENTS (2000), AB_WS_TOGGLES (10), AB_ADMIN_BENCHTIME (0.3s:
# about 20 iterations of the heaviest pages, hundreds of the sub-ms ones),
# AB_ADMIN_BENCH (-test.bench's pattern, ".": every page), AB_COMPILE_RUNS
# (3), AB_TIMEOUT (120), AB_LIMIT (10), KEEP=1 keeps the temporary
# directory (worktrees are removed all the same).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

ALL_BENCHES="serving proxy push websocket admin compile"
usage() {
	echo "usage: bash bench/ab/ab.sh OLD NEW [BENCH...]   (BENCH: $ALL_BENCHES; default all)" >&2
	exit 2
}
[ $# -ge 2 ] || usage
OLD_REV=$1 NEW_REV=$2
shift 2
BENCH_LIST=("$@")
[ ${#BENCH_LIST[@]} -gt 0 ] || read -r -a BENCH_LIST <<<"$ALL_BENCHES"
for b in "${BENCH_LIST[@]}"; do
	[[ " $ALL_BENCHES " == *" $b "* ]] || { echo "bench/ab: unknown bench $b" >&2; usage; }
done
wants() { [[ " ${BENCH_LIST[*]} " == *" $1 "* ]]; }

AB_ROUNDS=${AB_ROUNDS:-5}
AB_DURATION=${AB_DURATION:-4}
AB_WARMUP=${AB_WARMUP:-2}
AB_RUNS=${AB_RUNS:-3}
AB_PUSH_PLUGIN=${AB_PUSH_PLUGIN:-plugins/map}
AB_PUSH_N=${AB_PUSH_N:-8}
AB_PUSH_GAP=${AB_PUSH_GAP:-1s}
AB_WS_CLIENTS=${AB_WS_CLIENTS:-2000}
AB_WS_TOGGLES=${AB_WS_TOGGLES:-10}
AB_ADMIN_BENCHTIME=${AB_ADMIN_BENCHTIME:-0.3s}
AB_ADMIN_BENCH=${AB_ADMIN_BENCH:-.}
AB_COMPILE_RUNS=${AB_COMPILE_RUNS:-3}
AB_TIMEOUT=${AB_TIMEOUT:-120}
AB_LIMIT=${AB_LIMIT:-10}
GO=${GO:-go}

# bench/serving's functions (wrk_run, fixture_plugins, start_mmtoolkit,
# cpu_ticks, ...): the serving figures are measured exactly as there. Its
# knobs are set here so that they are the A/B's, not its defaults.
THREADS=${THREADS:-2} CONNS=${CONNS:-64}
. bench/serving/lib.sh
log() { echo "# ab: $*" >&2; }
die() {
	echo "bench/ab: $*" >&2
	exit 1
}

OLD=$(git rev-parse --verify --quiet "$OLD_REV^{commit}") || die "OLD: $OLD_REV is not a commit"
NEW=$(git rev-parse --verify --quiet "$NEW_REV^{commit}") || die "NEW: $NEW_REV is not a commit"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmtoolkit-ab.XXXXXX")
SHM=$(workdir) # tmpfs when there is one: servers' data never wait on the disk
PIDS=()
cleanup() {
	local p side
	for p in "${PIDS[@]}"; do stop "$p"; done
	for side in old new; do
		[ -d "$TMP/$side" ] || continue
		# The links first, so that nothing removes what they point at.
		find "$TMP/$side" -maxdepth 3 -name node_modules -type l -delete 2>/dev/null || true
		git -C "$repo" worktree remove --force "$TMP/$side" 2>/dev/null || true
	done
	git -C "$repo" worktree prune 2>/dev/null || true
	rm -rf "$SHM"
	if [ -n "${KEEP:-}" ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# --- the two builds ---------------------------------------------------------

# prepare SIDE COMMIT: a worktree of COMMIT at TMP/SIDE with this checkout's
# build outputs, and its binaries in TMP/SIDE.bin.
prepare() {
	local side=$1 commit=$2 dir=$TMP/$1 d
	log "$side: worktree of $(git log -1 --format='%h %s' "$commit" | cut -c1-90)"
	git worktree add --detach -q "$dir" "$commit"
	for d in webapp/dist mobile/preview/dist; do
		[ -d "$repo/$d" ] || continue
		mkdir -p "$dir/$d"
		cp -a "$repo/$d/." "$dir/$d/"
	done
	for d in webapp mobile plugins mobile/tools bundler/sass bench/compile; do
		[ -e "$repo/$d/node_modules" ] && [ ! -e "$dir/$d/node_modules" ] && [ -d "$dir/$d" ] &&
			ln -s "$(readlink -f "$repo/$d/node_modules")" "$dir/$d/node_modules"
	done
	mkdir -p "$TMP/$side.bin"
	log "$side: building mmtoolkit"
	(cd "$dir" && $GO build -o "$TMP/$side.bin/mmtoolkit" ./cmd/mmtoolkit) || die "$side: go build failed"
	if wants admin; then
		if [ -d "$dir/bench/admin" ]; then
			log "$side: building the admin benchmark"
			(cd "$dir" && $GO test -c -o "$TMP/$side.bin/admin.test" ./bench/admin/) || die "$side: go test -c ./bench/admin failed"
		else
			log "$side: no bench/admin at this commit"
		fi
	fi
}

echo "# bench/ab $(date -u +%Y-%m-%dT%H:%MZ): OLD=$(git log -1 --format='%h (%s)' "$OLD" | cut -c1-100)" \
	"NEW=$(git log -1 --format='%h (%s)' "$NEW" | cut -c1-100);" \
	"$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; benches: ${BENCH_LIST[*]}"
prepare old "$OLD"
prepare new "$NEW"
BIN_old=$TMP/old.bin/mmtoolkit
BIN_new=$TMP/new.bin/mmtoolkit
mkdir -p "$TMP/tools" "$TMP/fig"

# --- figures ----------------------------------------------------------------

# figure NAME higher|lower|info: declares a figure (in the order printed;
# kept in a file, as each bench runs in a subshell).
figure() {
	grep -q "^$1 " "$TMP/figures" 2>/dev/null || echo "$1 $2" >>"$TMP/figures"
}
# record NAME SIDE VALUE: one run's value.
record() {
	[ -n "$3" ] || die "no value for $1 ($2)"
	echo "$3" >>"$(figfile "$1").$2"
}
# figfile NAME: where a figure's values are kept (one file per side).
figfile() { echo "$TMP/fig/${1//\//_}"; }
# order ROUND: the sides in the order of that round (swapped every round,
# so neither side always runs first, right after the other).
order() { if [ $(($1 % 2)) = 1 ]; then echo old new; else echo new old; fi; }
# field LINE KEY: the value of KEY=VALUE in LINE, without its unit.
field() { grep -o "\b$2=[0-9.]*" <<<"$1" | head -1 | cut -d= -f2; }
# settle PID...: waits (at most 15 s) until the processes are idle, so that
# background work after a fixture (precompression, source maps, bytecode)
# is not measured as the next run.
settle() {
	local a b p _
	for _ in $(seq 30); do
		a=0 b=0
		for p in "$@"; do a=$((a + $(cpu_ticks "$p"))); done
		sleep 0.5
		for p in "$@"; do b=$((b + $(cpu_ticks "$p"))); done
		[ $((b - a)) -le 2 ] && return
	done
	log "processes $* still busy after 15 s"
}
# bounded CMD...: runs CMD (its own process group) for at most AB_TIMEOUT s,
# and once more if it fails (a busy machine's timeouts are not the
# server's); the output of the last try is printed.
bounded() {
	local out rc=0
	out=$(timeout -k 5 "$AB_TIMEOUT" "$@") || rc=$?
	if [ "$rc" = 0 ]; then
		echo "$out"
		return
	fi
	log "failed (status $rc), once more: $* -> $(tail -c 300 <<<"$out")"
	timeout -k 5 "$AB_TIMEOUT" "$@"
}

# --- serving: manifest-200, manifest-304, bundle-gzip ------------------------

# serving_args NAME SIDE: sets args to wrk's URL and headers for NAME against
# SIDE's server (bench_serving's arrays), as bench/serving/run.sh sends them.
serving_args() {
	case $1 in
	manifest-200) args=("${MANIFEST_[$2]}" -H "${AUTH_[$2]}") ;;
	manifest-304) args=("${MANIFEST_[$2]}" -H "${AUTH_[$2]}" -H "If-None-Match: ${ETAG_[$2]}") ;;
	bundle-gzip) args=("${BUNDLE_[$2]}" -H 'Accept-Encoding: gzip') ;;
	esac
}
bench_serving() {
	log "serving: building genplugin"
	$GO build -o "$TMP/tools/genplugin" ./bench/serving/genplugin
	declare -A URL_ PID_ AUTH_ ETAG_ BUNDLE_ MANIFEST_
	local side
	for side in old new; do
		WORK=$SHM/serving-$side
		mkdir -p "$WORK"
		ln -sf "$TMP/tools/genplugin" "$WORK/genplugin"
		MMTOOLKIT_BIN=$TMP/$side.bin/mmtoolkit
		start_mmtoolkit "$WORK/data"
		fixture_plugins
		URL_[$side]=$MM_URL PID_[$side]=$MM_PID AUTH_[$side]=$AUTH ETAG_[$side]=$ETAG
		BUNDLE_[$side]=$MM_URL$BUNDLE MANIFEST_[$side]=$MANIFEST
	done
	unset MMTOOLKIT_SERVER MMTOOLKIT_PASSWORD
	log "serving: waiting for both servers' background work"
	settle "${PID_[old]}" "${PID_[new]}"
	local name round r out args
	for name in manifest-200 manifest-304 bundle-gzip; do
		figure "$name.rps" higher
		figure "$name.cpu_us" lower
		figure "$name.p99_ms" info
		figure "$name.others_pct" info
		for side in old new; do
			serving_args "$name" "$side"
			wrk_run "$AB_WARMUP" "${args[@]}" >/dev/null
		done
		for round in $(seq "$AB_ROUNDS"); do
			for side in $(order "$round"); do
				serving_args "$name" "$side"
				out=$(SERVER_PID=${PID_[$side]} wrk_run "$AB_DURATION" "${args[@]}")
				read -r -a r <<<"$out"
				log "serving $name round $round $side: ${r[0]} req/s, p99 ${r[1]} ms, ${r[2]} us CPU/req, others ${r[3]} %"
				record "$name.rps" "$side" "${r[0]}"
				record "$name.p99_ms" "$side" "${r[1]}"
				record "$name.cpu_us" "$side" "${r[2]}"
				record "$name.others_pct" "$side" "${r[3]}"
			done
		done
	done
	for side in old new; do stop "${PID_[$side]}"; done
}

# --- proxy: serve --upstream in front of bench/proxy/upstream ------------------
bench_proxy() {
	log "proxy: building bench/proxy/upstream"
	$GO build -o "$TMP/tools/upstream" ./bench/proxy/upstream
	"$TMP/tools/upstream" -addr 127.0.0.1:0 >"$SHM/upstream.out" 2>&1 &
	local up=$! upurl="" side _
	PIDS+=("$up")
	for _ in $(seq 100); do
		upurl=$(grep -o 'listening on http://[0-9.:]*' "$SHM/upstream.out" | awk '{print $NF}') || true
		[ -n "$upurl" ] && break
		sleep 0.1
	done
	[ -n "$upurl" ] || die "bench/proxy/upstream did not start"
	declare -A URL_ PID_
	for side in old new; do
		MMTOOLKIT_BIN=$TMP/$side.bin/mmtoolkit
		start_mmtoolkit "$SHM/proxy-$side" --upstream "$upurl"
		URL_[$side]=$MM_URL/api/v4/users/me/status PID_[$side]=$MM_PID
		curl -fsS -o /dev/null "${URL_[$side]}" || die "proxy ($side): ${URL_[$side]} does not answer"
	done
	settle "${PID_[old]}" "${PID_[new]}"
	figure proxy.rps higher
	figure proxy.cpu_us lower
	figure proxy.p99_ms info
	figure proxy.others_pct info
	for side in old new; do wrk_run "$AB_WARMUP" "${URL_[$side]}" >/dev/null; done
	local round out r
	for round in $(seq "$AB_ROUNDS"); do
		for side in $(order "$round"); do
			out=$(SERVER_PID=${PID_[$side]} wrk_run "$AB_DURATION" "${URL_[$side]}")
			read -r -a r <<<"$out"
			log "proxy round $round $side: ${r[0]} req/s, p99 ${r[1]} ms, ${r[2]} us CPU/req, others ${r[3]} %"
			record proxy.rps "$side" "${r[0]}"
			record proxy.p99_ms "$side" "${r[1]}"
			record proxy.cpu_us "$side" "${r[2]}"
			record proxy.others_pct "$side" "${r[3]}"
		done
	done
	for side in old new; do stop "${PID_[$side]}"; done
	stop "$up"
}

# --- push: bench/push, a new plugin and a re-push ----------------------------
bench_push() {
	log "push: building bench/push"
	$GO build -o "$TMP/tools/push" ./bench/push
	figure push-new.ms lower
	figure push-new.server_build_ms lower
	figure push-repush.ms lower
	figure push-repush.server_build_ms lower
	local round side out
	for round in $(seq "$AB_RUNS"); do
		for side in $(order "$round"); do
			out=$(bounded "$TMP/tools/push" -bin "$TMP/$side.bin/mmtoolkit" -plugin "$AB_PUSH_PLUGIN" \
				-n "$AB_PUSH_N" -gap "$AB_PUSH_GAP" -new) || die "push -new ($side) failed: $out"
			log "push run $round $side: $out"
			record push-new.ms "$side" "$(field "$out" new_plugin_push_median)"
			record push-new.server_build_ms "$side" "$(field "$out" server_build_median)"
			out=$(bounded "$TMP/tools/push" -bin "$TMP/$side.bin/mmtoolkit" -plugin "$AB_PUSH_PLUGIN" \
				-n "$AB_PUSH_N" -gap "$AB_PUSH_GAP") || die "push ($side) failed: $out"
			log "push run $round $side: $out"
			record push-repush.ms "$side" "$(field "$out" repush_to_servable_median)"
			record push-repush.server_build_ms "$side" "$(field "$out" server_build_median)"
		done
	done
}

# --- websocket: bench/websocket/run.sh ----------------------------------------
bench_websocket() {
	figure websocket.toggle_p99_ms lower
	figure websocket.toggle_p50_ms lower
	figure websocket.per_conn_kib info
	local round side out
	for round in $(seq "$AB_RUNS"); do
		for side in $(order "$round"); do
			out=$(MMTOOLKIT_BIN=$TMP/$side.bin/mmtoolkit CLIENTS=$AB_WS_CLIENTS ROUNDS=$AB_WS_TOGGLES \
				bounded bash bench/websocket/run.sh) || die "websocket ($side) failed: $out"
			log "websocket run $round $side: $out"
			record websocket.toggle_p99_ms "$side" "$(field "$out" toggle_p99)"
			record websocket.toggle_p50_ms "$side" "$(field "$out" toggle_p50)"
			record websocket.per_conn_kib "$side" "$(field "$out" per_conn)"
		done
	done
}

# --- admin: bench/admin's Go benchmarks, each side's own test binary ---------
bench_admin() {
	[ -x "$TMP/old.bin/admin.test" ] && [ -x "$TMP/new.bin/admin.test" ] || {
		log "admin: skipped (bench/admin missing at one commit)"
		return
	}
	local round side out name ms allocs
	for round in $(seq "$AB_RUNS"); do
		for side in $(order "$round"); do
			out=$(cd "$TMP/$side/bench/admin" && bounded "$TMP/$side.bin/admin.test" -test.run '^$' -test.bench "$AB_ADMIN_BENCH" \
				-test.benchtime "$AB_ADMIN_BENCHTIME") || die "admin ($side) failed: $out"
			while read -r name ms allocs; do
				figure "admin/$name.ms" lower
				figure "admin/$name.allocs" info
				record "admin/$name.ms" "$side" "$ms"
				record "admin/$name.allocs" "$side" "$allocs"
			done < <(awk '/^Benchmark/ { name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
				for (i = 1; i <= NF; i++) { if ($i == "ms/page" || $i == "ms/op") ms = $(i - 1); if ($i == "allocs/op") a = $(i - 1) }
				print name, ms, a }' <<<"$out")
			log "admin run $round $side: $(awk '/^Benchmark/ { n++ } END { print n + 0 }' <<<"$out") benchmarks"
		done
	done
}

# --- compile: bench/compile/reference.sh, mmtoolkit's side -------------------
bench_compile() {
	local round side out p
	for p in video map appcenter all; do figure "compile-ref/$p.ms" lower; done
	for round in $(seq "$AB_RUNS"); do
		for side in $(order "$round"); do
			out=$(MMTOOLKIT_BIN=$TMP/$side.bin/mmtoolkit RUNS=$AB_COMPILE_RUNS WEBPACK=0 \
				bounded bash bench/compile/reference.sh) || die "compile ($side) failed: $out"
			log "compile run $round $side: $(tr '\n' ' ' <<<"$out")"
			for p in video map appcenter all; do
				record "compile-ref/$p.ms" "$side" "$(grep "plugin=$p " <<<"$out" | grep -o 'mmtoolkit=[0-9]*' | cut -d= -f2)"
			done
		done
	done
}

FAILED=()
for b in "${BENCH_LIST[@]}"; do
	log "== $b ($(cut -d' ' -f1-3 /proc/loadavg))"
	set +e
	(
		set -e
		PIDS=()
		trap 'for p in "${PIDS[@]}"; do stop "$p"; done' EXIT
		"bench_$b"
	)
	rc=$?
	set -e
	[ "$rc" = 0 ] || {
		log "$b FAILED (status $rc); its figures so far are kept"
		FAILED+=("$b")
	}
done

# --- summary ------------------------------------------------------------------
touch "$TMP/figures"
while read -r f better; do
	ff=$(figfile "$f")
	if [ ! -s "$ff.old" ] || [ ! -s "$ff.new" ]; then
		echo "ab: $f better=$better verdict=incomplete old_runs=$(paste -sd, "$ff.old" 2>/dev/null) new_runs=$(paste -sd, "$ff.new" 2>/dev/null)"
		continue
	fi
	o=$(median <"$ff.old") n=$(median <"$ff.new")
	awk -v f="$f" -v o="$o" -v n="$n" -v better="$better" -v limit="$AB_LIMIT" \
		-v oruns="$(paste -sd, "$ff.old")" -v nruns="$(paste -sd, "$ff.new")" \
		-v runs="$(wc -l <"$ff.old")" 'BEGIN {
		r = (o > 0) ? n / o : 0
		v = "within"
		if (better == "info") v = "-"
		else if (better == "higher" && r < 1 - limit / 100) v = "worse"
		else if (better == "higher" && r > 1 + limit / 100) v = "better"
		else if (better == "lower" && r > 1 + limit / 100) v = "worse"
		else if (better == "lower" && r < 1 - limit / 100) v = "better"
		printf "ab: %s old=%g new=%g new/old=%.3f better=%s verdict=%s runs=%d old_runs=%s new_runs=%s\n",
			f, o, n, r, better, v, runs, oruns, nruns
	}'
done <"$TMP/figures" | tee "$TMP/summary"
worse=$(awk '$0 ~ / verdict=worse / { sub(/^ab: /, ""); print $1 }' "$TMP/summary" | paste -sd' ')
echo "# worse by more than $AB_LIMIT %: ${worse:-none}"
[ ${#FAILED[@]} = 0 ] || echo "# failed: ${FAILED[*]}"
echo "# bench/ab done $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
[ ${#FAILED[@]} = 0 ]
