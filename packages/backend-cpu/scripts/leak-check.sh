#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + LeakSanitizer (gcc's libasan, -O1) into a scratch copy
# of the package and runs scripts/leak-check.mjs against it. Heap overflows and use-after-free
# abort with ASan's report. Leaks: Node and V8 do not free everything at exit, so LeakSanitizer
# reports everything and this script fails only on leak records whose allocation stack passes
# through the addon's code (src/kernels, src/native). Usage: packages/backend-cpu/scripts/leak-check.sh
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
status=0
LD_PRELOAD="$(gcc -print-file-name=libasan.so)" \
  ASAN_OPTIONS="detect_leaks=1:exitcode=0" \
  LSAN_OPTIONS="max_leaks=0:report_objects=0" \
  LLMKIT_CPU_ADDON="$work/build/Release/llmkit_cpu.node" \
  node "$here/scripts/leak-check.mjs" 2>"$work/asan.log" || status=$?
if [ "$status" -ne 0 ] || grep -q "ERROR: AddressSanitizer" "$work/asan.log"; then
  cat "$work/asan.log"
  echo "leak-check: heap error (exit $status)"
  exit 1
fi
# One leak record per blank-line-separated block; keep those allocated from the addon.
if awk 'BEGIN { RS = ""; found = 0 }
        /(Direct|Indirect) leak/ && /src\/(kernels|native)\// { print; print ""; found = 1 }
        END { exit found ? 0 : 1 }' "$work/asan.log"; then
  echo "leak-check: the addon leaks (records above)"
  exit 1
fi
echo "leak-check: no leaks or heap errors in the addon ($(grep -c 'leak of' "$work/asan.log" || true) records outside it, from Node/V8, ignored)"
