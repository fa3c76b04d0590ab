#!/usr/bin/env bash
# bench/run-all.sh: every benchmark of bench/ in turn (`make bench` runs it).
# Each bench/NAME/ directory with a run.sh is run with it; one without a
# run.sh but with a compare.sh (bench/compile) is run with that. Summary
# lines go to stdout as each script prints them, progress to stderr. A
# failing benchmark is reported and the others still run; the exit status
# is then 1. See bench/README.md for what each one measures.
set -uo pipefail
cd "$(dirname "$0")"

failed=()
for dir in */; do
	dir=${dir%/}
	if [ -f "$dir/run.sh" ]; then
		script=$dir/run.sh
	elif [ -f "$dir/compare.sh" ]; then
		script=$dir/compare.sh
	else
		continue
	fi
	echo "== bench/$script" >&2
	if ! bash "$script"; then
		echo "== bench/$script FAILED" >&2
		failed+=("$script")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "failed: ${failed[*]}" >&2
	exit 1
fi
