#!/usr/bin/env bash
# Runs each make target given as an argument (a test suite), every one of
# them whatever the others did, then prints a PASS/FAIL line per suite with
# its duration and exits 1 if any failed. `make test` calls it, so that one
# failing suite does not hide whether the others pass.
#
#   MAKE=make bash scripts/test-all.sh vet unit race
set -u
make_cmd=${MAKE:-make}
names=() results=() times=()
failed=()
for suite in "$@"; do
	echo "=== make $suite"
	start=$(date +%s.%N)
	if $make_cmd --no-print-directory "$suite"; then
		result=PASS
	else
		result=FAIL
		failed+=("$suite")
	fi
	end=$(date +%s.%N)
	names+=("$suite") results+=("$result")
	times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')")
	echo "=== make $suite: $result (${times[-1]} s)"
done
echo
echo "make test: summary"
for i in "${!names[@]}"; do
	printf '  %-14s %s %9s s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "make test: ${#failed[@]} of ${#names[@]} suites failed: ${failed[*]}"
	exit 1
fi
echo "make test: all ${#names[@]} suites passed"
