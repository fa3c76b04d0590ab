#!/usr/bin/env bash
# bench/replicas: the PostgreSQL mode (issue #18) side by side with one bbolt
# process, in one run: manifest req/s with 1, 2, 3 replicas behind nginx,
# PostgreSQL transactions per manifest request, a toggle through one replica to
# 2,000 websocket clients of another, push to servable. About 6 minutes.
# Needs PostgreSQL, nginx and wrk (installed from Debian when missing).
# Knobs (environment): CLIENTS (2000), ROUNDS (5), DURATION (3 s), TOGGLES (20),
# PUSHES (8), ONLY (a subset: manifest,roundtrips,fanout,push).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/server-deps.sh >&2
command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
mkdir -p bin
go build -o bin/mmtoolkit ./cmd/mmtoolkit
go run ./bench/replicas -bin bin/mmtoolkit -clients "${CLIENTS:-2000}" -rounds "${ROUNDS:-5}" \
	-duration "${DURATION:-3}" -toggles "${TOGGLES:-20}" -pushes "${PUSHES:-8}" -only "${ONLY:-}"
