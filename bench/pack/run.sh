#!/usr/bin/env bash
# bench/pack: pack and push of a plugin repository after `npm ci` (40,000
# node_modules files the entry never reaches): walking the folder against
# resolving from the entry, and what compiling costs. About two minutes,
# most of it writing the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build >&2
go run ./bench/pack -bin bin/mmtoolkit -unreachable 40000 -n 5
