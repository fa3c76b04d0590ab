#!/usr/bin/env bash
# bench/compile: mmtoolkit against webpack 5 + babel-loader, cold, side by
# side: the generated typical plugin (compare.sh), then the three reference
# plugins pushed to servable (reference.sh). Summary lines: "compile: ..."
# and "compile-ref: ...".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/compare.sh"
bash "$here/reference.sh"
