#!/usr/bin/env bash
# Side by side, cold, on the three reference plugins (plugins/video, map,
# appcenter): mmtoolkit from `mmtoolkit push` to servable (a fresh CLI
# process packs the directory, uploads it; the server compiles web and
# mobile and stores the version; the 201 means servable) against webpack 5 +
# babel-loader building the same webapp/index.tsx (webpack.config.js, caches
# off, a fresh process each run). Each mmtoolkit run pushes a new version
# (1.0.0-bench.N) so nothing is answered from the store.
#
# RUNS (default 5) runs each, alternating; medians of wall time. One summary
# line per plugin, then a total:
#   compile-ref: plugin=video mmtoolkit=Xms webpack=Yms ratio=Z
# WEBPACK=0 measures mmtoolkit alone (bench/ab/ab.sh A/Bs two binaries):
# the lines then have no webpack figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=${RUNS:-5}
webpack=${WEBPACK:-1}

[ "$webpack" = 0 ] || [ -x "$here/node_modules/.bin/webpack" ] || "$here/setup.sh"
# MMTOOLKIT_BIN: a built binary to measure; default: make build (go's cache
# makes that quick when nothing changed).
if [ -z "${MMTOOLKIT_BIN:-}" ]; then
  make -s -C "$repo" build >&2
fi
bin=${MMTOOLKIT_BIN:-$repo/bin/mmtoolkit}

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The log exists before the server opens it: the loop below reads it at once.
: >"$work/serve.log"
"$bin" serve --addr 127.0.0.1:0 --data "$work/data" --reference-plugins=false >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  url=$(sed -n 's/.*serving on \(http:[^ ]*\).*/\1/p' "$work/serve.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/serve.log" >&2; exit 1; }
export MMTOOLKIT_SERVER=$url MMTOOLKIT_USER=admin MMTOOLKIT_PASSWORD=mmtoolkit

now() { date +%s%N; }
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tm=0
tw=0
for name in ${PLUGINS:-video map appcenter}; do
  mm=()
  wp=()
  for i in $(seq "$runs"); do
    dir=$work/$name-$i
    cp -r "$repo/plugins/$name" "$dir"
    node -e 'const f=process.argv[1], fs=require("fs"); const m=JSON.parse(fs.readFileSync(f)); m.version=m.version.replace(/-.*$/,"")+"-bench."+process.argv[2]; fs.writeFileSync(f, JSON.stringify(m, null, 2))' "$dir/plugin.json" "$i"

    start=$(now)
    "$bin" push "$dir" >/dev/null
    mm+=($(( ($(now) - start) / 1000000 )))

    [ "$webpack" = 0 ] && continue
    start=$(now)
    (cd "$here" && MMTOOLKIT_PLUGIN_DIR=$dir MMTOOLKIT_WEBPACK_ENTRY=./index.tsx MMTOOLKIT_WEBPACK_OUT=$work/wp-$name \
      "$here/node_modules/.bin/webpack" --config "$here/webpack.config.js" >/dev/null)
    wp+=($(( ($(now) - start) / 1000000 )))
  done
  m=$(echo "${mm[*]}" | median)
  tm=$((tm + m))
  if [ "$webpack" = 0 ]; then
    echo "runs $name: mmtoolkit ${mm[*]} ms" >&2
    echo "compile-ref: plugin=$name mmtoolkit=${m}ms"
    continue
  fi
  w=$(echo "${wp[*]}" | median)
  tw=$((tw + w))
  echo "runs $name: mmtoolkit ${mm[*]} ms; webpack ${wp[*]} ms" >&2
  echo "compile-ref: plugin=$name mmtoolkit=${m}ms webpack=${w}ms ratio=$(awk -v w="$w" -v m="$m" 'BEGIN {printf "%.1f", w / m}') webpack_bundle=$(( $(stat -c %s "$work/wp-$name/main.js") / 1024 ))KB"
done
if [ "$webpack" = 0 ]; then
  echo "compile-ref: plugin=all mmtoolkit=${tm}ms load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
  exit 0
fi
echo "compile-ref: plugin=all mmtoolkit=${tm}ms webpack=${tw}ms ratio=$(awk -v w="$tw" -v m="$tm" 'BEGIN {printf "%.1f", w / m}') load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
