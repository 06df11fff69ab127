#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + LeakSanitizer (gcc's libasan) into a scratch copy of
# the package and runs scripts/leak-check.mjs against it: heap overflows, use-after-free and
# leaks in the addon abort with a report. Allocations made by Node and V8 themselves are
# suppressed (they are not freed at exit by design). Usage: packages/backend-cpu/scripts/leak-check.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/binding.gyp" "$here/src" "$work/"
prefix="$(dirname "$(dirname "$(command -v node)")")"
nodedir_args=()
[ -f "$prefix/include/node/node_api.h" ] && nodedir_args=(--nodedir="$prefix")
gyp="node-gyp"
command -v node-gyp >/dev/null || gyp="node $prefix/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
(cd "$work" && CXXFLAGS="-O1 -fsanitize=address -fno-omit-frame-pointer -g" LDFLAGS="-fsanitize=address" \
  $gyp rebuild -j 2 "${nodedir_args[@]}" >"$work/build.log" 2>&1) || { cat "$work/build.log"; exit 1; }
cat >"$work/lsan.supp" <<'SUPP'
leak:node::
leak:v8::
leak:uv_
leak:libnode
leak:libv8
leak:/usr/bin/node
SUPP
LD_PRELOAD="$(gcc -print-file-name=libasan.so)" \
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23" \
  LSAN_OPTIONS="suppressions=$work/lsan.supp:print_suppressions=0" \
  LLMKIT_CPU_ADDON="$work/build/Release/llmkit_cpu.node" \
  node "$here/scripts/leak-check.mjs"
echo "leak-check: no leaks or heap errors in the addon"
