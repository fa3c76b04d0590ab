#!/usr/bin/env bash
# bench/fuzz.sh: every fuzz target of the repository for FUZZTIME each
# (default 5m), JOBS at a time (default 2, one core each: -parallel 1).
# Go keeps the inputs that found new coverage in its cache; afterwards up to
# KEEP (default 50) of them per target are copied into the package's
# testdata/fuzz/<Target>/ to commit, where `go test` replays them. A failure
# leaves its input there too and the script exits 1.
# One summary line per target:
#   fuzz: pkg=./server target=FuzzKVKey time=5m0s execs=... new_interesting=... ok=true
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5m}
jobs=${JOBS:-2}
keep=${KEEP:-50}
cache=$(go env GOCACHE)/fuzz

mapfile -t targets < <(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | grep -v node_modules |
	while read -r f; do
		for t in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | cut -d' ' -f2); do
			echo "./$(dirname "${f#./}") $t"
		done
	done | sort)
echo "fuzzing ${#targets[@]} targets for $fuzztime each, $jobs at a time" >&2

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run() {
	local pkg=$1 target=$2 log="$logs/$2.log"
	go test -run='^$' -fuzz="^$target\$" -fuzztime="$fuzztime" -parallel 1 "$pkg" >"$log" 2>&1
	local rc=$?
	local last execs interesting
	last=$(grep -E 'fuzz: elapsed' "$log" | tail -1)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	interesting=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
	# Keep what the run found: the cache's corpus, bounded, into testdata.
	local from="$cache/$(go list "$pkg")/$target" to="$pkg/testdata/fuzz/$target" kept=0
	if [ -d "$from" ]; then
		mkdir -p "$to"
		for f in $(ls "$from" | sort | head -n "$keep"); do
			[ -e "$to/$f" ] || { cp "$from/$f" "$to/$f"; kept=$((kept + 1)); }
		done
	fi
	echo "fuzz: pkg=$pkg target=$target time=$fuzztime execs=${execs:-?} new_interesting=${interesting:-?} kept=$kept ok=$([ $rc -eq 0 ] && echo true || echo false)"
	if [ $rc -ne 0 ]; then
		tail -30 "$log" >&2
	fi
	return $rc
}

failed=0
running=0
for entry in "${targets[@]}"; do
	# shellcheck disable=SC2086
	run $entry &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || failed=1
		running=$((running - 1))
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n || failed=1
	running=$((running - 1))
done
exit $failed
