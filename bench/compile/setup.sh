#!/usr/bin/env bash
# Installs the npm packages the compile benchmarks use (exact versions from
# package.json / package-lock.json): the dependencies a typical Mattermost
# plugin bundles, and webpack + Babel for the side-by-side comparison.
set -euo pipefail
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
