#!/usr/bin/env bash
# Sourced by every entry script: puts Node.js 24 LTS first on PATH. Node 20 reached its end of life on
# 2026-04-30; geojobs runs on 24. When the machine's node is older, the npm registry's node-linux-<arch>
# package (the official binary with include/node) is unpacked once into .tools/ and used instead, and
# native addons (gdal-async) are built against its headers through npm_config_nodedir. npm itself is the
# machine's: it is JavaScript and runs on whichever node comes first on PATH.
NODE_VERSION=24.22.3 # the LTS release geojobs is tested on; any 24.x works

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

use_node_24() {
  local repo_root arch dir tmp
  if (($(node_major) >= 24)); then return 0; fi
  repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "[node] ERROR: no Node.js 24 package for $(uname -m); install Node.js 24 yourself" >&2; return 1 ;;
  esac
  dir="$repo_root/.tools/node-v$NODE_VERSION-linux-$arch"
  if [[ ! -x "$dir/bin/node" ]]; then
    echo "[node] this machine's node is $(node --version 2>/dev/null || echo missing); fetching Node.js $NODE_VERSION from the npm registry"
    tmp="$(mktemp -d)"
    # npm pack checks the tarball against the registry's integrity hash
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null) || { rm -rf "$tmp"; return 1; }
    mkdir -p "$tmp/unpacked" && tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp/unpacked"
    mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/unpacked/package" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
  (($(node_major) >= 24)) || { echo "[node] ERROR: $dir/bin/node does not run" >&2; return 1; }
}

use_node_24
