#!/usr/bin/env bash
# Runs `bench/run.mjs --device` (GEMM 1024-8192 and GPT training steps beside PyTorch) on a GPU
# machine that has PyTorch and the NVIDIA driver but no Node and no network.
#
#   1. Here (with the repo installed):  bash packages/backend-gpu/bench/run-on-device.sh prepare
#      builds the packages and packs .tmp/gpu-device/ (about 35 MB, git-ignored): an xz'd Node
#      binary, core-tensor and backend-gpu dist folders, Dawn (the `webgpu` package) and the
#      libvulkan1 .deb (the loader; the device has the NVIDIA driver and its ICD but no loader).
#   2. On the device (the session's `run` tool, carry: [".tmp/gpu-device"]):
#        bash packages/backend-gpu/bench/run-on-device.sh run [run.mjs flags, e.g. --gemm=4096]
#      unpacks the loader into / (a fresh machine each call), points Vulkan at the NVIDIA ICD and
#      runs the benchmark; the output is also written to $OUT/backend-gpu-bench.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
pack="$root/.tmp/gpu-device"

case "${1:-}" in
  prepare)
    cd "$root"
    pnpm exec turbo run build --filter=@llmkit/backend-gpu... --output-logs=errors-only
    rm -rf "$pack"
    mkdir -p "$pack/deb" "$pack/node_modules/@llmkit" "$pack/node_modules/webgpu/dist/linux-x64"
    xz -T0 -6 -c "$(readlink -f "$(command -v node)")" >"$pack/node.xz"
    for name in core-tensor backend-gpu; do
      mkdir -p "$pack/node_modules/@llmkit/$name"
      cp -r "packages/$name/package.json" "packages/$name/dist" "$pack/node_modules/@llmkit/$name/"
    done
    cp -r packages/backend-gpu/bench "$pack/node_modules/@llmkit/backend-gpu/"
    dawn="$(cd packages/backend-gpu/node_modules/webgpu && pwd -P)"
    cp "$dawn/package.json" "$dawn/index.js" "$pack/node_modules/webgpu/"
    xz -T0 -6 -c "$dawn/dist/linux-x64/dawn.node" >"$pack/dawn.node.xz"
    (cd "$pack/deb" && apt-get -oAPT::Architecture=amd64 download libvulkan1)
    du -sh "$pack"
    ;;
  run)
    shift
    [ -d "$pack" ] || { echo "missing $pack: run '$0 prepare' here and carry .tmp/gpu-device" >&2; exit 1; }
    for f in "$pack"/deb/*.deb; do dpkg -x "$f" /; done
    ldconfig
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export VK_ICD_FILENAMES="$VK_DRIVER_FILES"
    bin="$(mktemp -d)"
    xz -dc "$pack/node.xz" >"$bin/node" && chmod +x "$bin/node"
    [ -f "$pack/node_modules/webgpu/dist/linux-x64/dawn.node" ] ||
      xz -dc "$pack/dawn.node.xz" >"$pack/node_modules/webgpu/dist/linux-x64/dawn.node"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    cd "$pack"
    export PYTHONUNBUFFERED=1
    set -o pipefail
    "$bin/node" node_modules/@llmkit/backend-gpu/bench/run.mjs --device --python="$(command -v python3)" "$@" 2>&1 |
      tee "${OUT:-$pack}/backend-gpu-bench.txt"
    ;;
  *)
    echo "usage: $0 prepare | run [run.mjs flags]" >&2
    exit 2
    ;;
esac
