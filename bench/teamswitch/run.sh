#!/usr/bin/env bash
# bench/teamswitch: a team switch in Mattermost's webapp, fronted by
# mmtoolkit, to the plugin events on its websocket; an admin's toggle to
# the sessions on that team (see teamswitch_test.go and bench/README.md).
# Prints one line per session count with p50/p99/max in ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
for n in ${SESSIONS_LIST:-100 1000}; do
	SESSIONS=$n go test -run '^$' -bench . -benchtime "${BENCHTIME:-10x}" -timeout 900s ./bench/teamswitch/ |
		awk '/^BenchmarkTeamSwitch/ { line="teamswitch"; for (i = 3; i < NF; i += 2) line = line " " $(i+1) "=" $i; print line " goal_switch_p99_ms=100" }'
done
