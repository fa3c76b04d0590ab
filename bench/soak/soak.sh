#!/usr/bin/env bash
# Soak: 500 manifest readers, 200 websocket clients, 2 pushes/s and 1 toggle/s
# for DURATION (5m): zero 5xx, zero lost events, stable memory. One summary
# line on stdout; exit 1 when a check fails. Not part of run-all.sh (it is a
# check under load, not a comparison).
set -euo pipefail
cd "$(dirname "$0")/../.."
go build -o bin/mmtoolkit ./cmd/mmtoolkit
go run ./bench/soak -bin bin/mmtoolkit -duration "${DURATION:-5m}" -readers "${READERS:-500}" -ws "${CLIENTS:-200}" \
	-push-rate "${PUSH_RATE:-2}" -toggle-rate "${TOGGLE_RATE:-1}" -reader-interval "${READER_INTERVAL:-100ms}"
