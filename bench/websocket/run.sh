#!/usr/bin/env bash
# Websocket fan-out: 2,000 clients, a team toggle timed to every client of the team.
# MMTOOLKIT_BIN: a built binary to measure (bench/ab/ab.sh A/Bs two); default:
# bin/mmtoolkit built from this tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${MMTOOLKIT_BIN:-}
if [ -z "$bin" ]; then
	go build -o bin/mmtoolkit ./cmd/mmtoolkit
	bin=bin/mmtoolkit
fi
go run ./bench/websocket -bin "$bin" -clients "${CLIENTS:-2000}" -rounds "${ROUNDS:-20}"
