#!/usr/bin/env bash
# Sourced by the other scripts: puts Node.js 22 first on PATH.
# These machines ship Node 20 (end of life); current @pulumi/pulumi and
# @kubernetes/client-node need 22, so an older Node gets Node 22 from the
# npm registry's `node` package, installed once into .toolchain/.
NODE_VERSION=22.23.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAIN="$ROOT/.toolchain"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$TOOLCHAIN/node_modules/.bin/node" ] ||
     [ "$("$TOOLCHAIN/node_modules/.bin/node" -v)" != "v$NODE_VERSION" ]; then
    echo "toolchain: machine Node is $(node -v 2>/dev/null || echo missing); installing Node $NODE_VERSION from the npm registry into .toolchain/" >&2
    mkdir -p "$TOOLCHAIN"
    npm install --prefix "$TOOLCHAIN" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >&2
  fi
  export PATH="$TOOLCHAIN/node_modules/.bin:$PATH"
  echo "toolchain: using Node $(node -v) from .toolchain/" >&2
fi
