#!/usr/bin/env bash
# Sets up everything the program and its tests need on a fresh machine: Node.js 22 (fetched
# from the npm registry when the machine's Node is older) and the exact npm dependencies of
# package-lock.json. Safe to run again: it skips what is already in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$ROOT"

stamp="node_modules/.package-lock.sha"
want="$(sha256sum package-lock.json | cut -d' ' -f1) $(node -v)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
