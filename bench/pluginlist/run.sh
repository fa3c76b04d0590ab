#!/usr/bin/env bash
# bench/pluginlist: GET /api/v4/plugins/webapp straight to a stand-in
# Mattermost vs merged through mmtoolkit (see pluginlist_test.go and
# bench/README.md). Prints one line per connection count (1, 16) with every
# target's p50/p99 in ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench . -benchtime "${BENCHTIME:-5000x}" -count "${COUNT:-1}" ./bench/pluginlist/ |
	awk '/^BenchmarkPluginList\// { name=$1; sub(/^BenchmarkPluginList\//, "", name); sub(/-[0-9]+$/, "", name);
		line="pluginlist " name; for (i = 3; i < NF; i += 2) line = line " " $(i+1) "=" $i; print line " goal_merged_added_p50_ms=1" }'
