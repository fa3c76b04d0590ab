#!/usr/bin/env bash
# Websocket fan-out: 2,000 clients, a team toggle timed to every client of the team.
set -euo pipefail
cd "$(dirname "$0")/../.."
go build -o bin/mmtoolkit ./cmd/mmtoolkit
go run ./bench/websocket -bin bin/mmtoolkit -clients "${CLIENTS:-2000}" -rounds "${ROUNDS:-20}"
