#!/usr/bin/env bash
# Makes a root folder with Debian's Node for another arch (default arm64), so scripts/prebuild.mjs
# can load that arch's prebuild in a real Node under qemu-user (qemu-aarch64 -L <root> node):
#
#   scripts/node-sysroot.sh [arch] [folder]    # default: arm64 ~/.cache/llmkit/node-arm64
#
# Uses apt with its own state, lists and cache under the folder: the system's apt configuration,
# architectures and installed packages are left alone. Needs a Debian/Ubuntu apt and its mirrors.
set -euo pipefail
arch="${1:-arm64}"
root="${2:-$HOME/.cache/llmkit/node-$arch}"
if [ -x "$root/usr/bin/node" ]; then echo "$root"; exit 0; fi
apt="$root.apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
touch "$apt/status"
options=(
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::status=$apt/status"
  -o Debug::NoLocking=1 -o APT::Install-Recommends=false -o APT::Sandbox::User=root
)
apt-get "${options[@]}" -qq update
apt-get "${options[@]}" -qq install --download-only -y nodejs >/dev/null
mkdir -p "$root.partial"
for deb in "$apt"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$root.partial"; done
mv "$root.partial" "$root"
rm -rf "$apt"
echo "$root"
