#!/usr/bin/env bash
# bench/admin: server time of the admin console and directory pages
# (see admin_test.go and bench/README.md). Prints one line per page.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench . -benchtime "${BENCHTIME:-100x}" -count "${COUNT:-1}" ./bench/admin/ |
	awk '/^Benchmark/ { name=$1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name);
		for (i = 1; i <= NF; i++) if ($i == "ms/page" || $i == "ms/op") ms = $(i-1);
		printf "admin %s ms=%s goal=20\n", name, ms }'
