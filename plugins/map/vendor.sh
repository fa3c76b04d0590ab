#!/usr/bin/env bash
# Refreshes the map plugin's third-party code and map data from the npm
# registry, at the exact versions below. Run it from anywhere after changing a
# version; it needs npm and node (a maintainer's tools: the server compiles the
# plugin without them). Commit what it writes.
#
#   node_modules/<pkg>/   each package pruned to the files the plugin's import
#                         graph reaches, plus package.json and LICENSE
#   shared/world_data.ts  Natural Earth 1:50m countries from world-atlas,
#                         re-quantized (tools/requantize.mjs) as a JSON string
#
# After a version change, check the pruned file lists still match what the
# bundle reaches: push the plugin (`mmtoolkit push plugins/map`) and read the
# compile errors, if any, for a missing file.
set -euo pipefail

D3_GEO=3.1.2          # projections, geoPath, graticule, geoContains
D3_ARRAY=3.2.5        # dependency of d3-geo (Adder, merge, range); its dist build inlines internmap
TOPOJSON_CLIENT=3.1.0 # TopoJSON -> GeoJSON (feature, mesh)
WORLD_ATLAS=2.0.2     # Natural Earth countries as TopoJSON (data only, not bundled as-is)
QUANTIZATION=20000    # grid steps across the world: ~1.8 km x 0.9 km at 1:50m

here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fetch() { # name version -> $tmp/<name>/package
    mkdir -p "$tmp/$1"
    (cd "$tmp/$1" && npm pack --silent "$1@$2" >/dev/null && tar xzf ./*.tgz)
}

vendor() { # name files...
    local name="$1"; shift
    local src="$tmp/$name/package" dst="$here/node_modules/$name"
    rm -rf "$dst"
    for f in package.json LICENSE "$@"; do
        mkdir -p "$(dirname "$dst/$f")"
        cp "$src/$f" "$dst/$f"
    done
}

fetch d3-geo "$D3_GEO"
fetch d3-array "$D3_ARRAY"
fetch topojson-client "$TOPOJSON_CLIENT"
fetch world-atlas "$WORLD_ATLAS"

rm -rf "$here/node_modules" # a package dropped from this list goes too
vendor d3-geo dist/d3-geo.mjs
vendor d3-array dist/d3-array.mjs
# src/index.js re-exports every module, so the import graph reaches them all.
vendor topojson-client src/index.js src/bbox.js src/bisect.js src/feature.js src/identity.js src/merge.js \
    src/mesh.js src/neighbors.js src/quantize.js src/reverse.js src/stitch.js src/transform.js src/untransform.js

node "$here/tools/requantize.mjs" "$tmp/world-atlas/package/countries-50m.json" "$QUANTIZATION" \
    "$tmp/world-atlas/package/LICENSE" "world-atlas@$WORLD_ATLAS" > "$here/shared/world_data.ts"
echo "vendored into $here/node_modules and $here/shared/world_data.ts"
